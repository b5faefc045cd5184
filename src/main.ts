import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startService } from './service.js';
import { callbackUrls } from './state/hook-secret.js';
import { StoreConfigError } from './store/url.js';
import { PROVIDER_FACTS, PROVIDER_IDS } from './vocabulary/providers.js';

/** Process edge: configuration, start-up banner, signals. Everything else is in service.ts. */
async function main(): Promise<void> {
	let config: ReturnType<typeof loadConfig>;
	try {
		config = loadConfig();
	} catch (error) {
		if (error instanceof ConfigError) {
			process.stderr.write(`${error.message}\nSee .env.example for every variable.\n`);
			process.exit(78);
		}
		throw error;
	}
	const logger = createLogger(config.logLevel);
	process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
	// After an exception nothing caught, the process state is unknown: record it and stop, so a supervisor
	// restarts a clean process (alerts wait in the store's outbox). Logs are asynchronous: flush first.
	process.on('uncaughtException', (error) => {
		logger.fatal({ err: error }, 'uncaught exception: exiting');
		logger.flush(() => process.exit(70));
		setTimeout(() => process.exit(70), 2_000).unref();
	});

	const service = await startService(config, { logger }).catch((error) => {
		if (error instanceof StoreConfigError) {
			process.stderr.write(`${error.message}\n`);
			process.exit(78);
		}
		logger.fatal({ err: error }, 'start-up failed');
		process.exit(1);
	});

	const out = (line = '') => process.stdout.write(`${line}\n`);
	out(
		`hookcord is listening on ${service.address} (store: ${service.store.description}) (prefix: ${service.store.prefix})`,
	);
	// stdout is a log in production (journald, container logs): the secret is shown in full only on the
	// start that generated it, when the operator must copy it; `npm run urls` shows it again on demand.
	const urls = service.hookSecretGenerated
		? service.callbackUrls
		: callbackUrls(config.publicUrl, '[secret]');
	out(
		service.hookSecretGenerated
			? 'Callback URLs — a new hook secret was generated and is shown only now (`npm run urls` shows it again); paste each into its provider:'
			: 'Callback URLs (hook secret hidden; `npm run urls` prints them in full):',
	);
	for (const provider of PROVIDER_IDS) {
		const { label, setupHint } = PROVIDER_FACTS[provider];
		out(`  ${label.padEnd(8)} ${setupHint.padEnd(58)} ${urls[provider]}`);
	}
	out(
		config.discord.token
			? `Alerts: delivered to Discord (${config.discord.apiUrl})`
			: 'Alerts: dry run, printed below (set DISCORD_TOKEN and ALERTS_CHANNEL to post to Discord)',
	);
	out();

	let stopping = false;
	const stop = async (signal: string) => {
		if (stopping) return;
		stopping = true;
		logger.info(`${signal}: finishing in-flight work`);
		const force = setTimeout(() => {
			logger.error('shutdown took longer than 20 s; exiting');
			process.exit(1);
		}, 20_000);
		force.unref();
		await service.close();
		logger.info('stopped');
		logger.flush();
		process.exit(0);
	};
	process.on('SIGTERM', () => void stop('SIGTERM'));
	process.on('SIGINT', () => void stop('SIGINT'));
}

void main();
