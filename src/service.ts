import { hostname } from 'node:os';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { type After, type Clock, realAfter } from './clock.js';
import type { Config } from './config.js';
import type { Kinds } from './delivery/kind.js';
import { type Leadership, type LeadershipStatus, startLeadership } from './delivery/leadership.js';
import type { Send } from './delivery/message.js';
import {
	createDeliveryTerm,
	type Delivery,
	type DeliverySettings,
	type DeliveryTerm,
	type Duty,
} from './delivery/term.js';
import { topicOf } from './events/event.js';
import type { Dispatch } from './interactions/dispatch.js';
import type { Gateway } from './interactions/gateway.js';
import { createForwardWatch, type ForwardWatchDeps } from './jobs/forward-watch.js';
import { createJobs } from './jobs/index.js';
import type { Job } from './jobs/job.js';
import type { ReportJobDeps } from './jobs/report.js';
import { createJobRunner, type JobRunner } from './jobs/runner.js';
import { meterKinds } from './metrics/instrument.js';
import type { Metrics } from './metrics/metrics.js';
import { AccountIndex } from './state/account-index.js';
import { readBacklog } from './state/backlog.js';
import { createForwards, forwardDestination } from './state/forwards.js';
import { type CallbackUrls, resolveHookSecret, callbackUrls as urlsFor } from './state/hook-secret.js';
import { createIngest, type Ingest } from './state/ingest.js';
import { KeyedLock } from './state/keyed-lock.js';
import { createOnce } from './state/once.js';
import { createOutbox, type InFlightRecord, type Outbox } from './state/outbox.js';
import { createProjector } from './state/projector.js';
import { openLease } from './store/lease.js';
import { openStore, type Store } from './store/store.js';
import { hookcordVersion } from './version.js';

/** Everything one hookcord process is made of, wired, not yet listening or delivering. */
export interface Services {
	app: FastifyInstance;
	store: Store;
	outbox: Outbox;
	ingest: Ingest;
	/** The delivery worker. On a shared store it runs only while this instance holds the delivery lease. */
	worker: Delivery;
	/** The gateway session, while this instance leads and has a bot token. */
	readonly gateway?: Gateway | undefined;
	leadership(): LeadershipStatus;
	/** Prometheus metrics, when METRICS_PORT is set (or a test passed them). */
	metrics?: Metrics;
	hookSecret: string;
	/** Generated at this start (not configured, not kept from an earlier start). */
	hookSecretGenerated: boolean;
	callbackUrls: CallbackUrls;
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
	/** Where `GET /metrics` answers, when METRICS_PORT is set. */
	metricsAddress?: string;
}

export interface ServiceOptions {
	logger: FastifyBaseLogger;
	/** Where dry-run alerts go (stdout by default). */
	print?: (text: string) => void;
	/** The one clock of the process: receipt times, retry and pause times, signature freshness, jobs. */
	now?: () => number;
	/** The same clock's timers. */
	after?: After;
}

/** What tests change about a process: its store, its Discord side, its timings. */
export interface ComposeOptions extends ServiceOptions {
	/** An open store to use and leave open (tests run several "processes" on one store). */
	store?: Store;
	/** Replaces the sender to Discord (tests record what would be posted). */
	send?: Send;
	/** Delivery settings tests change (timings, pacing, paging, routes). */
	delivery?: DeliverySettings;
	/** Metrics to record into (tests read them); by default created when METRICS_PORT is set. */
	metrics?: Metrics;
	/** Replaces the slash commands behind the gateway and `POST /interactions`. */
	dispatch?: Dispatch;
	/** Log into the Discord gateway when a bot token is set (default true). */
	gateway?: boolean;
	/** Forwarding timings tests change (how often the leader looks at its targets). */
	forward?: Pick<ForwardWatchDeps, 'everyMs' | 'failingAfterMs' | 'countEveryMs'>;
	/**
	 * Use the delivery lease (default true). Tests that start the worker themselves, as several
	 * "processes" on one store, turn it off.
	 */
	lease?: boolean;
}

