import type { Event, EventOf, SuspensionReason, TicketEvent } from '../events/event.js';
import { summarize } from '../events/summary.js';

/**
 * Pure projections: (previous state, event) ─▶ next state. They are idempotent (an event already in a
 * history is ignored, so replaying the outbox after a crash is safe) and tolerate callbacks arriving out
 * of order (a status only changes for an event at least as new as the one that set it).
 */

export const HISTORY_LIMIT = 50;

export interface HistoryEntry {
	id: string;
	at: number;
	kind: Event['kind'];
	summary: string;
}

export type AccountStatus = 'active' | 'suspended' | 'deleted' | 'unknown';

export interface AccountState {
	username: string;
	status: AccountStatus;
	/** Receive time of the callback that set `status`; absent while the status is only inferred. */
	statusAt?: number;
	suspension?: SuspensionReason;
	sqlCluster?: string;
	domains: string[];
	/** The account's key (what suspend and unsuspend take), once a staff action has tied it to the username. */
	key?: string;
	firstSeen: number;
	updatedAt: number;
	history: HistoryEntry[];
}

export interface CertStep {
	id: string;
	at: number;
	kind: 'cert.issued' | 'cert.updated' | 'cert.deleted' | 'unrecognized';
	state?: string;
	domain?: string;
}

export interface CertState {
	requestId: string;
	status: 'in_progress' | 'issued' | 'deleted';
	statusAt?: number;
	dcvDomains: string[];
	steps: CertStep[];
	firstSeen: number;
	updatedAt: number;
}

/** One turn of a ticket's conversation: staff's side (opened, reply sent) or support's (replied, closed). */
export interface TicketTurn {
	id: string;
	at: number;
	kind: TicketEvent['kind'];
	text: string;
	/** The member, for staff's side. */
	by?: string;
}

export interface TicketState {
	ticketId: string;
	status: 'open' | 'closed';
	statusAt?: number;
	/** The conversation as hookcord has it, in time order (the name is older than staff's side of it). */
	replies: TicketTurn[];
	subject?: string;
	/**
	 * What a reply to MOFH needs and no callback carries (docs/providers.md A.3): the account's vPanel
	 * username, the domain and the address, kept from the opening, or from the first reply staff sent for a
	 * ticket opened elsewhere.
	 */
	username?: string;
	domain?: string;
	ip?: string;
	openedBy?: { id: string; name: string };
	openedAt?: number;
	firstSeen: number;
	updatedAt: number;
}

const STATUS_OF: Partial<Record<Event['kind'], AccountStatus>> = {
	'account.activated': 'active',
	'account.reactivated': 'active',
	'account.suspended': 'suspended',
	'account.deleted': 'deleted',
};

export function projectAccount(
	previous: AccountState | undefined,
	event: Event & { username?: string },
): AccountState {
	if (!event.username) throw new Error(`event ${event.id} concerns no account`);
	if (previous?.history.some((entry) => entry.id === event.id)) return previous;
	const state: AccountState = previous
		? { ...previous, domains: [...previous.domains], history: [...previous.history] }
		: {
				username: event.username,
				status: 'unknown',
				domains: [],
				firstSeen: event.receivedAt,
				updatedAt: 0,
				history: [],
			};

	const status = STATUS_OF[event.kind];
	if (status && (state.statusAt === undefined || event.receivedAt >= state.statusAt)) {
		state.status = status;
		state.statusAt = event.receivedAt;
		if (event.kind === 'account.suspended') state.suspension = (event as EventOf<'account.suspended'>).reason;
		else delete state.suspension;
	}
	if (event.kind === 'account.sql_cluster') {
		state.sqlCluster = event.cluster;
		// The SQL callback can beat ACTIVATED; an account with a cluster exists and is live.
		if (state.status === 'unknown') state.status = 'active';
	}
	if (event.kind === 'account.action') state.key = event.key;
	if ((event.kind === 'domain.added' || event.kind === 'domain.removed') && event.domain) {
		const rest = state.domains.filter((domain) => domain !== event.domain);
		state.domains = event.kind === 'domain.added' ? [...rest, event.domain].sort() : rest;
	}
	state.firstSeen = Math.min(state.firstSeen, event.receivedAt);
	state.updatedAt = Math.max(state.updatedAt, event.receivedAt);
	state.history = insertByTime(state.history, {
		id: event.id,
		at: event.receivedAt,
		kind: event.kind,
		summary: summarize(event),
	}).slice(-HISTORY_LIMIT);
	return state;
}

