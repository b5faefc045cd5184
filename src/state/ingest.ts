import type { FastifyBaseLogger } from 'fastify';
import type { Outbox, OutboxEntry } from '../delivery/outbox.js';
import type { Event, ParsedEvent } from '../events/event.js';
import { newEventId } from '../events/id.js';
import type { Projector } from './projector.js';

/** The store refused the write: the receiver answers 503 and the provider retries. */
export class StoreUnavailableError extends Error {
	override name = 'StoreUnavailableError';
}

export interface IngestDeps {
	outbox: Outbox;
	project: Projector;
	log: FastifyBaseLogger;
	/** Hands the stored entry to the delivery worker. */
	notify: (entry: OutboxEntry) => void;
	now?: () => number;
}

export type Ingest = (parsed: ParsedEvent) => Promise<Event>;

/**
 * parsed event ─▶ one durable outbox write ─▶ state projection ─▶ worker. Only the outbox write decides
 * the answer: once it is done the event cannot be lost, and a projection that fails is re-run from the
 * outbox at the next start.
 */
export function createIngest({ outbox, project, log, notify, now = Date.now }: IngestDeps): Ingest {
	return async (parsed) => {
		const receivedAt = now();
		const event = { ...parsed, id: newEventId(receivedAt), receivedAt } as Event;
		let entry: OutboxEntry;
		try {
			entry = await outbox.add(event);
		} catch (error) {
			throw new StoreUnavailableError('the store did not take the event', { cause: error });
		}
		try {
			await project(event);
		} catch (error) {
			log.error(
				{ err: error, eventId: event.id },
				'state projection failed; it is retried at the next start',
			);
		}
		notify(entry);
		return event;
	};
}