/**
 * Wires the one-way flow: receiver ─▶ ingest (outbox + state) ─▶ worker ─▶ Discord, the slash commands
 * (gateway and HTTP interactions) over the same state, and the scheduled jobs. The one place the object
 * graph is built: `startService` and the tests use it alike. Every instance receives and answers HTTP
 * interactions.
 */
export async function composeServices(config: Config, options: ComposeOptions): Promise<Services> {
	const { logger } = options;
	const clock = { now: options.now ?? Date.now, after: options.after ?? realAfter };
	const state = await openState(config, options);
	const { store, lock } = state;
	const instanceId = config.instanceId ?? `${hostname()}:${process.pid}`;
	const lease = await leaseFor(config, options, store, instanceId);
	// prom-client loads only in a process that serves metrics.
	const metrics =
		options.metrics ??
		(config.metrics
			? (await import('./metrics/metrics.js')).createMetrics({
					version: hookcordVersion(),
					now: clock.now,
					forwardTargets: config.forward.targets.map(({ key, provider }) => ({ target: key, provider })),
				})
			: undefined);
	const io = {
		logger,
		send: options.send,
		print: options.print,
		settings: options.delivery,
		...(metrics && { observe: (kinds: Kinds) => meterKinds(kinds, metrics) }),
	};
	const delivery = await createDeliveryTerm({ config, store, outbox: state.outbox, lease, clock, ...io });
	const { worker, route } = delivery;
	const ingest = createIngest({
		...state,
		// Forward targets get callbacks as they arrived, added by ingest with the arrival (forwardTo).
		route: (event) =>
			route(topicOf(event))
				.filter((destination) => destination.kind !== 'forward')
				.map((destination) => destination.key),
		forwardTo: (provider) =>
			config.forward.targets.filter((target) => target.provider === provider).map((target) => target.key),
		// A worker that is not running (a follower, DELIVERY=off) ignores it: the leader sweeps the outbox.
		notify: worker.enqueue,
		now: clock.now,
	});
	const callbackUrls = urlsFor(config.publicUrl, state.hookSecret);
	const callbackUrl = callbackUrls.wooxy;
	const forwardWatch =
		config.forward.targets.length > 0
			? createForwardWatch({
					config,
					store,
					worker,
					health: delivery.forwardHealth,
					postOps: delivery.postOps,
					now: clock.now,
					log: logger.child({ component: 'forwarding' }),
					// Without a lease (DELIVERY=on alone, or a test's own worker) this instance delivers.
					leading: () => (leadership ? leadership.isLeader() : config.delivery.enabled),
					...options.forward,
				})
			: undefined;
	const commands = await loadCommands(config, options, {
		...state,
		ingest,
		worker,
		callbackUrl,
		forwards: createForwards(store),
		forwardTargets: config.forward.targets,
		now: clock.now,
		metrics,
	});
	const jobs = startJobs(config, options, {
		store,
		ingest,
		delivery,
		commands: !!commands,
		clock,
		metrics,
		...(forwardWatch && { forwardWatch: forwardWatch.job }),
	});
	const { track, settled } = inFlightWork();
	const token = options.gateway === false ? undefined : config.discord.token;
	const session = gatewaySession(config, token, commands?.dispatch, track, logger);
	let leadership: Leadership | undefined;
	const leadershipStatus = (): LeadershipStatus =>
		leadership?.status() ?? { instance: instanceId, role: lease ? 'follower' : 'receiver' };
	metrics?.watch({
		// Without a lease (one process, DELIVERY=on) this process is the only one delivering.
		leader: () => (lease ? leadership?.isLeader() === true : config.delivery.enabled),
		outbox: () => readBacklog(store, clock.now()),
	});
	// A forward target is a destination: held (paused for staff) in the worker, its backlog in the outbox.
	metrics?.watchForwards((backlog) => {
		const held = new Set((worker.status().held ?? []).map((hold) => hold.destination));
		return config.forward.targets.map(({ key, provider }) => ({
			target: key,
			provider,
			paused: held.has(forwardDestination(key)),
			backlog: backlog?.byDestination[forwardDestination(key)] ?? 0,
		}));
	});
	const { publicKey } = config.discord;
	const once = createOnce(store, lock);
	const app = await buildApp({
		config,
		store,
		ingest,
		hookSecret: state.hookSecret,
		delivery: worker,
		...(forwardWatch && {
			forwards: () =>
				forwardWatch.snapshot() ??
				config.forward.targets.map((target) => ({
					target: target.shown,
					provider: target.provider,
					state: 'forwarded by the leader',
				})),
		}),
		leadership: leadershipStatus,
		logger,
		now: clock.now,
		...(metrics && { metrics }),
		// Only the leader holds a gateway session; a follower is ready without one.
		...(token && { discordReady: () => !leadership?.isLeader() || session.gateway()?.isReady() === true }),
		...(publicKey &&
			commands && { interactions: { publicKey, dispatch: commands.dispatch, track, once, now: clock.now } }),
	});
	return {
		app,
		store,
		outbox: state.outbox,
		ingest,
		worker,
		get gateway() {
			return session.gateway();
		},
		leadership: leadershipStatus,
		...(metrics && { metrics }),
		hookSecret: state.hookSecret,
		hookSecretGenerated: state.hookSecretGenerated,
		callbackUrls,
		async lead() {
			if (lease) {
				leadership = startLeadership(delivery.leadership(lease, session));
				await leadership.started;
			} else
				logger.info(
					{ instance: instanceId },
					'DELIVERY=off: this instance only receives callbacks and answers HTTP interactions; it never delivers or opens the gateway',
				);
		},
		async close() {
			await app.close();
			await settled();
			// Stops delivery and the gateway, then releases the lease: a follower takes over at its next try.
			await leadership?.stop();
			await worker.stop();
			await jobs.stop();
			await commands?.close();
			if (!options.store) await store.close();
		},
	};
}

