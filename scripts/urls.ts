/**
 * The callback URLs in full, with the hook secret (the start-up banner shows it only on the start that
 * generated it):
 *   npm run urls
 * Reads the configuration and the store the way hookcord does (HOOK_SECRET, else the secret kept in the
 * store, generated and kept there if there is none yet), without starting the server; works while
 * hookcord runs. The output contains the secret: print it to a terminal, not to a log.
 */

import { ConfigError, loadConfig } from '../src/config.js';
import { callbackUrls, resolveHookSecret } from '../src/state/hook-secret.js';
import { openStore } from '../src/store/store.js';
import { PROVIDER_FACTS, PROVIDER_IDS } from '../src/vocabulary/providers.js';

async function main(): Promise<void> {
	const config = loadConfig();
	const store = await openStore(config.storeUrl);
	try {
		const { secret, generated } = await resolveHookSecret(config.hookSecret, store);
		const urls = callbackUrls(config.publicUrl, secret);
		// Which deployment's secret this is: a shared server holds one per prefix.
		process.stdout.write(`Store: ${store.description} (prefix: ${store.prefix})\n`);
		if (generated) process.stdout.write('A new hook secret was generated and kept in the store.\n');
		for (const provider of PROVIDER_IDS)
			process.stdout.write(`${PROVIDER_FACTS[provider].label.padEnd(8)} ${urls[provider]}\n`);
	} finally {
		await store.close();
	}
}

main().catch((error) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(error instanceof ConfigError ? 78 : 1);
});
