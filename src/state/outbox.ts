import type { Event } from '../events/event.js';
import type { Store } from '../store/store.js';
import type { Change, Write } from '../store/unit.js';
import type { Arrival } from './forwards.js';

/**
 * A pending delivery: one event for one destination, plus the worker's bookkeeping. Keyed by
 * `outboxKey(destination, event id)` in `outbox`, so one event routed to several destinations is
 * delivered, retried and dead-lettered for each on its own.
 */
export interface OutboxEntry {
	event: Event;
	/** The destination's key (`Destination.key`): never a secret, never contains `/`. */
	destination: string;
	attempts: number;
	/** Epoch ms before which the worker leaves the entry alone (backoff). */
	notBefore: number;
	lastError?: string;
	/** Epoch ms the retry budget counts from when not the event's receipt: the last replay. */
	budgetFrom?: number;
	/** For a forward target: the callback as it arrived, which is what the target receives. */
	request?: Arrival;
}

/**
 * What is being sent to a destination (one per ordered lane of it), recorded before the first attempt
 * and kept until the send is confirmed: a retry, or the next process after a crash, finds it and its
 * destination kind decides what it means (a Discord message is sent again unchanged, same nonce). The
 * kind adds its own fields (the composed message); the worker's are these.
 */
export interface InFlightRecord {
	/** The event ids it carries, in order. */
	ids: string[];
	/** Epoch ms of the first attempt. */
	since?: number;
	/** Set when the destination is held at this record until a person decides (resend or skip). */
	held?: { reason: string; at: number };
}

/** An in-flight record as read back: the worker's fields plus whatever its kind stored. */
export type StoredInFlight = InFlightRecord & Record<string, unknown>;

export interface FailedEntry extends OutboxEntry {
	failedAt: number;
	/**
	 * A person chose not to send it (Skip on a held forward target): listed with the failed deliveries
	 * for the record, never replayed, since sending it is exactly what was decided against.
	 */
	skipped?: true;
}

/** Rows read per step when paging the outbox in key order. */
const READ_PAGE = 500;

/**
 * An entry's key in `outbox` and `failed`: the destination first, so a destination's entries are one
 * range in key order (paged from the store without reading the others'), then the event id, which sorts
 * by receive time.
 */
export const outboxKey = (destination: string, id: string): string => `${destination}/${id}`;

/** A new event's outbox entry for one destination, and the write that stores it (see ingest). */
export function outboxAddition(
	event: Event,
	destination: string,
	request?: Arrival,
): { entry: OutboxEntry; write: Write } {
	const entry: OutboxEntry = { event, destination, attempts: 0, notBefore: 0, ...(request && { request }) };
	return { entry, write: { collection: 'outbox', key: outboxKey(destination, event.id), value: entry } };
}

/** A fenced bookkeeping write was refused: this instance no longer holds the delivery lease. */
export class LeaseLostError extends Error {
	constructor() {
		super('this instance no longer holds the delivery lease');
	}
}

/**
 * The durable queue between the receiver and Discord. Everything here is one atomic store step; the
 * worker keeps the in-memory view.
 *
 * `commit` is how the worker's bookkeeping (retry state, the message in flight, dead letters) is
 * stored: a leader passes its lease's fenced commit (Lease.commit), so a leader that lost the lease
 * writes nothing over the next one's work, and gets LeaseLostError. Confirming a delivery (`remove`) is
 * never fenced: the message is on Discord whoever leads now.
 */
