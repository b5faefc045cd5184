import type { APIEmbed } from 'discord-api-types/v10';
import type { Event } from '../events/event.js';
import type { Store } from './store.js';
import type { Change, Write } from './unit.js';

/** A pending delivery: the event plus the worker's bookkeeping. Keyed by event id in `outbox`. */
export interface OutboxEntry {
	event: Event;
	attempts: number;
	/** Epoch ms before which the worker leaves the entry alone (backoff). */
	notBefore: number;
	lastError?: string;
	/** Epoch ms the retry budget counts from when not the event's receipt: the last replay. */
	budgetFrom?: number;
}

/**
 * A message being sent: kept until Discord confirms it so a retry, or the next process after a crash,
 * re-sends the very same message (content and embeds fixed when it was composed) with the same nonce.
 */
export interface BatchRecord {
	nonce: string;
	ids: string[];
	/** The message as composed. Absent in records written before digests: then it is rendered again. */
	content?: string;
	embeds?: APIEmbed[];
	/** Epoch ms of the first attempt: past Discord's nonce window the channel is checked before re-sending. */
	since?: number;
}

export interface FailedEntry extends OutboxEntry {
	failedAt: number;
	destination: string;
}

/** Rows read per step when paging the outbox in key order. */
const READ_PAGE = 500;

/** A new event's outbox entry, and the write that stores it (committed in the callback's unit, see ingest). */
export function outboxAddition(event: Event): { entry: OutboxEntry; write: Write } {
	const entry: OutboxEntry = { event, attempts: 0, notBefore: 0 };
	return { entry, write: { collection: 'outbox', key: event.id, value: entry } };
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
	async function* scan(): AsyncGenerator<OutboxEntry> {
		if (!store.outbox.iterator) throw new Error('the store cannot list the outbox');
		for await (const [, value] of store.outbox.iterator(undefined)) yield value as OutboxEntry;
	}

	return {
		async update(entry: OutboxEntry): Promise<void> {
			await bookkeep([{ collection: 'outbox', key: entry.event.id, value: entry }]);
		},
		async remove(ids: string[]): Promise<void> {
			if (ids.length > 0) await store.outbox.delete(ids);
		},
		/** Every pending entry, oldest first (ids sort by receive time). */
		async pending(): Promise<OutboxEntry[]> {
			const entries: OutboxEntry[] = [];
			for await (const entry of scan()) entries.push(entry);
			return entries.sort((a, b) => (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0));
		},
		/** Every pending entry, in the store's order, one at a time: memory does not grow with the outbox. */
		scan,
		/**
		 * The `limit` oldest pending entries after id `after` that `where` accepts, oldest first. Where the
		 * store keeps keys in order (SQLite, PostgreSQL) it reads from `after` on, a page at a time, until it
		 * has them; elsewhere it reads the whole outbox. Either way it holds at most `limit` entries.
		 */
		async page(
			limit: number,
			{ after, where }: { after?: string | null; where?: (entry: OutboxEntry) => boolean } = {},
		): Promise<OutboxEntry[]> {
			const kept: OutboxEntry[] = [];
			if (store.readAfter) {
				for (let cursor = after ?? ''; kept.length < limit; ) {
					const rows = await store.readAfter('outbox', cursor, READ_PAGE);
					for (const { value } of rows) {
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
				if ((after && id <= after) || (where && !where(entry))) continue;
				if (kept.length === limit && id > (kept.at(-1)?.event.id ?? '')) continue;
				kept.splice(sortedIndex(kept, id), 0, entry);
				if (kept.length > limit) kept.pop();
			}
			return kept;
		},
		async getBatch(destination: string): Promise<BatchRecord | undefined> {
			return (await store.batches.get(destination)) as BatchRecord | undefined;
		},
		async setBatch(destination: string, batch: BatchRecord): Promise<void> {
			await bookkeep([{ collection: 'batches', key: destination, value: batch }]);
		},
		async clearBatch(destination: string): Promise<void> {
			await bookkeep([{ collection: 'batches', key: destination, remove: true }]);
		},
		/** Dead letter: the retry budget is spent. Kept for `/alerts failed` and replay. */
		async fail(entry: OutboxEntry, destination: string, failedAt: number): Promise<void> {
			const failed: FailedEntry = { ...entry, failedAt, destination };
			const id = entry.event.id;
			await bookkeep([
				{ collection: 'failed', key: id, value: failed },
				{ collection: 'outbox', key: id, remove: true },
			]);
		},
		async listFailed(): Promise<FailedEntry[]> {
			const entries: FailedEntry[] = [];
			if (!store.failed.iterator) return entries;
			for await (const [, value] of store.failed.iterator(undefined)) entries.push(value as FailedEntry);
			return entries.sort((a, b) => (a.event.id < b.event.id ? -1 : 1));
		},
		/** Moves failed entries back to the outbox with a fresh retry budget. */
		async replay(ids: string[]): Promise<OutboxEntry[]> {
			const replayed: OutboxEntry[] = [];
			for (const id of ids) {
				const failed = (await store.failed.get(id)) as FailedEntry | undefined;
				if (!failed) continue;
				const entry: OutboxEntry = { event: failed.event, attempts: 0, notBefore: 0, budgetFrom: now() };
				await store.commit([
					{ collection: 'outbox', key: id, value: entry },
					{ collection: 'failed', key: id, remove: true },
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
