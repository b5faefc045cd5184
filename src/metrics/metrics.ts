import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { EventKind, Provider } from '../events/event.js';
import { CALLBACK_KINDS, PROVIDERS } from '../events/labels.js';
import type { Backlog } from '../state/backlog.js';
import {
	COMMAND_OUTCOMES,
	type CommandOutcome,
	FAILURE_REASONS,
	type FailureReason,
	REFUSED_OUTCOMES,
	refusalOf,
	STORED_OUTCOMES,
} from './labels.js';

/** What the store holds for delivery, read at scrape time (at most every `cacheMs`). */
export type OutboxGauges = Backlog;

/** One forward target as the forwarder reports it; `target` is its configured name (a closed set). */
export interface ForwardTargetGauges {
	target: string;
	provider: Provider;
	paused: boolean;
	backlog: number;
}

export interface MetricsOptions {
	version: string;
	/** The slash commands hookcord has (more can be named with `knowCommands`): `command` label values. */
	commands?: readonly string[];
	/** Forward targets' names from the configuration, created at 0 before the forwarder reports. */
	forwardTargets?: readonly { target: string; provider: Provider }[];
	/** How long a store read behind the outbox gauges is reused: a scrape every few seconds reads once. */
	cacheMs?: number;
	now?: () => number;
	/** Node's process and event-loop metrics (default true; tests building many registries turn it off). */
	defaults?: boolean;
}

/**
 * hookcord's Prometheus metrics on a registry of its own (tests make fresh ones). Names follow
 * OBSERVABILITY.md: `hookcord_` prefix, base units, `_total` counters, labels only from the closed sets in
 * labels.ts, and every known label combination created at 0 at start so the first increment shows in
 * `rate()`. The recording methods are what the hot paths call: each is a map lookup and an add.
 */
