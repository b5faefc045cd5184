/**
 * Forwarding for operators in a shell (the same as `/forwards status` and the OPS message's buttons):
 *   npm run forwards -- status
 *   npm run forwards -- resend <target>    send the callback a paused target stopped at again
 *   npm run forwards -- skip <target>      skip it: the target never gets it from hookcord
 * <target> is as `status` shows it (scheme, host and path; `mofh:` first when one URL serves two
 * providers) or its key. Works on the store named by STORE_URL, also while hookcord runs: the decision is
 * recorded once (the first taken, here or in Discord), and the forwarding leader carries it out within
 * about 2 s, or at its next start.
 */

import { ConfigError, loadConfig } from '../src/config.js';
import { findTarget, readForwardStatus } from '../src/delivery/forward/status.js';
import { renderForwardStatus } from '../src/render/forwards.js';
import { embedToText } from '../src/render/plain.js';
import { createForwards } from '../src/state/forwards.js';
import { openStore } from '../src/store/store.js';

const USAGE = 'usage: npm run forwards -- status | resend <target> | skip <target>';

async function main(): Promise<void> {
	const [action, name] = process.argv.slice(2);
	if (action !== 'status' && action !== 'resend' && action !== 'skip') throw new ConfigError(USAGE);
	const config = loadConfig();
	const targets = config.forward.targets;
	if (action !== 'status' && !name)
		throw new ConfigError(`${action} needs a target as \`status\` shows it\n${USAGE}`);
	const store = await openStore(config.storeUrl);
	try {
		const forwards = createForwards(store);
		if (action === 'status') {
			const rows = await readForwardStatus(forwards, targets, Date.now());
			process.stdout.write(`${embedToText(renderForwardStatus(rows, Date.now()))}\n`);
			return;
		}
		const { target, matches } = findTarget(targets, name as string);
		if (!target) {
			process.stderr.write(
				matches > 1
					? `"${name}" names ${matches} targets: put the provider first (mofh:…) or use the key from \`status\`.\n`
					: `No forward target "${name}"; \`npm run forwards -- status\` lists them.\n`,
			);
			process.exitCode = 1;
			return;
		}
		const paused = (await forwards.state(target.key)).paused;
		if (!paused) {
			process.stdout.write(`${target.shown} is not paused: nothing to decide.\n`);
			process.exitCode = 1;
			return;
		}
		const { recorded, decision } = await forwards.decide(target.key, paused.id, {
			decision: action,
			by: 'shell (npm run forwards)',
			at: Date.now(),
		});
		const what = (choice: string) => (choice === 'skip' ? 'skip' : 'send again');
		process.stdout.write(
			recorded
				? `Recorded: ${what(action)} event ${paused.eventId} (${paused.event.kind}${paused.event.account ? ` for ${paused.event.account}` : ''}) to ${target.shown}. hookcord carries it out within a few seconds, or at its next start.\n`
				: `Already decided: ${what(decision.decision)}, by ${decision.by} at ${new Date(decision.at).toISOString()}.\n`,
		);
		if (!recorded) process.exitCode = 1;
	} finally {
		await store.close();
	}
}

main().catch((error) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(error instanceof ConfigError ? 64 : 1);
});
