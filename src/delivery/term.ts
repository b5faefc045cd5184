import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { OpsMessage } from '../jobs/forward-watch.js';
import { createOutbox, type Outbox } from '../state/outbox.js';
import type { Lease } from '../store/lease.js';
import type { Store } from '../store/store.js';
import { hookcordVersion } from '../version.js';
import { notLeading } from './errors.js';
import type { Kinds } from './kind.js';
import type { TargetHealth } from './kinds/forward.js';
import { createKinds } from './kinds/index.js';
import { fenceSend, type LeadershipOptions } from './leadership.js';
import type { Send } from './message.js';
import { type Route, routeTopics } from './routing.js';
import { createWorker, type Worker, type WorkerOptions } from './worker.js';

/** Delivery settings tests change (timings, pacing, paging, routes, digests). */
export interface DeliverySettings
	extends Partial<Pick<WorkerOptions, 'retrySchedule' | 'retryBudget' | 'pauseMs' | 'rate' | 'pageSize'>> {
	digestThreshold?: number;
	/** How long Discord remembers a nonce; an older message is looked for in the channel first. */
	nonceWindowMs?: number;
	/** How often the leader re-reads the whole outbox (the outbox sweep job). */
	sweepMs?: number;
	route?: Route;
}

export interface DeliveryTermOptions {
	config: Config;
	store: Store;
	/** The process's outbox; a leader's worker gets one whose bookkeeping the lease fences. */
	outbox: Outbox;
	/** The delivery lease when this instance takes part in leadership; without it one worker delivers. */
	lease?: Lease | undefined;
	clock: Clock;
	logger: FastifyBaseLogger;
	/** Replaces the Discord kinds' transport (tests record what would be posted). */
	send?: Send | undefined;
	/** Where dry-run alerts go (stdout by default). */
	print?: ((text: string) => void) | undefined;
	settings?: DeliverySettings | undefined;
	/** Wraps the kinds before use: metrics time and count each send by destination kind. */
	observe?: ((kinds: Kinds) => Kinds) | undefined;
}

/** Something that runs only while this instance delivers: started after the worker, stopped before it. */
export interface Duty {
	start(): void | Promise<void>;
	stop(): Promise<void>;
}

const STOPPED = { pending: 0, inOutbox: 0, delivered: 0, deadLettered: 0, idle: true, paused: [] };

/**
 * Delivery as this instance takes part in it: the destination kinds and routes, and a worker per
 * leadership term (a term's worker starts from the store; without a lease there is one, started by the
 * caller). `worker` is the stable face the rest of the process uses, whichever term is current.
 */
