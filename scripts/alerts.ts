/**
 * Failed deliveries for operators without Discord access (the same as `/alerts failed|replay`):
 *   npm run alerts -- failed
 *   npm run alerts -- replay <event id | all>
 * Works on the store named by STORE_URL, also while hookcord runs: a replayed alert goes back to the
 * outbox, and the running instance picks it up within its next outbox sweep (15 s).
 */

import { ConfigError, loadConfig } from '../src/config.js';
import { embedToText } from '../src/render/plain.js';
import { renderFailed } from '../src/render/state.js';
import { createOutbox } from '../src/state/outbox.js';
import { openStore } from '../src/store/store.js';

async function main(): Promise<void> {
	const [action, id] = process.argv.slice(2);
	if (action !== 'failed' && action !== 'replay') {
		throw new ConfigError('usage: npm run alerts -- failed | npm run alerts -- replay <event id | all>');
	}
	const store = await openStore(loadConfig().storeUrl);
	try {
		const outbox = createOutbox(store);
		const failed = await outbox.listFailed();
		if (action === 'failed') {
			process.stdout.write(`${embedToText(renderFailed(failed))}\n`);
			return;
		}
		if (!id) throw new ConfigError('replay needs an event id from `npm run alerts -- failed`, or "all"');
		const ids = id === 'all' ? failed.map((entry) => entry.event.id) : [id];
		const replayed = await outbox.replay(ids);
		process.stdout.write(
			replayed.length
				? `Moved ${replayed.length} alert(s) back to the outbox; hookcord sends them within 15 s (or at its next start).\n`
				: `No failed delivery with id ${id}.\n`,
		);
		if (!replayed.length) process.exitCode = 1;
	} finally {
		await store.close();
	}
}

main().catch((error) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(error instanceof ConfigError ? 64 : 1);
});
