import type { FastifyBaseLogger } from 'fastify';
import { type After, realAfter } from '../clock.js';
import { topicOf } from '../events/event.js';
import type { Outbox, OutboxEntry, StoredInFlight } from '../state/outbox.js';
import { Bookkeeping } from './bookkeeping.js';
import type { Kinds } from './kind.js';
import { DestinationQueue, type Lane } from './queue.js';
import { kindOfKey, type Route } from './routing.js';

export interface WorkerOptions {
	outbox: Outbox;
	/** What each kind of destination knows: composing, sending, classifying failures (kinds/). */
	kinds: Kinds;
	route: Route;
	log: FastifyBaseLogger;
	/** Wait after the n-th failed attempt (the last value repeats). */
	retrySchedule: number[];
	/** After this long since receipt, a still-failing event goes to the dead letter. */
	retryBudget: number;
	/** How long a destination answering 403/404 rests before it is tried again. */
	pauseMs?: number;
	/**
	 * At most `messages` per `perMs` to one paced destination (Discord allows about 5 per 5 s per
	 * channel). The worker never sends faster, so Discord never answers 429, and what arrives meanwhile is
	 * folded.
	 */
	rate?: { messages: number; perMs: number };
	/** Pending entries held in memory per destination; the rest stay in the store until these drain. */
	pageSize?: number;
	now?: () => number;
	after?: After;
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
	/** Nothing held, nothing known to wait in the store, nothing being sent. */
	idle: boolean;
	halted?: string;
	paused: { destination: string; reason: string; until: number }[];
	/** Destinations stopped until a person decides (`release`): at which entries, since when. */
	held?: { destination: string; reason: string; ids: string[]; at: number }[];
}

/** idle: never started (DELIVERY=off); resuming: reading the backlog, nothing sent until it is read. */
type Phase = 'idle' | 'resuming' | 'running' | 'stopped';

/**
 * outbox ─▶ destination kind ─▶ the outside, at least once (exactly once where the kind makes it so,
 * as a bot channel does by nonce). One queue per destination so a paused, held or rate-limited one never
 * holds up another. Each queue is paced; what is sent is composed by the destination's kind only when
 * it can leave, from everything ready then. The worker knows entries, lanes, time and outcomes, not
 * what a message is.
 */
export class Worker {
	readonly #outbox: Outbox;
	readonly #kinds: Kinds;
	readonly #route: Route;
	readonly #log: FastifyBaseLogger;
	readonly #now: () => number;
	readonly #after: After;
	readonly #pageSize: number;
	readonly #rate: { messages: number; perMs: number };
	readonly #books: Bookkeeping;
	readonly #queues = new Map<string, DestinationQueue>();
	readonly #running = new Set<Promise<void>>();
	#phase: Phase = 'idle';
	/** Entries met while resuming whose destination their topic no longer routes to. */
	#unrouted: OutboxEntry[] = [];
	#cancelWake: (() => void) | undefined;
	/** Alerts in the outbox at the last full read of it. */
	#inOutbox = 0;

