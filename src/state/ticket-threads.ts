import type { Store } from '../store/store.js';

/**
 * Where a MOFH ticket's conversation lives in Discord, per destination (a bot channel's thread, a forum
 * post, a forum webhook's post): kept in the store so that a restart, another instance or a second copy
 * of a callback finds the thread instead of starting another. Written by delivery only.
 */
export interface TicketThread {
	/**
	 * The thread's (or post's) channel id; for a thread started on an alert, that alert's message id,
	 * recorded as soon as the alert is posted. Absent while a forum post is being made.
	 */
	threadId?: string;
	/** The text or forum channel it is in (for a webhook's forum post: the destination, whose channel a webhook does not name). */
	parentId: string;
	/** The thread exists (false: the alert is posted, or the post was asked for, and the outcome is not known). */
	started: boolean;
	/** When delivery recorded it. */
	at: number;
}

/** Per destination key (`channel:<id>`, `webhook:<id>`). */
export type TicketThreads = Record<string, TicketThread>;

export async function ticketThreads(store: Pick<Store, 'threads'>, ticketId: string): Promise<TicketThreads> {
	return ((await store.threads.get(ticketId)) as TicketThreads | undefined) ?? {};
}

/**
 * Records the ticket's thread at one destination, keeping the other destinations' entries: a compare-
 * and-set on the record, read again when another writer changed it in between.
 */
export async function recordTicketThread(
	store: Pick<Store, 'read' | 'commit'>,
	ticketId: string,
	destination: string,
	thread: TicketThread,
): Promise<void> {
	for (let attempt = 0; attempt < 20; attempt++) {
		const { value, stored } = await store.read('threads', ticketId);
		const next = { ...((value as TicketThreads | undefined) ?? {}), [destination]: thread };
		if (
			await store.commit([
				{
					collection: 'threads',
					key: ticketId,
					value: next,
					...(stored !== undefined && { expect: stored }),
				},
			])
		)
			return;
	}
	throw new Error(`ticket ${ticketId}: its thread record kept changing`);
}

/** Forgets the ticket's thread at one destination (it was deleted in Discord): the next post starts another. */
export async function forgetTicketThread(
	store: Pick<Store, 'read' | 'commit'>,
	ticketId: string,
	destination: string,
): Promise<void> {
	for (let attempt = 0; attempt < 20; attempt++) {
		const { value, stored } = await store.read('threads', ticketId);
		const next = { ...((value as TicketThreads | undefined) ?? {}) };
		if (!(destination in next)) return;
		delete next[destination];
		if (
			await store.commit([
				{
					collection: 'threads',
					key: ticketId,
					value: next,
					...(stored !== undefined && { expect: stored }),
				},
			])
		)
			return;
	}
	throw new Error(`ticket ${ticketId}: its thread record kept changing`);
}
