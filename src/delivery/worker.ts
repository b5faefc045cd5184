import type { APIEmbed } from 'discord-api-types/v10';
import type { FastifyBaseLogger } from 'fastify';
import { firstMessageSize, LIMITS } from '../discord/limits.js';
import { renderEvent, renderHeadlines } from '../discord/render.js';
import { type Topic, topicOf } from '../events/event.js';
import { digest } from '../events/id.js';
import type { Projector } from '../state/projector.js';
import type { Destination } from './destinations.js';
import { DeliveryError } from './errors.js';
import type { BatchRecord, Outbox, OutboxEntry } from './outbox.js';
import type { Send } from './senders.js';

export interface WorkerOptions {
	outbox: Outbox;
	send: Send;
	route: (topic: Topic) => Destination | null;
	project: Projector;
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
	now?: () => number;
}

interface Queue {
	destination: Destination;
	/** Pending entries, oldest first; the head blocks the rest so a channel reads in order. */
	entries: OutboxEntry[];
	/** The ids in `entries`, so a sweep re-offering one is a constant-time no-op. */
	ids: Set<string>;
	/** The message being sent, persisted so that a retry re-sends the same events with the same nonce. */
	batch?: BatchRecord;
	/** Ids Discord refused as part of a batch: they are retried one message each. */
	alone: Set<string>;
	busy: boolean;
	pausedUntil: number;
	pauseReason?: string;
}

export interface WorkerStatus {
	pending: number;
	delivered: number;
	deadLettered: number;
	halted?: string;
	paused: { destination: string; reason: string; until: number }[];
}

/**
 * outbox ─▶ render ─▶ Discord, at least once, made exactly once on bot channels by the message nonce.
 * One queue per destination so a paused or rate-limited channel never holds up another.
 */