/**
 * The scheduled jobs on the process's one clock: every instance's start now, leader-only ones while
 * this instance delivers.
 */
function startJobs(
	config: Config,
	options: ComposeOptions,
	deps: {
		store: Store;
		ingest: Ingest;
		delivery: DeliveryTerm;
		commands: boolean;
		clock: Clock;
		forwardWatch?: Job;
		metrics: Metrics | undefined;
	},
): JobRunner {
	const { store, ingest, delivery, clock } = deps;
	const log = options.logger.child({ component: 'jobs' });
	const jobs = createJobRunner({
		jobs: createJobs({
			store,
			ingest,
			worker: delivery.worker,
			sweepMs: options.delivery?.sweepMs ?? config.delivery.sweep,
			// A test's own dispatcher stands in for the commands: nothing of theirs to check.
			commands: deps.commands && !options.dispatch,
			now: clock.now,
			log,
			...(deps.forwardWatch && { forwardWatch: deps.forwardWatch }),
			report: reportDeps(config, { ...deps, logger: options.logger }),
		}),
		clock,
		log,
	});
	delivery.whileDelivering({ start: jobs.startLeading, stop: jobs.stopLeading });
	jobs.start();
	return jobs;
}

/** The delivery lease, when this instance takes part in leadership (DELIVERY=on). */
async function leaseFor(config: Config, options: ComposeOptions, store: Store, instanceId: string) {
	if (!config.delivery.enabled || options.lease === false) return undefined;
	return openLease(store, {
		instanceId,
		ttlMs: config.delivery.leaderLease,
		warn: (message) => options.logger.warn(message),
	});
}

/** Interactions being answered, so a close lets them finish. */
function inFlightWork() {
	const inFlight = new Set<Promise<unknown>>();
	return {
		track(work: Promise<unknown>): void {
			const settled = work.catch(() => {}).finally(() => inFlight.delete(settled));
			inFlight.add(settled);
		},
		settled: () => Promise.allSettled([...inFlight]),
	};
}

/** The store and the state over it: hook secret, account index, projections, outbox. */
async function openState(config: Config, options: ComposeOptions) {
	const store = options.store ?? (await openStore(config.storeUrl));
	const { secret: hookSecret, generated: hookSecretGenerated } = await resolveHookSecret(
		config.hookSecret,
		store,
	);
	const accounts = await AccountIndex.load(store);
	const lock = new KeyedLock();
	const project = createProjector(store, lock, accounts);
	const outbox = createOutbox(store, options.now ?? Date.now);
	return { store, hookSecret, hookSecretGenerated, accounts, lock, project, outbox };
}

