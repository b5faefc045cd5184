import type { Event, ParsedEvent } from '../events/event.js';
import { duplicateWindowMs, fingerprint } from '../events/fingerprint.js';
import { newEventId } from '../events/id.js';
import type { Store } from '../store/store.js';
import type { Change, Write } from '../store/unit.js';
import { countAddition } from './counts.js';
import { type Arrival, forwardDestination } from './forwards.js';
import type { KeyedLock } from './keyed-lock.js';
import { type OutboxEntry, outboxAddition } from './outbox.js';
import type { Projector } from './projector.js';

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
	project: Projector;
	/** Where fingerprints of recent callbacks are kept, with the provider's retry window as TTL. */
	store: Pick<Store, 'claim' | 'seen'>;
	lock: KeyedLock;
	/** The keys of the destinations an event goes to (none: its topic is muted, it is only recorded). */
	route: (event: Event) => string[];
	/** Hands a stored entry to the delivery worker. */
	notify: (entry: OutboxEntry) => void;
	/** The forward targets (keys) of each provider: a callback with an arrival is queued for each. */
	forwardTo?: (provider: Event['provider']) => readonly string[];
	now: () => number;
}

export interface Ingested {
	/** The stored event's id; for a duplicate, the id of the callback it repeats. */
	id: string;
	/** True when this callback repeats one already stored (a provider retry): nothing new was done. */
	duplicate: boolean;
}

/**
 * `alongside`: changes of the caller's own committed in the event's unit, e.g. a staff action's record
 * removed together with the storing of its audit event. Not committed when the callback is a duplicate.
 * `arrival`: the callback as it arrived, queued in the same unit for each of the provider's forward
 * targets (a duplicate is not forwarded again).
 */
export type Ingest = (parsed: ParsedEvent, alongside?: Change[], arrival?: Arrival) => Promise<Ingested>;

/**
 * parsed event ─▶ duplicate check ─▶ one unit: outbox entries + fingerprint + state change + the
 * hour's counts ─▶ worker.
 * The unit is committed atomically (see Store.commit), so a crash or a failure at any point leaves either
 * nothing (the callback is answered 503 or not at all, and the provider retries) or the event, its
 * fingerprint and its state together. A projection that fails fails the callback the same way. The check
 * and the commit run under one per-fingerprint lock, so concurrent copies collapse too.
 */
export function createIngest({
	project,
	store,
	lock,
	route,
	notify,
	forwardTo = () => [],
	now,
}: IngestDeps): Ingest {
	return (parsed, alongside = [], arrival) => {
		const print = fingerprint(parsed);
		return lock.run(`seen:${print}`, async () => {
			// On shared stores the claim is a short lease (a write) that a crash releases by expiring; on
			// SQLite and memory it only reads, and the lock above covers this process.
			let earlier: string | undefined;
			try {
				earlier = await store.claim(print, STORING, LEASE_MS);
			} catch (error) {
				throw new StoreUnavailableError('the store did not answer the duplicate check', { cause: error });
			}
			if (earlier === STORING) throw new InProgressError('an identical callback is being stored; retry');
			if (earlier) return { id: earlier, duplicate: true };
			const receivedAt = now();
			const event = { ...parsed, id: newEventId(receivedAt), receivedAt } as Event;
			// One outbox entry per destination (fan-out), each delivered and retried on its own; a callback
			// with its arrival kept also gets one for each of its provider's forward targets.
			const targets = arrival ? forwardTo(event.provider) : [];
			const additions = [
				...route(event).map((destination) => outboxAddition(event, destination)),
				...targets.map((target) => outboxAddition(event, forwardDestination(target), arrival)),
			];
			const seen: Write = {
				collection: 'seen',
				key: print,
				value: event.id,
				ttlMs: duplicateWindowMs(parsed),
			};
			try {
				await project(event, [
					...additions.map(({ write }) => write),
					seen,
					countAddition(event),
					...alongside,
				]);
			} catch (error) {
				// Release the lease at once so the provider's retry is not refused until it expires.
				await store.seen.delete(print).catch(() => {});
				throw new StoreUnavailableError('the store did not take the event', { cause: error });
			}
			for (const { entry } of additions) notify(entry);
			return { id: event.id, duplicate: false };
		});
	};
}
