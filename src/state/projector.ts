import type { Event } from '../events/event.js';
import type { AccountIndex } from './account-index.js';
import type { KeyedLock } from './keyed-lock.js';
import {
	type AccountState,
	type CertState,
	projectAccount,
	projectCert,
	projectTicket,
	type TicketState,
} from './project.js';
import type { Store } from './store.js';

/**
 * Applies an event to the account, certificate or ticket it concerns: one locked read-modify-write.
 * Safe to run twice for one event (the projections are idempotent).
 */
export function createProjector(store: Store, lock: KeyedLock, accounts?: AccountIndex) {
	return async function project(event: Event): Promise<void> {
		if ('username' in event && event.username) {
			const key = event.username.toLowerCase();
			await lock.run(`accounts:${key}`, async () => {
				const previous = (await store.accounts.get(key)) as AccountState | undefined;
				const next = projectAccount(previous, event);
				if (next !== previous) await store.accounts.set(key, next);
			});
			accounts?.add(key);
		}
		if (event.kind === 'cert.issued' || event.kind === 'cert.updated' || event.kind === 'cert.deleted') {
			await lock.run(`certs:${event.requestId}`, async () => {
				const previous = (await store.certs.get(event.requestId)) as CertState | undefined;
				const next = projectCert(previous, event);
				if (next !== previous) await store.certs.set(event.requestId, next);
			});
		}
		if (event.kind === 'ticket.replied' || event.kind === 'ticket.closed') {
			await lock.run(`tickets:${event.ticketId}`, async () => {
				const previous = (await store.tickets.get(event.ticketId)) as TicketState | undefined;
				const next = projectTicket(previous, event);
				if (next !== previous) await store.tickets.set(event.ticketId, next);
			});
		}
	};
}

export type Projector = ReturnType<typeof createProjector>;
