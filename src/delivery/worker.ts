import type { FastifyBaseLogger } from 'fastify';
import { type Topic, topicOf } from '../events/event.js';
import { shortHash } from '../events/id.js';
import { composeMessage } from '../render/message.js';
import { type BatchRecord, type Outbox, type OutboxEntry, sortedIndex } from '../state/outbox.js';
import type { Destination } from './destinations.js';
import { DeliveryError } from './errors.js';
import type { OutgoingMessage, Send } from './senders.js';

/** Schedules `run` after `ms` of the worker's clock; returns how to cancel it. */
export type After = (ms: number, run: () => void) => () => void;

const realAfter: After = (ms, run) => {
	const timer = setTimeout(run, ms);
	timer.unref();
	return () => clearTimeout(timer);
};

export interface WorkerOptions {
	outbox: Outbox;
	send: Send;
	route: (topic: Topic) => Destination | null;
	log: FastifyBaseLogger;
	/** Wait after the n-th failed attempt (the last value repeats). */
	retrySchedule: number[];
	/** After this long since receipt, a still-failing event goes to the dead letter. */
	retryBudget: number;
	/** How long a destination answering 403/404 rests before it is tried again. */
	pauseMs?: number;
	/**
	 * How often the whole outbox is re-read, to pick up entries this process did not write: replays by
	 * `npm run alerts`, callbacks taken by receiver-only instances (DELIVERY=off).
	 */
	sweepMs?: number;
	/**
	 * At most `messages` per `perMs` to one destination (Discord allows about 5 per 5 s per channel). The
	 * worker never sends faster, so Discord never answers 429, and what arrives meanwhile is folded.
	 */
	rate?: { messages: number; perMs: number };
	/** A destination with at least this many alerts waiting gets digests instead of ten alerts a message. */
	digestThreshold?: number;
	/** Pending entries held in memory per destination; the rest stay in the store until these drain. */
	pageSize?: number;
	/** How long Discord remembers a nonce; an older batch is looked for in the channel before re-sending. */
	nonceWindowMs?: number;
	now?: () => number;
	after?: After;
}

interface Queue {
	destination: Destination;
	/** Pending entries, oldest first; the head blocks the rest so a channel reads in order. */
	entries: OutboxEntry[];
	/** The ids in `entries`, so a sweep re-offering one is a constant-time no-op. */
	ids: Set<string>;
	/**
	 * Every pending entry of this destination with an id up to here is in `entries`; later ones may be in
	 * the store only (null: all of them are in memory). Ids sort by receive time, so this is a time.
	 */
	horizon: string | null;
	/** Set while the next page is read from the store: entries arriving meanwhile are held here. */
	late?: OutboxEntry[];
	/** The message being sent, persisted so that a retry re-sends it unchanged with the same nonce. */
	batch?: BatchRecord;
	/** Ids Discord refused as part of a batch: they are retried one message each. */
	alone: Set<string>;
	busy: boolean;
	pausedUntil: number;
	pauseReason?: string;
	/** When the latest attempts ended (at most `rate.messages`), for pacing. */
	attempts: number[];
}

export interface WorkerStatus {
	/** Alerts held in memory to send (at most a page per destination). */
	pending: number;
	/**
	 * The whole backlog: alerts in the outbox at the last full read of it (at start, then every sweep), or
	 * those held in memory when more.
	 */
	inOutbox: number;
	delivered: number;
	deadLettered: number;
	halted?: string;
	paused: { destination: string; reason: string; until: number }[];
}

/**
 * outbox ─▶ render ─▶ Discord, at least once, made exactly once on bot channels by the message nonce.
 * One queue per destination so a paused or rate-limited channel never holds up another. Each queue is
 * paced to the channel's rate; a message is composed only when it can leave, from everything waiting
 * then: a lone alert goes out at once as a full message, a flood becomes a few digests.
 */
