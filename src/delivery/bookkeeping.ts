import type { FastifyBaseLogger } from 'fastify';
import { type Outbox, type OutboxEntry, outboxKey, type StoredInFlight } from '../state/outbox.js';
import type { Failure } from './errors.js';
import { decide, type Retry } from './outcome.js';
import type { DestinationQueue, Lane } from './queue.js';

export interface BookkeepingOptions {
	outbox: Outbox;
	log: FastifyBaseLogger;
	now: () => number;
	retrySchedule: number[];
	retryBudget: number;
	pauseMs: number;
}

/**
 * What the worker records about outcomes: a confirmed send leaves the outbox, a failure becomes what
 * `decide` makes of it (retry state, a pause, a hold kept with the in-flight record, dead letters, a
 * halt of the kind), and what finished lately is remembered so an older read of the outbox cannot revive
 * it. Every write goes through the worker's outbox: on a leader, fenced by the lease.
 */
export class Bookkeeping {
	readonly #outbox: Outbox;
	readonly #log: FastifyBaseLogger;
	readonly #now: () => number;
	readonly #policy: { retrySchedule: number[]; retryBudget: number; pauseMs: number };
	/** When entries (by outbox key) were delivered or dead-lettered lately. */
	readonly #finished = new Map<string, number>();
	/** Kinds whose credentials were refused, and why. */
	readonly halted = new Map<string, string>();
	readonly counts = { delivered: 0, deadLettered: 0 };

	constructor({ outbox, log, now, ...policy }: BookkeepingOptions) {
		this.#outbox = outbox;
		this.#log = log;
		this.#now = now;
		this.#policy = policy;
	}

	/** Whether the entry was delivered or dead-lettered at `since` or later (a copy read before is stale). */
	finishedSince(entry: OutboxEntry, since: number): boolean {
		const at = this.#finished.get(outboxKey(entry.destination, entry.event.id));
		return (at ?? Number.NEGATIVE_INFINITY) >= since;
	}

	#finish(destination: string, ids: readonly string[]): void {
		const at = this.#now();
		for (const id of ids) this.#finished.set(outboxKey(destination, id), at);
		// A Map iterates in insertion order: drop the oldest beyond a bound that covers any sweep in flight.
		for (const key of this.#finished.keys()) {
			if (this.#finished.size <= 10_000) break;
			this.#finished.delete(key);
		}
	}

	/** Forgets delivered entries; false when the store could not record it (the record is sent again). */
	async delivered(queue: DestinationQueue, lane: Lane, record: StoredInFlight): Promise<boolean> {
		const { ids } = record;
		const destination = queue.destination.key;
		try {
			await this.#outbox.remove(destination, ids);
			if (queue.kind.durable) await this.#outbox.clearBatch(queue.recordKey(lane));
		} catch (error) {
			this.#log.error(
				{ err: error, destination },
				'delivered, but the store did not record it; will confirm again',
			);
			const wait = this.#now() + (this.#policy.retrySchedule[0] ?? 1000);
			for (const entry of queue.inFlight(lane)) entry.notBefore = wait;
			return false;
		}
		queue.forget(ids);
		this.#finish(destination, ids);
		delete lane.record;
		this.counts.delivered += ids.length;
		this.#log.info(
			{ destination, events: ids.length > 20 ? ids.length : ids },
			`delivered ${ids.length} alert(s)`,
		);
		return true;
	}

	/** Records what `decide` makes of a failure. */
	async failed(queue: DestinationQueue, lane: Lane, entries: OutboxEntry[], failure: Failure): Promise<void> {
		const { kind } = queue;
		const destination = queue.destination.key;
		const { retrySchedule, pauseMs } = this.#policy;
		const retryBudget = kind.retryBudget ?? this.#policy.retryBudget;
		const decision = decide(failure, entries, { now: this.#now(), retrySchedule, retryBudget, pauseMs });
		if (decision.halt) {
			this.halted.set(kind.name, decision.halt);
			this.#log.fatal(
				{ destination },
				`${kind.credentials ?? 'credentials'} refused (${decision.halt}): delivery to every ${kind.name} destination stopped, events kept in the outbox`,
			);
		}
		if (decision.pause) {
			queue.pausedUntil = decision.pause.until;
			queue.pauseReason = decision.pause.reason;
			this.#log.error(
				{ destination },
				`destination unusable (${failure.message}): paused, its events are kept`,
			);
		}
		if (decision.hold) await this.hold(queue, lane, decision.hold);
		if (decision.alone) {
			this.#log.warn(
				{ destination },
				`the destination refused a batch (${failure.message}); sending its alerts one by one`,
			);
			for (const id of decision.alone) queue.alone.add(id);
		}
		if (decision.deadLetter) {
			const gone = new Set(decision.deadLetter.ids);
			const expired = entries.filter((entry) => gone.has(entry.event.id));
			await this.deadLetter(destination, expired, decision.deadLetter.reason, queue);
		}
		if (decision.dropRecord) {
			delete lane.record;
			if (kind.durable) await this.#outbox.clearBatch(queue.recordKey(lane)).catch(() => {});
		}
		if (decision.retry.length > 0) {
			// Nothing can have arrived: the record is no longer on the wire (a stop now is no reason to hold).
			if (kind.marksAttempts && lane.record && !decision.hold) {
				delete lane.record.sending;
				await this.#outbox.setBatch(queue.recordKey(lane), lane.record).catch(() => {});
			}
			await this.#retryLater(queue, entries, decision.retry, failure.message);
		}
	}

	async #retryLater(queue: DestinationQueue, entries: OutboxEntry[], retries: Retry[], message: string) {
		const byId = new Map(entries.map((entry) => [entry.event.id, entry]));
		const live = retries.flatMap(({ id, ...state }) => {
			const entry = byId.get(id);
			return entry ? [Object.assign(entry, state)] : [];
		});
		// One write per message would do for a digest of hundreds; each entry keeps its own count.
		await Promise.all(
			live.map((entry) =>
				this.#outbox.update(entry).catch((err) => this.#log.warn({ err }, 'could not persist retry state')),
			),
		);
		this.#log.warn(
			{ destination: queue.destination.key, attempts: live[0]?.attempts },
			`delivery failed (${message}); will retry`,
		);
	}

	/**
	 * Moves entries of one destination to the failed deliveries (kept for replay, unless `skipped`: a
	 * person decided they must not go); `queue` forgets them.
	 */
	async deadLetter(
		destination: string,
		entries: OutboxEntry[],
		reason: string,
		queue?: DestinationQueue,
		skipped = false,
	): Promise<void> {
		for (const entry of entries) {
			entry.lastError = reason;
			await this.#outbox.fail(entry, destination, this.#now(), skipped);
		}
		const gone = entries.map((entry) => entry.event.id);
		queue?.forget(gone);
		this.#finish(destination, gone);
		this.counts.deadLettered += entries.length;
		this.#log.error({ destination, events: gone }, `alert(s) moved to failed deliveries: ${reason}`);
	}

	/** Stops a destination at a lane's record until a person decides; kept in the store with the record. */
	async hold(queue: DestinationQueue, lane: Lane, reason: string): Promise<void> {
		// With several lanes, another may be held already: this one waits, marked, for its own decision.
		queue.held ??= { lane: lane.key, reason };
		if (lane.record) {
			lane.record.held = { reason, at: this.#now() };
			if (queue.kind.durable) await this.#outbox.setBatch(queue.recordKey(lane), lane.record);
		}
		this.#log.error(
			{ destination: queue.destination.key },
			`destination held (${reason}): nothing more is sent to it until staff resend or skip`,
		);
	}
}