export function createWorker(options: WorkerOptions) {
	const {
		outbox,
		send,
		route,
		project,
		log,
		retrySchedule,
		retryBudget,
		pauseMs = 600_000,
		sweepMs = 15_000,
		now = Date.now,
	} = options;
	const queues = new Map<string, Queue>();
	/** When ids were delivered or dead-lettered lately, so a sweep that read the outbox before cannot revive them. */
	const finished = new Map<string, number>();
	let sweeper: NodeJS.Timeout | undefined;
	let started = false;
	const running = new Set<Promise<void>>();
	let halted: string | undefined;
	let stopping = false;
	/** Set while start() queues the backlog: nothing is sent until every pending entry is queued. */
	let resuming = false;
	let timer: NodeJS.Timeout | undefined;
	let delivered = 0;
	let deadLettered = 0;

	function queueFor(destination: Destination): Queue {
		let queue = queues.get(destination.key);
		if (!queue) {
			queue = { destination, entries: [], ids: new Set(), alone: new Set(), busy: false, pausedUntil: 0 };
			queues.set(destination.key, queue);
		}
		return queue;
	}

	function finish(ids: Iterable<string>): void {
		const at = Date.now();
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
			outbox
				.remove([entry.event.id])
				.catch((error) => log.warn({ err: error }, 'could not drop a muted event'));
			return;
		}
		const queue = queueFor(destination);
		const id = entry.event.id;
		if (queue.ids.has(id)) return;
		queue.ids.add(id);
		// Ids sort by receive time, so almost every entry goes at the end; a replayed old one goes in place.
		const last = queue.entries.at(-1);
		const at = !last || last.event.id < id ? -1 : queue.entries.findIndex((other) => other.event.id > id);
		if (at < 0) queue.entries.push(entry);
		else queue.entries.splice(at, 0, entry);
		drain(queue);
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

	async function pump(queue: Queue): Promise<void> {
		while (!stopping) {
			if (queue.destination.kind === 'channel' && halted) return;
			if (queue.pausedUntil > now()) return;
			const batch = await nextBatch(queue);
			if (!batch) return;
			try {
				const content = renderHeadlines(
					batch.entries.map((entry) => entry.event),
					batch.embeds,
				);
				await send(queue.destination, { content, embeds: batch.embeds, nonce: batch.nonce });
			} catch (error) {
				await onFailure(queue, batch.entries, error);
				return;
			}
			if (queue.pausedUntil) {
				log.info({ destination: queue.destination.key }, 'destination answers again; resumed');
				queue.pausedUntil = 0;
				delete queue.pauseReason;
			}
			if (!(await onDelivered(queue, batch.entries))) return;
		}
	}

	/** The next message for a queue: the persisted batch if one is in flight, else the ready head. */
	async function nextBatch(
		queue: Queue,
	): Promise<{ entries: OutboxEntry[]; embeds: APIEmbed[]; nonce: string } | null> {
		const head = queue.entries[0];
		if (!head || head.notBefore > now()) return null;
		if (queue.batch) {
			const ids = new Set(queue.batch.ids);
			const entries = queue.entries.filter((entry) => ids.has(entry.event.id));
			if (entries.length > 0)
				return { entries, embeds: entries.map((e) => renderEvent(e.event)), nonce: queue.batch.nonce };
			await outbox.clearBatch(queue.destination.key);
			delete queue.batch;
		}
		// At most ten ready entries from the head, stopping at one Discord refused in a batch (sent alone).
		const ready: OutboxEntry[] = [];
		for (const entry of queue.entries) {
			if (ready.length === LIMITS.embedsPerMessage || entry.notBefore > now()) break;
			if (queue.alone.has(entry.event.id)) {
				if (ready.length === 0) ready.push(entry);
				break;
			}
			ready.push(entry);
		}
		const embeds = ready.map((entry) => renderEvent(entry.event));
		const entries = ready.slice(0, firstMessageSize(embeds));
		const ids = entries.map((entry) => entry.event.id);
		const nonce = ids.length === 1 ? (ids[0] as string) : digest(ids.join(','));
		if (queue.destination.kind !== 'stdout') {
			queue.batch = { nonce, ids };
			await outbox.setBatch(queue.destination.key, queue.batch);
		}
		return { entries, embeds: embeds.slice(0, entries.length), nonce };
	}

	/** Forgets delivered entries; false when the store could not record it (the batch is re-sent, same nonce). */
	async function onDelivered(queue: Queue, entries: OutboxEntry[]): Promise<boolean> {
		const ids = entries.map((entry) => entry.event.id);
		try {
			await outbox.remove(ids);
			if (queue.batch) await outbox.clearBatch(queue.destination.key);
		} catch (error) {
			log.error(
				{ err: error, destination: queue.destination.key },
				'delivered, but the store did not record it; will confirm again',
			);
			for (const entry of entries) entry.notBefore = now() + (retrySchedule[0] ?? 1000);
			return false;
		}
		const done = new Set(ids);
		queue.entries = queue.entries.filter((entry) => !done.has(entry.event.id));
		for (const id of ids) queue.ids.delete(id);
		for (const id of ids) queue.alone.delete(id);
		delete queue.batch;
		finish(ids);
		delivered += ids.length;
		log.info({ destination: queue.destination.key, events: ids }, `delivered ${ids.length} alert(s)`);
		return true;
	}

	async function onFailure(queue: Queue, entries: OutboxEntry[], error: unknown): Promise<void> {
		const failure = error instanceof DeliveryError ? error : new DeliveryError('retry', String(error));
		const destination = queue.destination.key;
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
					delete queue.batch;
					await outbox.clearBatch(destination).catch(() => {});
					return;
				}
				return deadLetter(queue, entries, failure.message);
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
					await outbox.update(entry).catch((err) => log.warn({ err }, 'could not persist retry state'));
				}
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
			queue.alone.delete(entry.event.id);
		}
		const gone = new Set(entries.map((entry) => entry.event.id));
		finish(gone);
		queue.entries = queue.entries.filter((entry) => !gone.has(entry.event.id));
		for (const id of gone) queue.ids.delete(id);
		if (queue.batch?.ids.some((id) => gone.has(id))) {
			delete queue.batch;
			await outbox.clearBatch(queue.destination.key).catch(() => {});
		}
		deadLettered += entries.length;
		log.error(
			{ destination: queue.destination.key, events: [...gone] },
			`alert(s) moved to failed deliveries: ${reason}`,
		);
	}

	async function sweep(): Promise<void> {
		const began = Date.now();
		try {
			for (const entry of await outbox.pending()) {
				// Finished while we were reading: the copy we read is stale. Finished before: it was replayed.
				if ((finished.get(entry.event.id) ?? Number.NEGATIVE_INFINITY) >= began) continue;
				enqueue(entry);
			}
		} catch (error) {
			log.warn({ err: error }, 'could not re-read the outbox');
		}
	}

	/** One timer for the whole worker: wake at the earliest backoff or pause end. */
	function schedule(): void {
		if (stopping) return;
		if (timer) clearTimeout(timer);
		timer = undefined;
		let wake = Number.POSITIVE_INFINITY;
		for (const queue of queues.values()) {
			if (queue.busy || queue.entries.length === 0) continue;
			if (queue.destination.kind === 'channel' && halted) continue;
			wake = Math.min(wake, Math.max(queue.pausedUntil, queue.entries[0]?.notBefore ?? 0));
		}
		if (wake === Number.POSITIVE_INFINITY) return;
		timer = setTimeout(
			() => {
				timer = undefined;
				for (const queue of queues.values()) drain(queue);
			},
			Math.max(0, wake - now()),
		);
		timer.unref();
	}

	return {
		enqueue,
		/** Resumes the backlog left by a previous run (re-applying state, which is idempotent). */
		async start(): Promise<number> {
			started = true;
			const entries = await outbox.pending();
			for (const entry of entries) {
				await project(entry.event).catch((error) =>
					log.error({ err: error, eventId: entry.event.id }, 'state projection failed'),
				);
			}
			// Queue the whole backlog before sending anything: draining on the first entry would re-send the
			// batch in flight at the last stop with that entry alone (same nonce, so Discord answers with the
			// message it has) and then the batch's other events again, in a new message.
			resuming = true;
			try {
				for (const entry of entries) {
					const destination = route(topicOf(entry.event));
					if (destination && !queues.has(destination.key)) {
						const batch = await outbox.getBatch(destination.key);
						if (batch) queueFor(destination).batch = batch;
					}
					enqueue(entry);
				}
			} finally {
				resuming = false;
			}
			for (const queue of queues.values()) drain(queue);
			if (entries.length > 0) log.info(`resuming ${entries.length} undelivered alert(s)`);
			sweeper = setInterval(() => void sweep(), sweepMs);
			sweeper.unref();
			return entries.length;
		},
		/** Finishes the sends in flight and stops. */
		async stop(): Promise<void> {
			stopping = true;
			if (timer) clearTimeout(timer);
			if (sweeper) clearInterval(sweeper);
			await Promise.allSettled([...running]);
		},
		/** Sends what is ready now (after a replay, or to skip a backoff in tests). */
		kick(): void {
			for (const queue of queues.values()) drain(queue);
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
			return { pending, delivered, deadLettered, ...(halted && { halted }), paused };
		},
		/** Resolves once nothing is pending (tests and the demo); rejects after `timeoutMs`. */
		async idle(timeoutMs = 10_000): Promise<void> {
			const deadline = Date.now() + timeoutMs;
			while ([...queues.values()].some((queue) => queue.entries.length > 0 || queue.busy)) {
				if (Date.now() > deadline) throw new Error('delivery did not become idle in time');
				await new Promise((resolve) => setTimeout(resolve, 5));
			}
		},
	};
}

export type Worker = ReturnType<typeof createWorker>;