export function projectCert(
	previous: CertState | undefined,
	event: EventOf<'cert.issued' | 'cert.updated' | 'cert.deleted'>,
): CertState {
	if (previous?.steps.some((step) => step.id === event.id)) return previous;
	const state: CertState = previous
		? { ...previous, dcvDomains: [...previous.dcvDomains], steps: [...previous.steps] }
		: {
				requestId: event.requestId,
				status: 'in_progress',
				dcvDomains: [],
				steps: [],
				firstSeen: event.receivedAt,
				updatedAt: 0,
			};

	const status =
		event.kind === 'cert.issued' ? 'issued' : event.kind === 'cert.deleted' ? 'deleted' : undefined;
	if (status && (state.statusAt === undefined || event.receivedAt >= state.statusAt)) {
		state.status = status;
		state.statusAt = event.receivedAt;
	}
	const step: CertStep = { id: event.id, at: event.receivedAt, kind: event.kind };
	if (event.kind === 'cert.updated') {
		if (event.state) step.state = event.state;
		if (event.domain) step.domain = event.domain;
		if (event.state === 'DCV' && event.domain && !state.dcvDomains.includes(event.domain)) {
			state.dcvDomains = [...state.dcvDomains, event.domain].sort();
		}
	}
	state.firstSeen = Math.min(state.firstSeen, event.receivedAt);
	state.updatedAt = Math.max(state.updatedAt, event.receivedAt);
	state.steps = insertByTime(state.steps, step).slice(-HISTORY_LIMIT * 2);
	return state;
}

export function projectTicket(previous: TicketState | undefined, event: TicketEvent): TicketState {
	if (previous?.replies.some((reply) => reply.id === event.id)) return previous;
	const state: TicketState = previous
		? { ...previous, replies: [...previous.replies] }
		: { ticketId: event.ticketId, status: 'open', replies: [], firstSeen: event.receivedAt, updatedAt: 0 };
	if (state.statusAt === undefined || event.receivedAt >= state.statusAt) {
		state.status = event.kind === 'ticket.closed' ? 'closed' : 'open';
		state.statusAt = event.receivedAt;
	}
	if (event.kind === 'ticket.opened' || event.kind === 'ticket.reply_sent') {
		// Told once, kept: a later reply needs them and no callback carries them.
		state.username ??= event.username;
		if (event.domain) state.domain ??= event.domain;
		if (event.ip) state.ip ??= event.ip;
		if (event.kind === 'ticket.opened') {
			if (event.subject) state.subject = event.subject;
			state.openedBy = event.by;
			state.openedAt = event.receivedAt;
		}
	}
	state.firstSeen = Math.min(state.firstSeen, event.receivedAt);
	state.updatedAt = Math.max(state.updatedAt, event.receivedAt);
	state.replies = insertByTime(state.replies, {
		id: event.id,
		at: event.receivedAt,
		kind: event.kind,
		text: event.text,
		...('by' in event && { by: event.by.name }),
	}).slice(-HISTORY_LIMIT);
	return state;
}

/** Keeps a timeline sorted by time (then id) when a late event lands in the middle. */
function insertByTime<T extends { id: string; at: number }>(list: T[], item: T): T[] {
	const index = list.findIndex((other) => other.at > item.at || (other.at === item.at && other.id > item.id));
	return index < 0 ? [...list, item] : [...list.slice(0, index), item, ...list.slice(index)];
}
