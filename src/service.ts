import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { COMMANDS } from '../commands/index.js';
import { buildApp } from './app.js';
import { createWooxyClient } from './clients/wooxy.js';
import type { Config } from './config.js';
import { routeTopics } from './delivery/destinations.js';
import { createOutbox } from './delivery/outbox.js';
import { createSender, REST } from './delivery/senders.js';
import { createWorker, type Worker } from './delivery/worker.js';
import { createDispatcher } from './discord/dispatch.js';
import { type Gateway, startGateway } from './discord/gateway.js';
import { AccountIndex } from './state/account-index.js';
import { createIngest } from './state/ingest.js';
import { KeyedLock } from './state/keyed-lock.js';
import { createProjector } from './state/projector.js';
import { openStore, pruneExpired, type Store } from './state/store.js';

export interface Service {
	app: FastifyInstance;
	store: Store;
	worker: Worker;
	gateway?: Gateway;
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
 * Wires the one-way flow: receiver ─▶ ingest (outbox + state) ─▶ worker ─▶ Discord, and the slash
 * commands (gateway and HTTP interactions) over the same state. Starts the worker on the backlog a
 * previous run left, then listens.
 */
export async function startService(
	config: Config,
	{ logger, print, now = Date.now }: ServiceOptions,
): Promise<Service> {
	const store = await openStore(config.storeUrl);
	const hookSecret = await resolveHookSecret(config, store);
	const accounts = await AccountIndex.load(store);
	const lock = new KeyedLock();
	const project = createProjector(store, lock, accounts);
	const outbox = createOutbox(store);
	const worker = createWorker({
		outbox,
		send: createSender({
			...(config.discord.token && { rest: createDeliveryRest(config).setToken(config.discord.token) }),
			...(print && { print }),
			timeoutMs: config.delivery.timeout,
		}),
		route: routeTopics(config),
		project,
		log: logger.child({ component: 'delivery' }),
		retrySchedule: config.delivery.retrySchedule,
		retryBudget: config.delivery.retryBudget,
		now,
	});
	const ingest = createIngest({
		outbox,
		project,
		store,
		lock,
		log: logger,
		notify: worker.enqueue,
		now,
	});

	const callbackUrls = {
		mofh: `${config.publicUrl}/hooks/mofh/${hookSecret}`,
		xolphin: `${config.publicUrl}/hooks/xolphin/${hookSecret}`,
		wooxy: `${config.publicUrl}/hooks/wooxy/${hookSecret}`,
	};
	const wooxy = createWooxyClient({
		apiUrl: config.wooxy.apiUrl,
		...(config.wooxy.apiToken && { token: config.wooxy.apiToken }),
	});
	// Interaction answers use the interaction token, not the bot token: this REST works in both modes.
	const interactionRest = new REST({ api: config.discord.apiUrl });
	if (config.discord.token) interactionRest.setToken(config.discord.token);
	const dispatch = createDispatcher(
		COMMANDS,
		{
			config,
			store,
			accounts,
			wooxy,
			outbox,
			worker,
			wooxyCallbackUrl: callbackUrls.wooxy,
			hookSecret,
			log: logger.child({ component: 'commands' }),
			now,
		},
		interactionRest,
	);
	const inFlight = new Set<Promise<unknown>>();
	const track = (work: Promise<unknown>) => {
		const settled = work.catch(() => {}).finally(() => inFlight.delete(settled));
		inFlight.add(settled);
	};

	const gateway = config.discord.token
		? startGateway({
				token: config.discord.token,
				apiUrl: config.discord.apiUrl,
				dispatch,
				track,
				log: logger.child({ component: 'gateway' }),
			})
		: undefined;
	const app = await buildApp({
		config,
		store,
		ingest,
		hookSecret,
		delivery: worker,
		logger,
		...(gateway && { discordReady: gateway.isReady }),
		...(config.discord.publicKey && {
			interactions: { publicKey: config.discord.publicKey, dispatch, track, now },
		}),
	});

	// Fingerprints of past callbacks expire after the providers' retry windows; SQL stores need a sweep.
	const pruning = setInterval(
		() =>
			void pruneExpired(store.seen).catch((error) =>
				logger.warn({ err: error }, 'could not prune expired fingerprints'),
			),
		3_600_000,
	);
	pruning.unref();

	if (config.delivery.enabled) await worker.start();
	else
		logger.info('DELIVERY=off: this instance only receives; another instance delivers from the shared store');
	await app.listen({ host: config.host, port: config.port });
	const port = (app.server.address() as { port: number }).port;
	const address = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
	return {
		app,
		store,
		worker,
		...(gateway && { gateway }),
		hookSecret,
		address,
		callbackUrls,
		async close() {
			clearInterval(pruning);
			await app.close();
			await Promise.allSettled([...inFlight]);
			await gateway?.close();
			await worker.stop();
			await wooxy.close();
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
		timeout: config.delivery.timeout,
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
