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

/** Records the ticket's thread at one destination, keeping the other destinations' entries. */
export function recordTicketThread(
	store: Pick<Store, 'read' | 'commit'>,
	ticketId: string,
	destination: string,
	thread: TicketThread,
): Promise<void> {
	return changeTicketThreads(store, ticketId, (threads) => ({ ...threads, [destination]: thread }));
}

/** Forgets the ticket's thread at one destination (it was deleted in Discord): the next post starts another. */
export function forgetTicketThread(
	store: Pick<Store, 'read' | 'commit'>,
	ticketId: string,
	destination: string,
): Promise<void> {
	return changeTicketThreads(store, ticketId, (threads) => {
		if (!(destination in threads)) return undefined;
		const { [destination]: _forgotten, ...rest } = threads;
		return rest;
	});
}

/**
 * A compare-and-set on the ticket's record: `change` returns the new record (undefined: nothing to
 * write), and the record is read again when another writer changed it in between.
 */
async function changeTicketThreads(
	store: Pick<Store, 'read' | 'commit'>,
	ticketId: string,
	change: (threads: TicketThreads) => TicketThreads | undefined,
): Promise<void> {
	for (let attempt = 0; attempt < 20; attempt++) {
		const { value, stored } = await store.read('threads', ticketId);
		const next = change((value as TicketThreads | undefined) ?? {});
		if (next === undefined) return;
		const write = { collection: 'threads' as const, key: ticketId, value: next };
		if (await store.commit([{ ...write, ...(stored !== undefined && { expect: stored }) }])) return;
	}
	throw new Error(`ticket ${ticketId}: its thread record kept changing`);
}