export function createMetrics(options: MetricsOptions) {
	const registry = new Registry();
	const now = options.now ?? Date.now;
	const cacheMs = options.cacheMs ?? 5_000;
	if (options.defaults !== false) collectDefaultMetrics({ register: registry });

	new Gauge({
		name: 'hookcord_build_info',
		help: 'Always 1: the running version of hookcord and of Node.js.',
		labelNames: ['version', 'nodejs_version'],
		registers: [registry],
	}).set({ version: options.version, nodejs_version: process.versions.node }, 1);

	const callbacks = new Counter({
		name: 'hookcord_callbacks_total',
		help: 'Provider callbacks by provider, event kind and outcome: stored, duplicate (a provider retry), unavailable / in_progress / busy (503, the provider retries), or refused before parsing (kind "none": malformed, forbidden, not_found, too_large, rate_limited, other).',
		labelNames: ['provider', 'kind', 'outcome'],
		registers: [registry],
	});
	const callbackChildren = new Map<string, Counter.Internal>();
	for (const provider of PROVIDERS) {
		for (const kind of CALLBACK_KINDS[provider])
			for (const outcome of STORED_OUTCOMES) {
				const child = callbacks.labels(provider, kind, outcome);
				child.inc(0);
				callbackChildren.set(`${provider} ${kind} ${outcome}`, child);
			}
		for (const outcome of REFUSED_OUTCOMES) {
			const child = callbacks.labels(provider, 'none', outcome);
			child.inc(0);
			callbackChildren.set(`${provider} none ${outcome}`, child);
		}
	}

	const ingestSeconds = new Histogram({
		name: 'hookcord_ingest_duration_seconds',
		help: 'From a parsed callback to its event stored (or found a duplicate): what the provider waits for besides the network.',
		buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
		registers: [registry],
	});
	ingestSeconds.zero({});

	const notifications = new Counter({
		name: 'hookcord_notifications_total',
		help: 'Messages hookcord tried to post (one HTTP request each: discord.js REST and webhooks are not retried in place), by destination kind.',
		labelNames: ['destination_kind'],
		registers: [registry],
	});
	const notificationsFailed = new Counter({
		name: 'hookcord_notifications_failed_total',
		help: "Message attempts that failed, by destination kind and reason (Alertmanager's set: clientError, serverError, contextDeadlineExceeded, other). The outbox retries them.",
		labelNames: ['destination_kind', 'reason'],
		registers: [registry],
	});
	const notificationSeconds = new Histogram({
		name: 'hookcord_notification_latency_seconds',
		help: 'How long one message attempt took, by destination kind.',
		labelNames: ['destination_kind'],
		buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
		registers: [registry],
	});
	const alertsDelivered = new Counter({
		name: 'hookcord_alerts_delivered_total',
		help: 'Alerts (events) in messages Discord took, by destination kind; a digest carries many.',
		labelNames: ['destination_kind'],
		registers: [registry],
	});
	const rateLimited = new Counter({
		name: 'hookcord_discord_rate_limited_total',
		help: 'Message attempts Discord answered with a rate limit (429, or a wait longer than RATE_LIMIT_MAX_WAIT), by destination kind.',
		labelNames: ['destination_kind'],
		registers: [registry],
	});
	// The kinds come from the delivery registry (a closed set: the code's), named once it is loaded.
	const destinationKinds = new Set<string>();
	const knowDestinationKinds = (names: readonly string[]) => {
		for (const kind of names) {
			if (destinationKinds.has(kind)) continue;
			destinationKinds.add(kind);
			notifications.inc({ destination_kind: kind }, 0);
			alertsDelivered.inc({ destination_kind: kind }, 0);
			rateLimited.inc({ destination_kind: kind }, 0);
			notificationSeconds.zero({ destination_kind: kind });
			for (const reason of FAILURE_REASONS) notificationsFailed.inc({ destination_kind: kind, reason }, 0);
		}
	};

	const commands = new Counter({
		name: 'hookcord_commands_total',
		help: 'Slash commands and buttons run, by command and outcome (ok, error, refused by the staff gate).',
		labelNames: ['command', 'outcome'],
		registers: [registry],
	});
	const commandSeconds = new Histogram({
		name: 'hookcord_command_duration_seconds',
		help: 'How long a slash command or button took to answer, by command.',
		labelNames: ['command'],
		buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
		registers: [registry],
	});
	const commandNames = new Set<string>();
	const knowCommands = (names: readonly string[]) => {
		for (const command of names) {
			if (commandNames.has(command)) continue;
			commandNames.add(command);
			commandSeconds.zero({ command });
			for (const outcome of COMMAND_OUTCOMES) commands.inc({ command, outcome }, 0);
		}
	};
	knowCommands([...(options.commands ?? []), 'button', 'other']);

	// Read at scrape time from what the process already knows, or from the store at most every cacheMs.
	let leader: () => boolean = () => false;
	let outboxSource: (() => Promise<OutboxGauges>) | undefined;
	let cached: { at: number; value: Promise<OutboxGauges> } | undefined;
	const outboxGauges = () => {
		if (!outboxSource) return Promise.resolve(undefined);
		if (!cached || now() - cached.at >= cacheMs) {
			const value = outboxSource();
			cached = { at: now(), value };
			// A failed read is tried again at the next scrape, not served for cacheMs.
			value.catch(() => {
				if (cached?.value === value) cached = undefined;
			});
		}
		return cached.value.catch(() => undefined);
	};
	new Gauge({
		name: 'hookcord_leader',
		help: '1 on the instance that leads (delivers alerts, holds the gateway session, posts reports), else 0.',
		registers: [registry],
		collect() {
			this.set(leader() ? 1 : 0);
		},
	});
	new Gauge({
		name: 'hookcord_outbox_alerts',
		help: 'Alerts waiting in the outbox for delivery (the store is shared: every instance reports the same).',
		registers: [registry],
		async collect() {
			const gauges = await outboxGauges();
			if (gauges) this.set(gauges.backlog);
		},
	});
	new Gauge({
		name: 'hookcord_outbox_oldest_age_seconds',
		help: 'Seconds since the oldest alert still waiting in the outbox was received (0 when none waits).',
		registers: [registry],
		async collect() {
			const gauges = await outboxGauges();
			if (gauges) this.set(gauges.oldestAgeSeconds);
		},
	});
	new Gauge({
		name: 'hookcord_dead_letters',
		help: 'Alerts whose retry budget ran out, kept for `/alerts failed` and replay.',
		registers: [registry],
		async collect() {
			const gauges = await outboxGauges();
			if (gauges) this.set(gauges.deadLetters);
		},
	});

	let forwards: ((backlog: OutboxGauges | undefined) => readonly ForwardTargetGauges[]) | undefined;
	const configuredTargets = options.forwardTargets ?? [];
	const forwardPaused = new Gauge({
		name: 'hookcord_forward_target_paused',
		help: '1 while a forward target is paused at a callback that may have been acted on, waiting for staff (Send again / Skip).',
		labelNames: ['target', 'provider'],
		registers: [registry],
		async collect() {
			if (!forwards) return;
			for (const state of forwards(await outboxGauges()))
				this.set({ target: state.target, provider: state.provider }, state.paused ? 1 : 0);
		},
	});
	const forwardBacklog = new Gauge({
		name: 'hookcord_forward_backlog',
		help: 'Callbacks waiting to be forwarded to a target.',
		labelNames: ['target', 'provider'],
		registers: [registry],
		async collect() {
			if (!forwards) return;
			for (const state of forwards(await outboxGauges()))
				this.set({ target: state.target, provider: state.provider }, state.backlog);
		},
	});
	for (const { target, provider } of configuredTargets) {
		forwardPaused.set({ target, provider }, 0);
		forwardBacklog.set({ target, provider }, 0);
	}
	const knownTargets = new Set(configuredTargets.map(({ target }) => target));

	return {
		registry,
		/** The exposition text (what `GET /metrics` answers). */
		async exposition(): Promise<{ contentType: string; body: string }> {
			return { contentType: registry.contentType, body: await registry.metrics() };
		},
		/** A parsed callback's outcome; `seconds`: how long its ingest took, when it got that far. */
		callback(
			provider: Provider,
			kind: EventKind,
			outcome: (typeof STORED_OUTCOMES)[number],
			seconds?: number,
		) {
			callbackChildren.get(`${provider} ${kind} ${outcome}`)?.inc();
			if (seconds !== undefined) ingestSeconds.observe(seconds);
		},
		/** A hook route's answer before any parsing succeeded (400, 403, 404, 413, 429 …). */
		refused(provider: Provider, status: number) {
			callbackChildren.get(`${provider} none ${refusalOf(status)}`)?.inc();
		},
		/** One message attempt to a destination; `failure` when it did not go through. */
		notification(
			destinationKind: string,
			seconds: number,
			result: { alerts: number } | { failure: FailureReason; rateLimited: boolean },
		) {
			const labels = { destination_kind: destinationKind };
			notifications.inc(labels);
			notificationSeconds.observe(labels, seconds);
			if ('alerts' in result) alertsDelivered.inc(labels, result.alerts);
			else {
				notificationsFailed.inc({ ...labels, reason: result.failure });
				if (result.rateLimited) rateLimited.inc(labels);
			}
		},
		/** Rate limits counted since this process started, all destination kinds together (the report). */
		async rateLimitedTotal(): Promise<number> {
			return (await rateLimited.get()).values.reduce((sum, { value }) => sum + value, 0);
		},
		/** Names the destination kinds delivery has, each created at 0. */
		knowDestinationKinds,
		/** Names the slash commands the dispatcher serves, each created at 0 (a closed set: the code's). */
		knowCommands,
		/** A slash command or button answered; a name outside the known set counts as `other`. */
		command(name: string, outcome: CommandOutcome, seconds: number) {
			const command = commandNames.has(name) ? name : 'other';
			commands.inc({ command, outcome });
			commandSeconds.observe({ command }, seconds);
		},
		/** Where the leader gauge and the outbox gauges read from (set once the process is composed). */
		watch(sources: { leader?: () => boolean; outbox?: () => Promise<OutboxGauges> }) {
			if (sources.leader) leader = sources.leader;
			if (sources.outbox) {
				outboxSource = sources.outbox;
				cached = undefined;
			}
		},
		/**
		 * The forwarder's report of its targets, read at each scrape. Only configured targets are shown
		 * (names come from the configuration, so the label set stays closed).
		 */
		watchForwards(source: (backlog: OutboxGauges | undefined) => readonly ForwardTargetGauges[]) {
			forwards = (backlog) =>
				source(backlog).filter(({ target }) => knownTargets.size === 0 || knownTargets.has(target));
		},
	};
}

export type Metrics = ReturnType<typeof createMetrics>;
