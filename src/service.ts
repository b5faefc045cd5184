import { hostname } from 'node:os';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { routeTopics } from './delivery/destinations.js';
import {
	fenceSend,
	type Leadership,
	type LeadershipOptions,
	type LeadershipStatus,
	startLeadership,
} from './delivery/leadership.js';
import { createSender, type Send } from './delivery/senders.js';
import { createWorker, type Worker, type WorkerOptions } from './delivery/worker.js';
import type { Dispatch } from './interactions/dispatch.js';
import type { Gateway } from './interactions/gateway.js';
import { AccountIndex } from './state/account-index.js';
import { resolveHookSecret, callbackUrls as urlsFor } from './state/hook-secret.js';
import { createIngest, type Ingest } from './state/ingest.js';
import { KeyedLock } from './state/keyed-lock.js';
import { type Lease, openLease } from './state/lease.js';
import { createOnce } from './state/once.js';
import { createOutbox, type Outbox } from './state/outbox.js';
import { createProjector } from './state/projector.js';
import { openStore, pruneExpired, type Store } from './state/store.js';

/** Everything one hookcord process is made of, wired, not yet listening or delivering. */
export interface Services {
	app: FastifyInstance;
	store: Store;
	outbox: Outbox;
	ingest: Ingest;
	/** The delivery worker. On a shared store it runs only while this instance holds the delivery lease. */
	worker: Worker;
	/** The gateway session, while this instance leads and has a bot token. */
	readonly gateway?: Gateway | undefined;
	leadership(): LeadershipStatus;
	hookSecret: string;
	/** Generated at this start (not configured, not kept from an earlier start). */
	hookSecretGenerated: boolean;
	callbackUrls: { mofh: string; xolphin: string; wooxy: string };
	/**
	 * Takes part in leadership (DELIVERY=on): the instance holding the lease runs the worker, from the
	 * backlog a previous leader left, and the gateway session. Resolves after the first try for the lease.
	 */
	lead(): Promise<void>;
	/** Stop accepting, finish what is in flight, hand leadership over, close what was opened here. */
	close(): Promise<void>;
}

export interface Service extends Services {
	/** The receiver's address once listening, e.g. http://127.0.0.1:3000. */
	address: string;
}

export interface ServiceOptions {
	logger: FastifyBaseLogger;
	/** Where dry-run alerts go (stdout by default). */
	print?: (text: string) => void;
	/** The one clock of the process: receipt times, retry and pause times, signature freshness. */
	now?: () => number;
}

/** What tests change about a process: its store, its Discord side, its timings. */
export interface ComposeOptions extends ServiceOptions {
	/** An open store to use and leave open (tests run several "processes" on one store). */
	store?: Store;
	/** Replaces the sender to Discord (tests record what would be posted). */
	send?: Send;
	/** Delivery settings tests change (timings, pacing, paging, routes). */
	delivery?: Partial<Omit<WorkerOptions, 'outbox' | 'send' | 'log' | 'now'>>;
	/** Replaces the slash commands behind the gateway and `POST /interactions`. */
	dispatch?: Dispatch;
	/** Log into the Discord gateway when a bot token is set (default true). */
	gateway?: boolean;
	/**
	 * Use the delivery lease (default true). Tests that start the worker themselves, as several
	 * "processes" on one store, turn it off.
	 */
	lease?: boolean;
}

/**
 * Wires the one-way flow: receiver ─▶ ingest (outbox + state) ─▶ worker ─▶ Discord, and the slash
 * commands (gateway and HTTP interactions) over the same state. The one place the object graph is built:
 * `startService` and the tests use it alike. Every instance receives and answers HTTP interactions.
 */
