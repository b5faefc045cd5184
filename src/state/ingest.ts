import type { FastifyBaseLogger } from 'fastify';
import type { Outbox, OutboxEntry } from '../delivery/outbox.js';
import type { Event, ParsedEvent } from '../events/event.js';
import { DUPLICATE_WINDOW_MS, fingerprint } from '../events/fingerprint.js';
import { newEventId } from '../events/id.js';
import type { KeyedLock } from './keyed-lock.js';
import type { Projector } from './projector.js';
import type { Store } from './store.js';

/**
 * Another process is storing an identical callback right now (shared Redis or Postgres store): answering
 * 503 makes the provider retry, and the retry then finds the stored event. Answering 200 could lose the
 * callback if that other process died before its write.
 */
export class InProgressError extends Error {
	override name = 'InProgressError';
}

/** The claim's value while the event is being written; `LEASE_MS` bounds how long a crash can hold it. */
const STORING = 'storing';
const LEASE_MS = 30_000;

/** The store refused the write: the receiver answers 503 and the provider retries. */
export class StoreUnavailableError extends Error {
	override name = 'StoreUnavailableError';
}

export interface IngestDeps {
	outbox: Outbox;
	project: Projector;
	/** Where fingerprints of recent callbacks are kept, with the provider's retry window as TTL. */
	store: Pick<Store, 'claim' | 'seen'>;
	lock: KeyedLock;
	log: FastifyBaseLogger;
	/** Hands the stored entry to the delivery worker. */
	notify: (entry: OutboxEntry) => void;
	now?: () => number;
}

export interface Ingested {
	/** The stored event's id; for a duplicate, the id of the callback it repeats. */
	id: string;
	/** True when this callback repeats one already stored (a provider retry): nothing new was done. */
	duplicate: boolean;
}

export type Ingest = (parsed: ParsedEvent) => Promise<Ingested>;

/**
 * parsed event ─▶ duplicate check ─▶ one durable outbox write ─▶ state projection ─▶ worker.
 * Only the outbox write decides the answer: once it is done the event cannot be lost, and a projection
 * that fails is re-run from the outbox at the next start. The fingerprint is recorded after the outbox
 * write, so a crash between the two can at worst let one retry through, never lose an event; the check
 * and the write run under one per-fingerprint lock, so concurrent copies collapse too.
 */
export function createIngest({
	outbox,
	project,
	store,
	lock,
	log,
	notify,
	now = Date.now,
}: IngestDeps): Ingest {
	return (parsed) => {
		const print = fingerprint(parsed);
		return lock.run(`seen:${print}`, async () => {
			let entry: OutboxEntry;
			try {
				// Claim first (a short lease), then store, then record the event id for the retry window.
				const earlier = await store.claim(print, STORING, LEASE_MS);
				if (earlier === STORING) throw new InProgressError('an identical callback is being stored; retry');
				if (earlier) return { id: earlier, duplicate: true };
				const receivedAt = now();
				const event = { ...parsed, id: newEventId(receivedAt), receivedAt } as Event;
				try {
					entry = await outbox.add(event);
				} catch (error) {
					await store.seen.delete(print).catch(() => {});
					throw error;
				}
				await store.seen.set(print, event.id, DUPLICATE_WINDOW_MS[parsed.provider]).catch((error) => {
					log.warn({ err: error }, 'could not record the callback fingerprint; a retry may alert twice');
				});
			} catch (error) {
				if (error instanceof InProgressError) throw error;
				throw new StoreUnavailableError('the store did not take the event', { cause: error });
			}
			try {
				await project(entry.event);
			} catch (error) {
				log.error(
					{ err: error, eventId: entry.event.id },
					'state projection failed; it is retried at the next start',
				);
			}
			notify(entry);
			return { id: entry.event.id, duplicate: false };
		});
	};
}
