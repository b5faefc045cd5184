import { randomUUID } from 'node:crypto';
import type { APIEmbed } from 'discord-api-types/v10';
import type { FastifyBaseLogger } from 'fastify';
import type { Destination } from '../delivery/kind.js';
import { type Health, renderStats, shortTime } from '../render/stats.js';
import { nextRun, previousRun } from '../schedule/cron.js';
import { readCounts } from '../state/counts.js';
import { summarizeHours } from '../stats/summary.js';
import type { Store } from '../store/store.js';
import type { Job } from './job.js';

/** The report as it goes out: the same message, with the same nonce, however often it is sent. */
export interface ReportMessage {
	nonce: string;
	content: string;
	embeds: APIEmbed[];
	/** Epoch ms of the first attempt (a bot channel looks for it past Discord's nonce window). */
	since: number;
}

/**
 * Kept in `meta` under `report`: the last scheduled time served, and while its report goes out, the
 * message and the OPS destinations that have not confirmed it yet.
 */
interface ReportState {
	slot: number;
	/** `by`: the job (one per process) that claimed it; another one takes over only once it is stale. */
	sending?: ReportMessage & { pending: string[]; by: string };
}

/** A claimed report not confirmed for this many checks (5 minutes) is taken over by another instance. */
const STALE_CHECKS = 5;

const KEY = 'report';
/** How often a leader looks for a report due or left unsent (a restart, a failed post). */
const CHECK_MS = 60_000;
const CLAIM_ATTEMPTS = 5;

export interface ReportJobDeps {
	store: Pick<Store, 'read' | 'commit' | 'counts'>;
	/** REPORT_SCHEDULE and REPORT_TIMEZONE. */
	schedule: string;
	timeZone: string;
	now: () => number;
	/** Where the OPS topic goes now. */
	destinations: () => Destination[];
	/** Posts to one of them (the delivery kind's own send, fenced by the lease). */
	send: (destination: Destination, message: ReportMessage) => Promise<void>;
	health: () => Promise<Health>;
	log: FastifyBaseLogger;
	/** How often a leader looks for a report due or left unsent (default a minute). */
	checkMs?: number;
}

/**
 * Per store object: one process runs memory and SQLite stores, and there two instances of a test share
 * the object; Redis and PostgreSQL are guarded by the record's compare-and-set as well.
 */
const locks = new WeakMap<object, Promise<unknown>>();
function exclusive<T>(store: object, work: () => Promise<T>): Promise<T> {
	const previous = locks.get(store) ?? Promise.resolve();
	const result = previous.then(work, work);
	locks.set(
		store,
		result.catch(() => {}),
	);
	return result;
}

/**
 * The periodic report to the OPS topic at REPORT_SCHEDULE: the counts since the last report against the
 * period before, worst first, the top suspension reasons, and hookcord's health; "all quiet" when nothing
 * happened. Exactly one post per scheduled time across instances and restarts: the leader claims the
 * time in the store (compare-and-set on one record) before it posts, records each destination that took
 * it, and a claimed report not yet confirmed is sent again, unchanged and with the same nonce (a bot
 * channel drops the repeat, or finds the message it already has). Times missed while no instance ran
 * become one report, posted when a leader comes back. The first start with a schedule posts nothing for
 * the past: it counts from the latest scheduled time.
 */
export function createReportJob(deps: ReportJobDeps): Job {
	const { store, schedule, timeZone, now, log, checkMs = CHECK_MS } = deps;
	let checked = false;
	const self = randomUUID();
	return {
		name: 'periodic report',
		leaderOnly: true,
		// At once on start (a report may be due or half sent), then at each scheduled time, and at least
		// every minute while this instance leads: a failed post is tried again soon, not a week later.
		next(fromMs) {
			if (!checked) return fromMs;
			return Math.min(nextRun(schedule, timeZone, fromMs), fromMs + checkMs);
		},
		run(signal) {
			checked = true;
			return exclusive(store, () => runOnce(signal));
		},
	};

	async function runOnce(signal: AbortSignal): Promise<void> {
		for (let attempt = 1; attempt <= CLAIM_ATTEMPTS && !signal.aborted; attempt++) {
			const { value, stored } = await store.read('meta', KEY);
			const state = value as ReportState | undefined;
			const at = now();
			const due = previousRun(schedule, timeZone, at);
			if (!state) {
				// A schedule seen for the first time: nothing is owed for the time before it.
				if (await write({ slot: due }, stored))
					log.info(
						`periodic report: the first goes out ${new Date(nextRun(schedule, timeZone, at)).toISOString()}`,
					);
				return;
			}
			if (state.sending) {
				// Ours (a post that failed), or one whose claimer went quiet: sent again, unchanged.
				if (state.sending.by === self || at - state.sending.since > STALE_CHECKS * checkMs)
					return deliver(state, signal);
				return;
			}
			if (due <= state.slot) return;
			const message = await compose(state.slot, due, at);
			const pending = deps.destinations().map((destination) => destination.key);
			const claimed: ReportState = { slot: due, sending: { ...message, pending, by: self } };
			// Another instance claimed this time first: read again, and help finish its post if need be.
			if (await write(claimed, stored)) return deliver(claimed, signal);
		}
	}

	/** Posts to each destination still pending, recording each one that took it. */
	async function deliver(state: ReportState, signal: AbortSignal): Promise<void> {
		const sending = state.sending;
		if (!sending) return;
		const destinations = new Map(deps.destinations().map((destination) => [destination.key, destination]));
		let failure: unknown;
		for (const key of sending.pending) {
			if (signal.aborted) return;
			const destination = destinations.get(key);
			if (destination) {
				try {
					await deps.send(destination, sending);
				} catch (error) {
					failure ??= error;
					continue;
				}
			}
			await confirm(state.slot, key);
		}
		if (failure) throw failure;
		log.info({ slot: new Date(state.slot).toISOString() }, 'periodic report posted');
	}

	/** Marks `key` done for the report of `slot` (compare-and-set, read again when another wrote first). */
	async function confirm(slot: number, key: string): Promise<void> {
		for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
			const { value, stored } = await store.read('meta', KEY);
			const state = value as ReportState | undefined;
			if (!state?.sending || state.slot !== slot) return;
			const pending = state.sending.pending.filter((candidate) => candidate !== key);
			const next: ReportState =
				pending.length > 0 ? { slot, sending: { ...state.sending, pending } } : { slot };
			if (await write(next, stored)) return;
		}
	}

	function write(state: ReportState, stored: string | null | undefined): Promise<boolean> {
		return store.commit([
			{ collection: 'meta', key: KEY, value: state, ...(stored !== undefined && { expect: stored }) },
		]);
	}

	/** The report of `[from, to)`: counts against the period before, and hookcord's health now. */
	async function compose(from: number, to: number, at: number): Promise<ReportMessage> {
		const hours = await readCounts(store, from - (to - from), to);
		const summary = summarizeHours(hours, from, to);
		const health = await deps.health();
		const embed = renderStats(summary, { title: 'hookcord report', timeZone, health });
		const content =
			summary.total === 0
				? `hookcord report since ${shortTime(from, timeZone)}: all quiet.`
				: `hookcord report since ${shortTime(from, timeZone)}: ${summary.total} events.`;
		// The nonce names the scheduled time: the same report is the same message wherever it is sent from.
		return { nonce: `report-${to.toString(36)}`, content, embeds: [embed], since: at };
	}
}