export function createWorker(options: WorkerOptions) {
	const {
		outbox,
		send,
		route,
		log,
		retrySchedule,
		retryBudget,
		pauseMs = 600_000,
		sweepMs = 15_000,
		rate = { messages: 5, perMs: 5_000 },
		digestThreshold = 50,
		pageSize = 1_000,
		nonceWindowMs = 120_000,
		now = Date.now,
		after = realAfter,
	} = options;
	const queues = new Map<string, Queue>();
	/** When ids were delivered or dead-lettered lately, so a sweep that read the outbox before cannot revive them. */
	const finished = new Map<string, number>();
	let cancelSweep: (() => void) | undefined;
	let started = false;
	const running = new Set<Promise<void>>();
	let halted: string | undefined;
	let stopping = false;
	/** Set while start() queues the backlog: nothing is sent until every pending entry is queued. */
	let resuming = false;
	/** Muted entries met while resuming, removed once the outbox has been read (not while reading it). */
	let muted: string[] = [];
	let cancelWake: (() => void) | undefined;
	let delivered = 0;
	let deadLettered = 0;
	let inOutbox = 0;

	function queueFor(destination: Destination): Queue {
		let queue = queues.get(destination.key);
		if (!queue) {
			queue = {
				destination,
				entries: [],
				ids: new Set(),
				horizon: null,
				alone: new Set(),
				busy: false,
				pausedUntil: 0,
				attempts: [],
			};
			queues.set(destination.key, queue);
		}
		return queue;
	}

	function finish(ids: Iterable<string>): void {
		const at = now();
		for (const id of ids) finished.set(id, at);
		// A Map iterates in insertion order: drop the oldest beyond a bound that covers any sweep in flight.
		for (const id of finished.keys()) {
			if (finished.size <= 10_000) break;
			finished.delete(id);
		}
	}

	function enqueue(entry: OutboxEntry): void {
		// A worker never started (DELIVERY=off) leaves entries in the outbox for the delivering instance.
		if (!started) return;
		const destination = route(topicOf(entry.event));
		if (!destination) {
			// Muted topic (`off`): the event is in the account history already; nothing to send.
			if (resuming) muted.push(entry.event.id);
			else
				outbox
					.remove([entry.event.id])
					.catch((error) => log.warn({ err: error }, 'could not drop a muted event'));
			return;
		}
		const queue = queueFor(destination);
		hold(queue, entry);
		drain(queue);
	}

	/** Keeps an entry in memory when it is within the queue's page; a later one waits in the store. */
	function hold(queue: Queue, entry: OutboxEntry): void {
		const id = entry.event.id;
		if (queue.ids.has(id)) return;
		if (queue.horizon !== null && id > queue.horizon) {
			if (queue.late && queue.late.length < pageSize) queue.late.push(entry);
			return;
		}
		queue.ids.add(id);
		// Ids sort by receive time, so almost every entry goes at the end; a replayed old one goes in place.
		const last = queue.entries.at(-1);
		if (!last || last.event.id < id) queue.entries.push(entry);
		else queue.entries.splice(sortedIndex(queue.entries, id), 0, entry);
		if (queue.entries.length > pageSize) {
			for (const dropped of queue.entries.splice(pageSize)) queue.ids.delete(dropped.event.id);
			queue.horizon = queue.entries.at(-1)?.event.id ?? null;
		}
	}

	/**
	 * Reads the next page of this destination's entries from the store once half the page has drained.
	 * A store read that misses an entry (a SQL adapter paging by offset while rows are deleted) only
	 * delays it: the next sweep offers it again.
	 */
	async function refill(queue: Queue): Promise<void> {
		if (queue.horizon === null || queue.entries.length > pageSize / 2) return;
		const from = queue.horizon;
		const room = pageSize - queue.entries.length;
		const began = now();
		queue.late = [];
		try {
			const page = await outbox.page(room, {
				after: from,
				where: (entry) => route(topicOf(entry.event))?.key === queue.destination.key,
			});
			const late = queue.late;
			// A full page, or arrivals beyond what was held meanwhile: more may wait in the store.
			queue.horizon = page.length < room && late.length < pageSize ? null : (page.at(-1)?.event.id ?? from);
			for (const entry of [...page, ...late]) {
				if ((finished.get(entry.event.id) ?? Number.NEGATIVE_INFINITY) >= began) continue;
				hold(queue, entry);
			}
		} catch (error) {
			log.warn({ err: error, destination: queue.destination.key }, 'could not read the next outbox page');
		} finally {
			delete queue.late;
		}
	}

	function drain(queue: Queue): void {
		if (queue.busy || stopping || resuming) return;
		queue.busy = true;
		const run = pump(queue)
			.catch((error) => log.error({ err: error, destination: queue.destination.key }, 'delivery loop failed'))
			.finally(() => {
				queue.busy = false;
				running.delete(run);
				schedule();
			});
		running.add(run);
	}

	/** When the queue's next message is out of its backoff: the message in flight's, or the head's. */
	function readyAt(queue: Queue): number {
		if (queue.batch) {
			const ids = new Set(queue.batch.ids);
			const waiting = queue.entries.filter((entry) => ids.has(entry.event.id));
			if (waiting.length > 0) return Math.max(...waiting.map((entry) => entry.notBefore));
		}
		return queue.entries[0]?.notBefore ?? 0;
	}

	/** When the destination may take its next message: `rate.messages` per `rate.perMs`. */
	function nextSlot(queue: Queue): number {
		return queue.attempts.length < rate.messages ? 0 : (queue.attempts[0] as number) + rate.perMs;
	}

	function attempted(queue: Queue): void {
		queue.attempts.push(now());
		if (queue.attempts.length > rate.messages) queue.attempts.shift();
	}

	async function pump(queue: Queue): Promise<void> {
		while (!stopping) {
			if (queue.destination.kind === 'channel' && halted) return;
			if (queue.pausedUntil > now() || nextSlot(queue) > now()) return;
			await refill(queue);
			const batch = await nextBatch(queue);
			if (!batch) return;
			const message: OutgoingMessage = {
				content: batch.content ?? '',
				embeds: batch.embeds ?? [],
				nonce: batch.nonce,
				...(batch.since !== undefined && now() - batch.since > nonceWindowMs && { lookBack: true }),
			};
			// Status buttons only where every alert has its own embed: a digest names too many accounts.
			if (message.embeds.length === batch.ids.length) {
				const ids = new Set(batch.ids);
				message.events = queue.entries.filter((entry) => ids.has(entry.event.id)).map((entry) => entry.event);
			}
			try {
				await send(queue.destination, message);
			} catch (error) {
				attempted(queue);
				await onFailure(queue, batch, error);
				return;
			}
			attempted(queue);
			if (queue.pausedUntil) {
				log.info({ destination: queue.destination.key }, 'destination answers again; resumed');
				queue.pausedUntil = 0;
				delete queue.pauseReason;
			}
			if (!(await onDelivered(queue, batch))) return;
		}
	}

	/**
	 * The next message for a queue: the persisted one if a message is in flight (sent again unchanged),
	 * else one composed now from the ready head, recorded before it is first sent.
	 */
	async function nextBatch(queue: Queue): Promise<BatchRecord | null> {
		const head = queue.entries[0];
		if (queue.batch) {
			const ids = new Set(queue.batch.ids);
			const waiting = queue.entries.filter((entry) => ids.has(entry.event.id));
			if (waiting.length > 0) {
				if (readyAt(queue) > now()) return null;
				if (!queue.batch.embeds) {
					// Recorded by a version that kept only ids: render those events as they were sent.
					const { content, embeds } = composeMessage(
						waiting.map((entry) => entry.event),
						false,
					);
					Object.assign(queue.batch, { content, embeds });
				}
				return queue.batch;
			}
			// Every event of it was recorded as delivered before the batch record was cleared.
			await outbox.clearBatch(queue.destination.key);
			delete queue.batch;
		}
		if (!head || head.notBefore > now()) return null;
		// The ready head, stopping at one Discord refused in a batch (that one is sent alone).
		const ready: OutboxEntry[] = [];
		for (const entry of queue.entries) {
			if (entry.notBefore > now()) break;
			if (queue.alone.has(entry.event.id)) {
				if (ready.length === 0) ready.push(entry);
				break;
			}
			ready.push(entry);
		}
		const fold = ready.length > 1 && ready.length >= digestThreshold;
		const composed = composeMessage(
			ready.map((entry) => entry.event),
			fold,
		);
		const { ids } = composed;
		const batch: BatchRecord = {
			nonce: ids.length === 1 ? (ids[0] as string) : shortHash(ids.join(',')),
			ids,
			content: composed.content,
			embeds: composed.embeds,
			since: now(),
		};
		if (queue.destination.kind !== 'stdout') await outbox.setBatch(queue.destination.key, batch);
		queue.batch = batch;
		return batch;
	}

	/** Forgets delivered entries; false when the store could not record it (the batch is re-sent, same nonce). */
	async function onDelivered(queue: Queue, batch: BatchRecord): Promise<boolean> {
		const { ids } = batch;
		try {
			await outbox.remove(ids);
			if (queue.destination.kind !== 'stdout') await outbox.clearBatch(queue.destination.key);
		} catch (error) {
			log.error(
				{ err: error, destination: queue.destination.key },
				'delivered, but the store did not record it; will confirm again',
			);
			const done = new Set(ids);
			for (const entry of queue.entries)
				if (done.has(entry.event.id)) entry.notBefore = now() + (retrySchedule[0] ?? 1000);
			return false;
		}
		forget(queue, ids);
		delete queue.batch;
		delivered += ids.length;
		log.info(
			{ destination: queue.destination.key, events: ids.length > 20 ? ids.length : ids },
			`delivered ${ids.length} alert(s)`,
		);
		return true;
	}

	function forget(queue: Queue, ids: string[]): void {
		const done = new Set(ids);
		queue.entries = queue.entries.filter((entry) => !done.has(entry.event.id));
		for (const id of ids) {
			queue.ids.delete(id);
			queue.alone.delete(id);
		}
		finish(ids);
	}

	async function onFailure(queue: Queue, batch: BatchRecord, error: unknown): Promise<void> {
		const failure = error instanceof DeliveryError ? error : new DeliveryError('retry', String(error));
		const destination = queue.destination.key;
		const inBatch = new Set(batch.ids);
		const entries = queue.entries.filter((entry) => inBatch.has(entry.event.id));
		switch (failure.kind) {
			case 'halt':
				halted = failure.message;
				log.fatal(
					{ destination },
					`DISCORD_TOKEN refused (${failure.message}): bot delivery stopped, events kept in the outbox`,
				);
				return;
			case 'pause':
				queue.pausedUntil = now() + pauseMs;
				queue.pauseReason = failure.message;
				log.error({ destination }, `destination unusable (${failure.message}): paused, its events are kept`);
				return;
			case 'reject':
				if (entries.length > 1) {
					log.warn(
						{ destination },
						`Discord refused a batch (${failure.message}); sending its alerts one by one`,
					);
					for (const entry of entries) queue.alone.add(entry.event.id);
				} else await deadLetter(queue, entries, failure.message);
				delete queue.batch;
				await outbox.clearBatch(destination).catch(() => {});
				return;
			case 'retry': {
				const expired = entries.filter(
					(entry) => now() - (entry.budgetFrom ?? entry.event.receivedAt) >= retryBudget,
				);
				if (expired.length > 0) await deadLetter(queue, expired, `retry budget spent: ${failure.message}`);
				const live = entries.filter((entry) => !expired.includes(entry));
				for (const entry of live) {
					entry.attempts += 1;
					entry.lastError = failure.message;
					const wait = retrySchedule[Math.min(entry.attempts, retrySchedule.length) - 1] ?? 1000;
					entry.notBefore = now() + Math.max(wait, failure.retryAfterMs ?? 0);
				}
				// One write per message would do for a digest of hundreds; each entry keeps its own count.
				await Promise.all(
					live.map((entry) =>
						outbox.update(entry).catch((err) => log.warn({ err }, 'could not persist retry state')),
					),
				);
				log.warn(
					{ destination, attempts: live[0]?.attempts },
					`delivery failed (${failure.message}); will retry`,
				);
			}
		}
	}

	async function deadLetter(queue: Queue, entries: OutboxEntry[], reason: string): Promise<void> {
		for (const entry of entries) {
			entry.lastError = reason;
			await outbox.fail(entry, queue.destination.key, now());
		}
		const gone = entries.map((entry) => entry.event.id);
		forget(queue, gone);
		if (queue.batch?.ids.some((id) => gone.includes(id))) {
			delete queue.batch;
			await outbox.clearBatch(queue.destination.key).catch(() => {});
		}
		deadLettered += entries.length;
		log.error(
			{ destination: queue.destination.key, events: gone },
			`alert(s) moved to failed deliveries: ${reason}`,
		);
	}

	/** Re-reads the outbox one entry at a time; each destination keeps only its page. */
	async function sweep(): Promise<void> {
		const began = now();
		try {
			let count = 0;
			for await (const entry of outbox.scan()) {
				// Finished while we were reading: the copy we read is stale. Finished before: it was replayed.
				if ((finished.get(entry.event.id) ?? Number.NEGATIVE_INFINITY) >= began) continue;
				count++;
				enqueue(entry);
			}
			inOutbox = count;
		} catch (error) {
			log.warn({ err: error }, 'could not re-read the outbox');
		}
	}

	function sweepLoop(): void {
		cancelSweep?.();
		cancelSweep = after(sweepMs, () => {
			void sweep().finally(() => {
				if (!stopping) sweepLoop();
			});
		});
	}

	/** One timer for the whole worker: wake at the earliest backoff, pause end or free slot. */
	function schedule(): void {
		if (stopping) return;
		cancelWake?.();
		cancelWake = undefined;
		let wake = Number.POSITIVE_INFINITY;
		for (const queue of queues.values()) {
			if (queue.busy || (queue.entries.length === 0 && queue.horizon === null)) continue;
			if (queue.destination.kind === 'channel' && halted) continue;
			wake = Math.min(wake, Math.max(queue.pausedUntil, readyAt(queue), nextSlot(queue)));
		}
		if (wake === Number.POSITIVE_INFINITY) return;
		cancelWake = after(Math.max(0, wake - now()), () => {
			cancelWake = undefined;
			for (const queue of queues.values()) drain(queue);
		});
	}

	return {
		enqueue,
		/**
		 * Resumes the backlog left by a previous run or another instance (re-applying state, which is
		 * idempotent). May follow a stop(), e.g. when this instance becomes the deliverer again.
		 */
		async start(): Promise<number> {
			// What memory held before a stop may have been delivered since by another instance: start afresh.
			queues.clear();
			started = true;
			stopping = false;
			// Queue the whole backlog before sending anything: draining on the first entry would re-send the
			// batch in flight at the last stop with that entry alone (same nonce, so Discord answers with the
			// message it has) and then the batch's other events again, in a new message.
			resuming = true;
			let count = 0;
			try {
				for await (const entry of outbox.scan()) {
					count++;
					const destination = route(topicOf(entry.event));
					if (destination && !queues.has(destination.key)) {
						const batch = await outbox.getBatch(destination.key);
						const queue = queueFor(destination);
						if (batch) queue.batch = batch;
					}
					enqueue(entry);
				}
			} finally {
				resuming = false;
			}
			const drop = muted;
			muted = [];
			inOutbox = count - drop.length;
			await outbox.remove(drop).catch((error) => log.warn({ err: error }, 'could not drop muted events'));
			for (const queue of queues.values()) drain(queue);
			if (count > 0) log.info(`resuming ${count} undelivered alert(s)`);
			sweepLoop();
			return count;
		},
		/** Finishes the sends in flight and stops. */
		async stop(): Promise<void> {
			started = false;
			stopping = true;
			cancelWake?.();
			cancelSweep?.();
			await Promise.allSettled([...running]);
		},
		status(): WorkerStatus {
			const paused = [...queues.values()]
				.filter((queue) => queue.pausedUntil > now())
				.map((queue) => ({
					destination: queue.destination.key,
					reason: queue.pauseReason ?? '',
					until: queue.pausedUntil,
				}));
			const pending = [...queues.values()].reduce((sum, queue) => sum + queue.entries.length, 0);
			return {
				pending,
				inOutbox: Math.max(inOutbox, pending),
				delivered,
				deadLettered,
				...(halted && { halted }),
				paused,
			};
		},
		/** Resolves once nothing is pending (tests and the demo); rejects after about `timeoutMs` of real time. */
		async idle(timeoutMs = 10_000): Promise<void> {
			const busy = () =>
				[...queues.values()].some(
					(queue) => queue.entries.length > 0 || queue.horizon !== null || queue.busy,
				);
			// Counted in polls rather than read from a clock: a test's clock may stand still meanwhile.
			for (let waited = 0; busy(); waited += 5) {
				if (waited > timeoutMs) throw new Error('delivery did not become idle in time');
				await new Promise((resolve) => setTimeout(resolve, 5));
			}
		},
	};
}

export type Worker = ReturnType<typeof createWorker>;