export function createOutbox(
	store: Store,
	now: () => number = Date.now,
	commit: (changes: Change[]) => Promise<boolean> = (changes) => store.commit(changes),
) {
	async function bookkeep(changes: Change[]): Promise<void> {
		if (!(await commit(changes))) throw new LeaseLostError();
	}
	async function listFailed(): Promise<FailedEntry[]> {
		const entries: FailedEntry[] = [];
		if (!store.failed.iterator) return entries;
		for await (const [, value] of store.failed.iterator(undefined)) entries.push(value as FailedEntry);
		return entries.sort((a, b) => (a.event.id < b.event.id ? -1 : 1));
	}
	async function* scan(): AsyncGenerator<OutboxEntry> {
		if (!store.outbox.iterator) throw new Error('the store cannot list the outbox');
		for await (const [, value] of store.outbox.iterator(undefined)) yield value as OutboxEntry;
	}

	return {
		async update(entry: OutboxEntry): Promise<void> {
			await bookkeep([
				{ collection: 'outbox', key: outboxKey(entry.destination, entry.event.id), value: entry },
			]);
		},
		/** One pending entry, as stored. */
		async get(destination: string, id: string): Promise<OutboxEntry | undefined> {
			return (await store.outbox.get(outboxKey(destination, id))) as OutboxEntry | undefined;
		},
		/** Confirms delivery of these events to `destination`. */
		async remove(destination: string, ids: string[]): Promise<void> {
			if (ids.length > 0) await store.outbox.delete(ids.map((id) => outboxKey(destination, id)));
		},
		/** Moves an entry to other destinations (its own is no longer routed), as one fenced step. */
		async move(entry: OutboxEntry, destinations: string[]): Promise<OutboxEntry[]> {
			const moved = destinations.map((destination) => ({ ...entry, destination }));
			await bookkeep([
				{ collection: 'outbox', key: outboxKey(entry.destination, entry.event.id), remove: true },
				...moved.map((value) => ({
					collection: 'outbox' as const,
					key: outboxKey(value.destination, value.event.id),
					value,
				})),
			]);
			return moved;
		},
		/** Every pending entry, in the store's order, one at a time: memory does not grow with the outbox. */
		scan,
		/**
		 * The `limit` oldest pending entries of `destination` after event id `after` that `where` accepts,
		 * oldest first. Where the store keeps keys in order (SQLite, PostgreSQL) it reads the destination's
		 * range from `after` on, a page at a time, until it has them; elsewhere it reads the whole outbox.
		 * Either way it holds at most `limit` entries.
		 */
		async page(
			destination: string,
			limit: number,
			{ after, where }: { after?: string | null; where?: (entry: OutboxEntry) => boolean } = {},
		): Promise<OutboxEntry[]> {
			const kept: OutboxEntry[] = [];
			const range = outboxKey(destination, '');
			if (store.readAfter) {
				for (let cursor = outboxKey(destination, after ?? ''); kept.length < limit; ) {
					const rows = await store.readAfter('outbox', cursor, READ_PAGE);
					for (const { key, value } of rows) {
						if (!key.startsWith(range)) return kept;
						const entry = value as OutboxEntry;
						if (where && !where(entry)) continue;
						kept.push(entry);
						if (kept.length === limit) break;
					}
					if (rows.length < READ_PAGE) break;
					cursor = (rows.at(-1) as { key: string }).key;
				}
				return kept;
			}
			for await (const entry of scan()) {
				const id = entry.event.id;
				if (entry.destination !== destination) continue;
				if ((after && id <= after) || (where && !where(entry))) continue;
				if (kept.length === limit && id > (kept.at(-1)?.event.id ?? '')) continue;
				kept.splice(sortedIndex(kept, id), 0, entry);
				if (kept.length > limit) kept.pop();
			}
			return kept;
		},
		/** The in-flight record of a destination's lane (`lane` is the destination's key or `<key>/<order key>`). */
		async getBatch(lane: string): Promise<StoredInFlight | undefined> {
			return (await store.batches.get(lane)) as StoredInFlight | undefined;
		},
		async setBatch(lane: string, record: StoredInFlight): Promise<void> {
			await bookkeep([{ collection: 'batches', key: lane, value: record }]);
		},
		async clearBatch(lane: string): Promise<void> {
			await bookkeep([{ collection: 'batches', key: lane, remove: true }]);
		},
		/** Dead letter: the retry budget is spent, or a person skipped it. Kept for `/alerts failed` and replay. */
		async fail(entry: OutboxEntry, destination: string, failedAt: number, skipped = false): Promise<void> {
			const failed: FailedEntry = { ...entry, failedAt, destination, ...(skipped && { skipped: true }) };
			const key = outboxKey(destination, entry.event.id);
			await bookkeep([
				{ collection: 'failed', key, value: failed },
				{ collection: 'outbox', key, remove: true },
			]);
		},
		listFailed,
		/**
		 * Moves failed entries back to the outbox with a fresh retry budget: every destination an event
		 * with one of these ids failed at, except where a person skipped it.
		 */
		async replay(ids: string[]): Promise<OutboxEntry[]> {
			const wanted = new Set(ids);
			const replayed: OutboxEntry[] = [];
			for (const failed of await listFailed()) {
				if (!wanted.has(failed.event.id) || failed.skipped) continue;
				const { event, destination } = failed;
				const entry: OutboxEntry = { event, destination, attempts: 0, notBefore: 0, budgetFrom: now() };
				const key = outboxKey(destination, event.id);
				await store.commit([
					{ collection: 'outbox', key, value: entry },
					{ collection: 'failed', key, remove: true },
				]);
				replayed.push(entry);
			}
			return replayed;
		},
	};
}

export type Outbox = ReturnType<typeof createOutbox>;

/** Where an entry with this id goes in a list sorted by id. */
export function sortedIndex(entries: OutboxEntry[], id: string): number {
	let low = 0;
	let high = entries.length;
	while (low < high) {
		const mid = (low + high) >>> 1;
		if ((entries[mid] as OutboxEntry).event.id < id) low = mid + 1;
		else high = mid;
	}
	return low;
}