export async function composeServices(config: Config, options: ComposeOptions): Promise<Services> {
	const { logger, print, now = Date.now } = options;
	const store = options.store ?? (await openStore(config.storeUrl));
	const instanceId = config.instanceId ?? `${hostname()}:${process.pid}`;
	const { secret: hookSecret, generated: hookSecretGenerated } = await resolveHookSecret(
		config.hookSecret,
		store,
	);
	const accounts = await AccountIndex.load(store);
	const lock = new KeyedLock();
	const project = createProjector(store, lock, accounts);
	const outbox = createOutbox(store, now);
	const lease =
		config.delivery.enabled && options.lease !== false
			? await openLease(store, config.storeUrl, {
					instanceId,
					ttlMs: config.delivery.leaderLease,
					warn: (message) => logger.warn(message),
				})
			: undefined;
	// discord.js REST loads only with a bot token: a dry run or a receiver never needs it.
	const channel =
		config.discord.token && !options.send
			? (await import('./delivery/channel.js')).createChannelPoster({
					apiUrl: config.discord.apiUrl,
					token: config.discord.token,
					timeoutMs: config.delivery.timeout,
					maxRateLimitWaitMs: config.delivery.maxRateLimitWait,
					...(lease && { lease }),
				})
			: undefined;
	const send =
		options.send ??
		createSender({
			...(channel && { channel }),
			...(print && { print }),
			timeoutMs: config.delivery.timeout,
		});
	// Fencing: every send checks the lease first (and a channel post again as it goes on the wire), and
	// every outbox bookkeeping write is conditional on it in the store, so a leader that lost it (a long
	// pause, a partition) stops before another starts and cannot write over the next one's work.
	const newWorker = () =>
		createWorker({
			outbox: lease ? createOutbox(store, now, lease.commit) : outbox,
			send: lease ? fenceSend(lease, send) : send,
			route: routeTopics(config),
			log: logger.child({ component: 'delivery' }),
			retrySchedule: config.delivery.retrySchedule,
			retryBudget: config.delivery.retryBudget,
			rate: config.delivery.rate,
			digestThreshold: config.delivery.digestThreshold,
			sweepMs: config.delivery.sweep,
			...options.delivery,
			now,
		});
	// Each leadership term gets a worker of its own, started from the store; without a lease there is one.
	let term: Worker | undefined = lease ? undefined : newWorker();
	const worker: Worker = {
		enqueue: (entry) => term?.enqueue(entry),
		status: () => term?.status() ?? { pending: 0, inOutbox: 0, delivered: 0, deadLettered: 0, paused: [] },
		idle: (timeoutMs) => term?.idle(timeoutMs) ?? Promise.resolve(),
		start: () => {
			term ??= newWorker();
			return term.start();
		},
		stop: async () => {
			await term?.stop();
		},
	};
	const forwardTargets = config.forward.targets;
	const ingest = createIngest({
		project,
		store,
		lock,
		// A worker that is not running (a follower, DELIVERY=off) ignores it: the leader sweeps the outbox.
		notify: worker.enqueue,
		forwardTo: (provider) =>
			forwardTargets.filter((target) => target.provider === provider).map((target) => target.key),
		now,
	});

	const callbackUrls = urlsFor(config.publicUrl, hookSecret);
	// The commands load only where Discord can send interactions (see commands/index.ts).
	const commands = options.dispatch
		? { dispatch: options.dispatch, close: async () => {} }
		: config.discord.publicKey || config.discord.token
			? (await import('../commands/index.js')).createStaffCommands(
					config,
					{ store, accounts, ingest, lock, outbox, worker, callbackUrl: callbackUrls.wooxy, hookSecret },
					logger,
				)
			: undefined;
	const inFlight = new Set<Promise<unknown>>();
	const track = (work: Promise<unknown>) => {
		const settled = work.catch(() => {}).finally(() => inFlight.delete(settled));
		inFlight.add(settled);
	};

	let gateway: Gateway | undefined;
	const token = options.gateway === false ? undefined : config.discord.token;
	let leadership: Leadership | undefined;
	const leadershipOptions = (held: Lease): LeadershipOptions => ({
		lease: held,
		renewMs: config.delivery.leaderLease / 3,
		duties: token ? 'it delivers alerts and holds the Discord gateway session' : 'it delivers alerts',
		log: logger.child({ component: 'leadership' }),
		// The gateway session lives as long as the term: one session across all instances.
		async onElected() {
			if (token && commands) {
				// discord.js (tens of MiB resident) loads only in a process that holds the gateway session.
				const { startGateway } = await import('./interactions/gateway.js');
				gateway = startGateway({
					token,
					apiUrl: config.discord.apiUrl,
					dispatch: commands.dispatch,
					track,
					log: logger.child({ component: 'gateway' }),
				});
			}
			term = newWorker();
			await term.start();
		},
		async onDeposed() {
			const [stopping, closing] = [term, gateway];
			term = undefined;
			gateway = undefined;
			await Promise.all([stopping?.stop(), closing?.close()]);
		},
	});
	const leadershipStatus = (): LeadershipStatus =>
		leadership?.status() ?? { instance: instanceId, role: lease ? 'follower' : 'receiver' };
	const app = await buildApp({
		config,
		store,
		ingest,
		hookSecret,
		delivery: worker,
		leadership: leadershipStatus,
		logger,
		now,
		// Only the leader holds a gateway session; a follower is ready without one.
		...(token && { discordReady: () => !leadership?.isLeader() || gateway?.isReady() === true }),
		...(config.discord.publicKey &&
			commands && {
				interactions: {
					publicKey: config.discord.publicKey,
					dispatch: commands.dispatch,
					track,
					once: createOnce(store, lock),
					now,
				},
			}),
	});
	return {
		app,
		store,
		outbox,
		ingest,
		worker,
		get gateway() {
			return gateway;
		},
		leadership: leadershipStatus,
		hookSecret,
		hookSecretGenerated,
		callbackUrls,
		async lead() {
			if (lease) {
				leadership = startLeadership(leadershipOptions(lease));
				await leadership.started;
			} else
				logger.info(
					{ instance: instanceId },
					'DELIVERY=off: this instance only receives callbacks and answers HTTP interactions; it never delivers or opens the gateway',
				);
		},
		async close() {
			await app.close();
			await Promise.allSettled([...inFlight]);
			// Stops delivery and the gateway, then releases the lease: a follower takes over at its next try.
			await leadership?.stop();
			await worker.stop();
			await commands?.close();
			if (!options.store) await store.close();
		},
	};
}

/** Composes the process, takes part in leadership, then listens. */
export async function startService(config: Config, options: ServiceOptions): Promise<Service> {
	const services = await composeServices(config, options);
	const { app, store } = services;
	// What expires (fingerprints of past callbacks after the providers' retry windows, confirmations staff
	// never pressed) stays in SQL tables until read: an hourly sweep removes it.
	const pruning = setInterval(() => {
		for (const collection of [store.seen, store.actions])
			void pruneExpired(collection).catch((error) =>
				options.logger.warn({ err: error }, 'could not prune expired entries'),
			);
	}, 3_600_000);
	pruning.unref();
	await services.lead();
	await app.listen({ host: config.host, port: config.port });
	const port = (app.server.address() as { port: number }).port;
	const address = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
	// Onto the same object: a copy would read the live `gateway` getter once.
	const close = services.close;
	return Object.assign(services, {
		address,
		async close() {
			clearInterval(pruning);
			await close();
		},
	});
}
