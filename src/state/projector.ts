import { type Event, isTicketEvent } from '../events/event.js';
import type { Store } from '../store/store.js';
import type { Change } from '../store/unit.js';
import type { AccountIndex } from './account-index.js';
import type { KeyedLock } from './keyed-lock.js';
import { projectAccount, projectCert, projectTicket, type TicketState } from './projections.js';

/** A record an event changes: where it lives and how the event changes it. */
interface Target {
	collection: 'accounts' | 'certs' | 'tickets' | 'keys';
	key: string;
	apply(previous: never): unknown;
}

/**
 * `ticketOwner`: the vPanel username a ticket callback concerns, from the ticket's record (a callback
 * names only the ticket): its events go into that account's history too.
 */
function targetsOf(event: Event, ticketOwner?: string): Target[] {
	const targets: Target[] = [];
	const username = 'username' in event && event.username ? event.username : ticketOwner;
	if (username) {
		targets.push({
			collection: 'accounts',
			key: username.toLowerCase(),
			// An account exists once MOFH called back about it: a staff action alone never creates one.
			apply: (previous) =>
				previous === undefined && event.kind === 'account.action'
					? previous
					: projectAccount(previous, { ...event, username }),
		});
		// Remember which vPanel username a key belongs to: suspend and unsuspend name accounts by key.
		if (event.kind === 'account.action' && event.username) {
			const owner = event.username.toLowerCase();
			targets.push({ collection: 'keys', key: event.key.toLowerCase(), apply: () => owner });
		}
	}
	if (event.kind === 'cert.issued' || event.kind === 'cert.updated' || event.kind === 'cert.deleted') {
		targets.push({
			collection: 'certs',
			key: event.requestId,
			apply: (previous) => projectCert(previous, event),
		});
	}
	if (isTicketEvent(event)) {
		targets.push({
			collection: 'tickets',
			key: event.ticketId,
			apply: (previous) => projectTicket(previous, event),
		});
	}
	return targets;
}

/** How often a unit is retried when another process changed one of its records in between. */
const MAX_ATTEMPTS = 20;

/**
 * Applies an event to the account, certificate or ticket it concerns, and commits the new state in one
 * unit with `alongside` (the ingest's outbox entry and fingerprint, and what its caller adds): all of it is stored, or none. Each
 * record's read-modify-write holds that record's lock until the commit, always taken in the same order
 * (accounts, keys, certs, tickets), so two events for one account never lose each other's change. The
 * lock is per process: on a store shared by several instances each changed record is written only if it
 * is still as read (Write.expect), and the unit is read and applied again when another instance got
 * there first. Safe to run twice for one event (the projections are idempotent).
 */
export function createProjector(store: Store, lock: KeyedLock, accounts?: AccountIndex) {
	return async function project(event: Event, alongside: Change[] = []): Promise<void> {
		// Whose ticket it is was recorded when it was opened (or first replied to) and does not change after.
		const owner =
			isTicketEvent(event) && !('username' in event)
				? ((await store.read('tickets', event.ticketId)).value as TicketState | undefined)?.username
				: undefined;
		const targets = targetsOf(event, owner);
		const commit = async () => {
			for (let attempt = 1; ; attempt++) {
				const writes: Change[] = [...alongside];
				for (const { collection, key, apply } of targets) {
					const { value: previous, stored } = await store.read(collection, key);
					const next = apply(previous as never);
					if (next !== previous)
						writes.push({ collection, key, value: next, ...(stored !== undefined && { expect: stored }) });
				}
				if (await store.commit(writes)) return;
				if (attempt === MAX_ATTEMPTS)
					throw new Error(`${event.id}: its records kept changing under it (${attempt} attempts)`);
			}
		};
		const locked = targets.reduceRight<() => Promise<void>>(
			(inner, { collection, key }) =>
				() =>
					lock.run(`${collection}:${key}`, inner),
			commit,
		);
		await locked();
		for (const { collection, key } of targets) if (collection === 'accounts') accounts?.add(key);
	};
}

export type Projector = ReturnType<typeof createProjector>;