	constructor(options: WorkerOptions) {
		this.#outbox = options.outbox;
		this.#kinds = options.kinds;
		this.#route = options.route;
		this.#log = options.log;
		this.#now = options.now ?? Date.now;
		this.#after = options.after ?? realAfter;
		this.#rate = options.rate ?? { messages: 5, perMs: 5_000 };
		this.#pageSize = options.pageSize ?? 1_000;
		this.#books = new Bookkeeping({
			outbox: options.outbox,
			log: options.log,
			now: this.#now,
			retrySchedule: options.retrySchedule,
			retryBudget: options.retryBudget,
			pauseMs: options.pauseMs ?? 600_000,
		});
	}

	/** Takes a stored entry (ingest, a replay, a sweep); ignored unless the worker runs. */
	readonly enqueue = (entry: OutboxEntry): void => {
		// A worker never started (DELIVERY=off) leaves entries in the outbox for the delivering instance.
		if (this.#phase === 'idle' || this.#phase === 'stopped') return;
		const queue = this.#queueOf(entry);
		if (!queue) {
			if (this.#phase === 'resuming') this.#unrouted.push(entry);
			else void this.#reroute(entry);
			return;
		}
		if (queue.kind.readsInOrder) queue.rewind();
		else queue.hold(entry);
		this.#drain(queue);
	};

	/**
	 * Resumes the backlog left by a previous run or another instance (re-applying state, which is
	 * idempotent). May follow a stop(), e.g. when this instance becomes the deliverer again.
	 */
	async start(): Promise<number> {
		// What memory held before a stop may have been delivered since by another instance: start afresh.
		this.#queues.clear();
		// Queue the whole backlog before sending anything: draining on the first entry would re-send the
		// record in flight at the last stop with that entry alone (same nonce, so Discord answers with the
		// message it has) and then the record's other entries again, in a new message.
		this.#phase = 'resuming';
		let count = 0;
		try {
			for await (const entry of this.#outbox.scan()) {
				count++;
				const queue = this.#queueOf(entry);
				if (queue) await this.#load(queue, entry);
				this.enqueue(entry);
			}
			// Still resuming: what they move to is queued with the rest, not sent on its own first.
			for (const entry of this.#unrouted) await this.#reroute(entry);
		} finally {
			if (this.#phase === 'resuming') this.#phase = 'running';
			this.#unrouted = [];
		}
		this.#inOutbox = count;
		for (const queue of this.#queues.values()) this.#drain(queue);
		if (count > 0) this.#log.info(`resuming ${count} undelivered alert(s)`);
		return count;
	}

	/** Finishes the sends in flight and stops. */
	async stop(): Promise<void> {
		this.#phase = 'stopped';
		this.#cancelWake?.();
		await Promise.allSettled([...this.#running]);
	}

	/** Re-reads the outbox one entry at a time; each destination keeps only its page. */
	async sweep(): Promise<void> {
		if (this.#phase !== 'running') return;
		const began = this.#now();
		try {
			let count = 0;
			for await (const entry of this.#outbox.scan()) {
				// Finished while we were reading: the copy we read is stale. Finished before: it was replayed.
				if (this.#books.finishedSince(entry, began)) continue;
				count++;
				this.enqueue(entry);
			}
			this.#inOutbox = count;
		} catch (error) {
			this.#log.warn({ err: error }, 'could not re-read the outbox');
		}
	}

	/**
	 * A person's decision for a held destination: `resend` sends the held record again as it is, `skip`
	 * moves its entries to the failed deliveries, listed but never replayed. False when the destination is
	 * not held.
	 */
	async release(destination: string, decision: 'resend' | 'skip'): Promise<boolean> {
		const queue = this.#queues.get(destination);
		const held = queue?.held;
		if (!queue || !held) return false;
		const lane = queue.lanes.get(held.lane);
		if (lane?.record) {
			delete lane.record.held;
			if (decision === 'skip') {
				const reason = `skipped by staff after: ${held.reason}`;
				// A queue that reads in order may not hold them yet (nothing is read while it is held).
				let entries = queue.inFlight(lane);
				if (entries.length === 0) {
					const stored = await Promise.all(lane.record.ids.map((id) => this.#outbox.get(destination, id)));
					entries = stored.filter((entry): entry is OutboxEntry => entry !== undefined);
				}
				await this.#books.deadLetter(destination, entries, reason, queue, true);
				delete lane.record;
				if (queue.kind.durable) await this.#outbox.clearBatch(queue.recordKey(lane));
			} else if (queue.kind.durable) await this.#outbox.setBatch(queue.recordKey(lane), lane.record);
		}
		delete queue.held;
		// Another lane held meanwhile (several in flight when the target failed): its turn to be decided.
		for (const other of queue.lanes.values())
			if (other.record?.held) {
				queue.held = { lane: other.key, reason: other.record.held.reason };
				break;
			}
		this.#drain(queue);
		return true;
	}

	status(): WorkerStatus {
		const all = [...this.#queues.values()];
		const now = this.#now();
		const paused = all
			.filter((queue) => queue.pausedUntil > now)
			.map(({ destination, pauseReason, pausedUntil }) => ({
				destination: destination.key,
				reason: pauseReason ?? '',
				until: pausedUntil,
			}));
		const held = all.flatMap((queue) => {
			if (!queue.held) return [];
			const record = queue.lanes.get(queue.held.lane)?.record;
			return [
				{
					destination: queue.destination.key,
					reason: queue.held.reason,
					ids: record?.ids ?? [],
					at: record?.held?.at ?? 0,
				},
			];
		});
		const pending = all.reduce((sum, queue) => sum + queue.entries.length, 0);
		const [halt] = this.#books.halted.values();
		return {
			pending,
			inOutbox: Math.max(this.#inOutbox, pending),
			delivered: this.#books.counts.delivered,
			deadLettered: this.#books.counts.deadLettered,
			idle: all.every((queue) => queue.empty && queue.slots === 0),
			...(halt && { halted: halt }),
			paused,
			...(held.length > 0 && { held }),
		};
	}

	/** The queue of an entry's destination, while its topic still routes there. */
	#queueOf(entry: OutboxEntry): DestinationQueue | undefined {
		const destination = this.#route(topicOf(entry.event)).find((each) => each.key === entry.destination);
		if (!destination) return undefined;
		let queue = this.#queues.get(destination.key);
		const kind = this.#kinds.get(destination.kind);
		if (!queue && kind) {
			queue = new DestinationQueue(destination, kind, this.#pageSize, this.#rate);
			this.#queues.set(destination.key, queue);
		}
		return queue;
	}

	/**
	 * An entry whose topic no longer routes to its destination (ALERTS_CHANNEL changed, or `off`) goes
	 * where ALERTS_CHANNEL now sends the topic, or nowhere. One for a destination no ALERTS_CHANNEL value
	 * names (a fan-out kind no longer configured) is dead-lettered instead: kept for replay.
	 */
	async #reroute(entry: OutboxEntry): Promise<void> {
		try {
			if (!this.#kinds.get(kindOfKey(entry.destination))?.parse) {
				const reason = 'its destination is no longer configured';
				await this.#books.deadLetter(entry.destination, [entry], reason);
				return;
			}
			const to = this.#route(topicOf(entry.event)).filter((each) => this.#kinds.get(each.kind)?.parse);
			const moved = await this.#outbox.move(
				entry,
				to.map((destination) => destination.key),
			);
			for (const each of moved) this.enqueue(each);
		} catch (error) {
			this.#log.warn({ err: error, destination: entry.destination }, 'could not route an alert anew');
		}
	}

	#blocked(queue: DestinationQueue): boolean {
		const now = this.#now();
		return (
			this.#books.halted.has(queue.kind.name) ||
			queue.held !== undefined ||
			queue.pausedUntil > now ||
			queue.pacing.nextSlot() > now
		);
	}

	/** Starts sends on a queue up to its lanes' concurrency. */
	#drain(queue: DestinationQueue): void {
		while (this.#phase === 'running' && queue.slots < queue.concurrency && !this.#blocked(queue)) {
			queue.slots++;
			const run = this.#pump(queue)
				.catch((error) =>
					this.#log.error({ err: error, destination: queue.destination.key }, 'delivery loop failed'),
				)
				.finally(() => {
					queue.slots--;
					this.#running.delete(run);
					this.#schedule();
				});
			this.#running.add(run);
		}
		// Nothing could start (paced, paused, backing off): wake when it can.
		if (queue.slots === 0) this.#schedule();
	}

	/** Sends, one lane at a time, while something is ready and nothing says to wait. */
	async #pump(queue: DestinationQueue): Promise<void> {
		while (this.#phase === 'running' && !this.#blocked(queue)) {
			const began = this.#now();
			await queue
				.refill(
					(room, from) => this.#outbox.page(queue.destination.key, room, { after: from }),
					(entry) => this.#books.finishedSince(entry, began),
				)
				.catch((error) =>
					this.#log.warn(
						{ err: error, destination: queue.destination.key },
						'could not read the next outbox page',
					),
				);
			const lane = queue.readyLane(this.#now());
			if (!lane) return;
			lane.busy = true;
			try {
				if (!(await this.#attempt(queue, lane))) return;
			} finally {
				lane.busy = false;
			}
		}
	}

	/** One attempt at a lane's next send; false when the lane must wait (it failed, or was not confirmed). */
	async #attempt(queue: DestinationQueue, lane: Lane): Promise<boolean> {
		const record = await this.#nextRecord(queue, lane);
		if (!record) return false;
		const entries = queue.inFlight(lane);
		if (queue.kind.marksAttempts && record.sending === undefined) {
			record.sending = this.#now();
			await this.#outbox.setBatch(queue.recordKey(lane), record);
		}
		try {
			await queue.kind.send(queue.destination, record, entries);
		} catch (error) {
			queue.pacing.attempted(this.#now());
			await this.#books.failed(queue, lane, entries, queue.kind.classify(error));
			return false;
		}
		queue.pacing.attempted(this.#now());
		if (queue.pausedUntil) {
			this.#log.info({ destination: queue.destination.key }, 'destination answers again; resumed');
			queue.pausedUntil = 0;
			delete queue.pauseReason;
		}
		return this.#books.delivered(queue, lane, record);
	}

	/**
	 * The lane's record if one is in flight (sent again unchanged), else one its kind composes now from
	 * the ready head, recorded before it is first sent.
	 */
	async #nextRecord(queue: DestinationQueue, lane: Lane): Promise<StoredInFlight | undefined> {
		const { kind, destination } = queue;
		if (lane.record) {
			if (queue.inFlight(lane).length > 0) return lane.record;
			// Every entry of it was recorded as delivered before the record was cleared.
			if (kind.durable) await this.#outbox.clearBatch(queue.recordKey(lane));
			delete lane.record;
		}
		const ready = queue.readyHead(lane, this.#now());
		if (ready.length === 0) return undefined;
		const record = kind.compose(destination, ready) as StoredInFlight;
		if (kind.durable) await this.#outbox.setBatch(queue.recordKey(lane), record);
		lane.record = record;
		return record;
	}

	/** Reads a lane's in-flight record at start: its kind says whether it is sent again or held there. */
	async #load(queue: DestinationQueue, entry: OutboxEntry): Promise<void> {
		const lane = queue.laneOf(entry);
		if (lane.loaded || !queue.kind.durable) return;
		lane.loaded = true;
		const record = await this.#outbox.getBatch(queue.recordKey(lane));
		if (!record) return;
		lane.record = record;
		if (record.held) queue.held ??= { lane: lane.key, reason: record.held.reason };
		else if (queue.kind.recover(record) === 'hold')
			await this.#books.hold(queue, lane, 'it was being sent when delivery stopped, and may have arrived');
	}

	/** One timer for the whole worker: wake at the earliest backoff, pause end or free slot. */
	#schedule(): void {
		if (this.#phase !== 'running') return;
		this.#cancelWake?.();
		this.#cancelWake = undefined;
		let wake = Number.POSITIVE_INFINITY;
		for (const queue of this.#queues.values()) {
			if (queue.slots >= queue.concurrency || queue.empty) continue;
			if (this.#books.halted.has(queue.kind.name) || queue.held) continue;
			// A queue read in order that was told of something new reads the store as soon as it can.
			const next = queue.kind.readsInOrder && queue.refillDue ? this.#now() : queue.nextReady();
			wake = Math.min(wake, Math.max(queue.pausedUntil, next, queue.pacing.nextSlot()));
		}
		if (wake === Number.POSITIVE_INFINITY) return;
		this.#cancelWake = this.#after(Math.max(0, wake - this.#now()), () => {
			this.#cancelWake = undefined;
			for (const queue of this.#queues.values()) this.#drain(queue);
		});
	}
}

export const createWorker = (options: WorkerOptions): Worker => new Worker(options);
