import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { routeTopics } from './delivery/destinations.js';
import { createOutbox } from './delivery/outbox.js';
import { createSender, REST } from './delivery/senders.js';
import { createWorker, type Worker } from './delivery/worker.js';
import { createIngest } from './state/ingest.js';
import { KeyedLock } from './state/keyed-lock.js';
import { createProjector } from './state/projector.js';
import { openStore, type Store } from './state/store.js';

export interface Service {
	app: FastifyInstance;
	store: Store;
	worker: Worker;
	hookSecret: string;
	/** The receiver's address once listening, e.g. http://127.0.0.1:3000. */
	address: string;
	callbackUrls: { mofh: string; xolphin: string; wooxy: string };
	/** Stop accepting, finish what is in flight, close the store. */
	close(): Promise<void>;
}

export interface ServiceOptions {
	logger: FastifyBaseLogger;
	/** Where dry-run alerts go (stdout by default). */
	print?: (text: string) => void;
	now?: () => number;
}

/**
 * Wires the one-way flow: receiver ─▶ ingest (outbox + state) ─▶ worker ─▶ Discord. Starts the worker
 * on the backlog a previous run left, then listens.
 */
export async function startService(config: Config, { logger, print, now }: ServiceOptions): Promise<Service> {
	const store = await openStore(config.storeUrl);
	const hookSecret = await resolveHookSecret(config, store);
	const project = createProjector(store, new KeyedLock());
	const outbox = createOutbox(store);
	const rest = config.discord.token ? createDeliveryRest(config).setToken(config.discord.token) : undefined;
	const worker = createWorker({
		outbox,
		send: createSender({ rest, ...(print && { print }) }),
		route: routeTopics(config),
		project,
		log: logger.child({ component: 'delivery' }),
		retrySchedule: config.delivery.retrySchedule,
		retryBudget: config.delivery.retryBudget,
		...(now && { now }),
	});
	const ingest = createIngest({ outbox, project, log: logger, notify: worker.enqueue, ...(now && { now }) });
	const app = await buildApp({ config, store, ingest, hookSecret, delivery: worker, logger });

	await worker.start();
	await app.listen({ host: config.host, port: config.port });
	const port = (app.server.address() as { port: number }).port;
	const address = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
	const base = config.publicUrl;
	return {
		app,
		store,
		worker,
		hookSecret,
		address,
		callbackUrls: {
			mofh: `${base}/hooks/mofh/${hookSecret}`,
			xolphin: `${base}/hooks/xolphin/${hookSecret}`,
			wooxy: `${base}/hooks/wooxy/${hookSecret}`,
		},
		async close() {
			await app.close();
			await worker.stop();
			await store.close();
		},
	};
}

/**
 * Delivery's own REST client: no automatic retries (the outbox retries with backoff, same nonce), and a
 * rate-limit wait longer than RATE_LIMIT_MAX_WAIT is handed back to the outbox instead of blocking.
 */
function createDeliveryRest(config: Config): REST {
	return new REST({
		api: config.discord.apiUrl,
		retries: 0,
		timeout: 10_000,
		rejectOnRateLimit: (info) => info.timeToReset > config.delivery.maxRateLimitWait,
	});
}

/** HOOK_SECRET from the environment, else the one generated on the first start and kept in the store. */
async function resolveHookSecret(config: Config, store: Store): Promise<string> {
	if (config.hookSecret) return config.hookSecret;
	const kept = (await store.meta.get('hookSecret')) as string | undefined;
	if (kept) return kept;
	const secret = randomBytes(24).toString('base64url');
	await store.meta.set('hookSecret', secret);
	return secret;
}