export async function createDeliveryTerm(options: DeliveryTermOptions) {
	const { config, store, lease, clock, logger } = options;
	const settings = options.settings ?? {};
	/** What the forward kind saw of each target's last attempts (read by the forward-watch job). */
	const forwardHealth = new Map<string, TargetHealth>();
	const loaded = await loadKinds(options, forwardHealth);
	const kinds = options.observe ? options.observe(loaded) : loaded;
	const route = settings.route ?? routeTopics(config, kinds);
	/**
	 * A message of hookcord's own to the OPS topic, outside the outbox (its subject is kept in the store and
	 * told again if this fails): the first OPS destination whose kind can post one; buttons on a bot channel
	 * only (a webhook's message cannot carry interactive ones).
	 */
	const postOps = async (message: OpsMessage): Promise<void> => {
		const destination = route('OPS').find((each) => kinds.get(each.kind)?.post);
		const post = destination && kinds.get(destination.kind)?.post;
		if (!destination || !post) return;
		if (lease && !lease.isHeld()) throw notLeading();
		const { buttons, ...rest } = message;
		await post(destination, {
			...rest,
			...(buttons && destination.kind === 'channel' && { components: [buttons] }),
		});
	};
	// Fencing: every send checks the lease first (and a channel post again as it goes on the wire), and
	// every outbox bookkeeping write is conditional on it in the store, so a leader that lost it (a long
	// pause, a partition) stops before another starts and cannot write over the next one's work.
	const fenced: Kinds = lease
		? new Map([...kinds].map(([name, kind]) => [name, { ...kind, send: fenceSend(lease, kind.send) }]))
		: kinds;
	const newWorker = () =>
		createWorker({
			outbox: lease ? createOutbox(store, clock.now, lease.commit) : options.outbox,
			kinds: fenced,
			route,
			log: logger.child({ component: 'delivery' }),
			retrySchedule: settings.retrySchedule ?? config.delivery.retrySchedule,
			retryBudget: settings.retryBudget ?? config.delivery.retryBudget,
			rate: settings.rate ?? config.delivery.rate,
			...(settings.pauseMs !== undefined && { pauseMs: settings.pauseMs }),
			...(settings.pageSize !== undefined && { pageSize: settings.pageSize }),
			...clock,
		});
	let term: Worker | undefined = lease ? undefined : newWorker();
	const duties: Duty[] = [];
	const stopDelivery = async (stopping: Worker | undefined) => {
		await Promise.all(duties.map((duty) => duty.stop()));
		await stopping?.stop();
	};
	const worker = {
		enqueue: (entry: Parameters<Worker['enqueue']>[0]) => term?.enqueue(entry),
		status: (): ReturnType<Worker['status']> => term?.status() ?? STOPPED,
		sweep: async () => term?.sweep(),
		release: async (destination: string, decision: 'resend' | 'skip') =>
			(await term?.release(destination, decision)) ?? false,
		async start(): Promise<number> {
			term ??= newWorker();
			const count = await term.start();
			for (const duty of duties) await duty.start();
			return count;
		},
		stop: () => stopDelivery(term),
	};
	return {
		worker,
		route,
		forwardHealth,
		postOps,
		/** The kinds as the worker uses them (sends fenced by the lease): the report posts through them. */
		kinds: fenced,
		/** Adds work that runs while this instance delivers (leader-only jobs). */
		whileDelivering: (duty: Duty) => duties.push(duty),
		/**
		 * Leadership over `held`: each term gets a worker of its own, started from the store, and the
		 * session (the gateway) lives as long as the term: one session across all instances.
		 */
		leadership(held: Lease, session: Duty & { describe: string }): LeadershipOptions {
			return {
				lease: held,
				renewMs: config.delivery.leaderLease / 3,
				duties: session.describe,
				log: logger.child({ component: 'leadership' }),
				async onElected() {
					await session.start();
					term = newWorker();
					await worker.start();
				},
				async onDeposed() {
					const stopping = term;
					term = undefined;
					await Promise.all([stopDelivery(stopping), session.stop()]);
				},
			};
		},
	};
}

export type DeliveryTerm = Awaited<ReturnType<typeof createDeliveryTerm>>;
export type Delivery = DeliveryTerm['worker'];

/** The kinds, with the bot's channel poster only when there is a token to post with. */
async function loadKinds(
	{ config, store, lease, clock, send, print, settings }: DeliveryTermOptions,
	forwardHealth: Map<string, TargetHealth>,
): Promise<Kinds> {
	// discord.js REST loads only with a bot token: a dry run or a receiver never needs it.
	const bot =
		config.discord.token && !send
			? {
					apiUrl: config.discord.apiUrl,
					token: config.discord.token,
					timeoutMs: config.delivery.timeout,
					maxRateLimitWaitMs: config.delivery.maxRateLimitWait,
					...(lease && { lease }),
				}
			: undefined;
	const channel = bot && (await import('./channel.js')).createChannelPoster(bot);
	const threads =
		bot &&
		(await import('./ticket-thread.js')).createTicketThreads({
			rest: (await import('./channel.js')).botRest(bot),
			store,
			now: clock.now,
		});
	return createKinds({
		store,
		threads,
		now: clock.now,
		digestThreshold: settings?.digestThreshold ?? config.delivery.digestThreshold,
		nonceWindowMs: settings?.nonceWindowMs ?? 120_000,
		...(send && { send }),
		channel,
		print: print ?? ((text) => process.stdout.write(`${text}\n`)),
		timeoutMs: config.delivery.timeout,
		...(config.forward.targets.length > 0 && {
			forward: { config, now: clock.now, version: hookcordVersion(), health: forwardHealth },
		}),
	});
}
