import type { Event } from '../events/event.js';
import type { Store } from '../state/store.js';

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

/** A message being sent: kept until Discord confirms it so a retry re-sends the same nonce and events. */
export interface BatchRecord {
	nonce: string;
	ids: string[];
}

export interface FailedEntry extends OutboxEntry {
	failedAt: number;
	destination: string;
}

/**
 * The durable queue between the receiver and Discord. Everything here is one store write or read; the
 * worker keeps the in-memory view.
 */
export function createOutbox(store: Store) {
	return {
		/** The one write a callback needs before it is acknowledged. */
		async add(event: Event): Promise<OutboxEntry> {
			const entry: OutboxEntry = { event, attempts: 0, notBefore: 0 };
			await store.outbox.set(event.id, entry);
			return entry;
		},
		async update(entry: OutboxEntry): Promise<void> {
			await store.outbox.set(entry.event.id, entry);
		},
		async remove(ids: string[]): Promise<void> {
			if (ids.length > 0) await store.outbox.delete(ids);
		},
		/** Every pending entry, oldest first (ids sort by receive time). */
		async pending(): Promise<OutboxEntry[]> {
			const entries: OutboxEntry[] = [];
			if (!store.outbox.iterator) throw new Error('the store cannot list the outbox');
			for await (const [, value] of store.outbox.iterator(undefined)) entries.push(value as OutboxEntry);
			return entries.sort((a, b) => (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0));
		},
		async getBatch(destination: string): Promise<BatchRecord | undefined> {
			return (await store.batches.get(destination)) as BatchRecord | undefined;
		},
		async setBatch(destination: string, batch: BatchRecord): Promise<void> {
			await store.batches.set(destination, batch);
		},
		async clearBatch(destination: string): Promise<void> {
			await store.batches.delete(destination);
		},
		/** Dead letter: the retry budget is spent. Kept for `/alerts failed` and replay. */
		async fail(entry: OutboxEntry, destination: string, failedAt: number): Promise<void> {
			const failed: FailedEntry = { ...entry, failedAt, destination };
			await store.failed.set(entry.event.id, failed);
			await store.outbox.delete(entry.event.id);
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
				const entry: OutboxEntry = { event: failed.event, attempts: 0, notBefore: 0, budgetFrom: Date.now() };
				await store.outbox.set(id, entry);
				await store.failed.delete(id);
				replayed.push(entry);
			}
			return replayed;
		},
	};
}

export type Outbox = ReturnType<typeof createOutbox>;