/** The commands load only where Discord can send interactions (see commands/index.ts). */
async function loadCommands(
	config: Config,
	options: ComposeOptions,
	deps: Parameters<typeof import('../commands/index.js').createStaffCommands>[1],
) {
	if (options.dispatch) return { dispatch: options.dispatch, close: async () => {} };
	if (!config.discord.publicKey && !config.discord.token) return undefined;
	return (await import('../commands/index.js')).createStaffCommands(config, deps, options.logger);
}

/** The gateway session a leader holds while it leads, when there is a token and commands to answer. */
function gatewaySession(
	config: Config,
	token: string | undefined,
	dispatch: Dispatch | undefined,
	track: (work: Promise<unknown>) => void,
	logger: FastifyBaseLogger,
): Duty & { describe: string; gateway(): Gateway | undefined } {
	let gateway: Gateway | undefined;
	return {
		describe: token ? 'it delivers alerts and holds the Discord gateway session' : 'it delivers alerts',
		gateway: () => gateway,
		async start() {
			if (!token || !dispatch) return;
			// discord.js (tens of MiB resident) loads only in a process that holds the gateway session.
			const { startGateway } = await import('./interactions/gateway.js');
			gateway = startGateway({
				token,
				apiUrl: config.discord.apiUrl,
				dispatch,
				track,
				log: logger.child({ component: 'gateway' }),
			});
		},
		async stop() {
			const closing = gateway;
			gateway = undefined;
			await closing?.close();
		},
	};
}

/** Composes the process, takes part in leadership, then listens. */
export async function startService(config: Config, options: ServiceOptions): Promise<Service> {
	const services = await composeServices(config, options);
	const { app } = services;
	await services.lead();
	await app.listen({ host: config.host, port: config.port });
	const port = (app.server.address() as { port: number }).port;
	const address = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
	const metricsServer =
		services.metrics && config.metrics
			? await (await import('./metrics/server.js')).startMetricsServer(
					services.metrics,
					config.metrics,
					options.logger,
				)
			: undefined;
	// Onto the same object: a copy would read the live `gateway` getter once.
	const close = services.close;
	return Object.assign(services, {
		address,
		...(metricsServer && { metricsAddress: metricsServer.address }),
		async close() {
			await metricsServer?.server.close();
			await close();
		},
	});
}

/** The kinds whose send takes a composed Discord message: where the report can go. */
const MESSAGE_KINDS = new Set(['channel', 'webhook', 'stdout']);

/** What the periodic report needs (REPORT_SCHEDULE): the OPS destinations, their send, the health. */
function reportDeps(
	config: Config,
	{
		store,
		delivery,
		metrics,
		clock,
		logger,
	}: {
		store: Store;
		delivery: DeliveryTerm;
		metrics: Metrics | undefined;
		clock: Clock;
		logger: FastifyBaseLogger;
	},
): ReportJobDeps | undefined {
	const { schedule, timeZone } = config.report;
	if (!schedule) return undefined;
	return {
		store,
		schedule,
		timeZone,
		now: clock.now,
		destinations: () => delivery.route('OPS').filter((destination) => MESSAGE_KINDS.has(destination.kind)),
		async send(destination, { nonce, content, embeds, since }) {
			const kind = delivery.kinds.get(destination.kind);
			if (!kind) throw new Error(`no destination kind ${destination.kind}`);
			await kind.send(destination, { ids: [], nonce, content, embeds, since } as InFlightRecord, []);
		},
		async health() {
			const status = delivery.worker.status();
			const targets = await Promise.all(
				config.forward.targets.map(async (target) => {
					const state = (await store.targets.get(target.key)) as { paused?: unknown } | undefined;
					return state?.paused ? [`forward target ${target.shown}`] : [];
				}),
			);
			return {
				...(await readBacklog(store, clock.now())),
				paused: [...status.paused.map((paused) => paused.destination), ...targets.flat()],
				...(status.halted && { halted: status.halted }),
				...(metrics && { rateLimited: await metrics.rateLimitedTotal() }),
			};
		},
		log: logger.child({ component: 'report' }),
	};
}
