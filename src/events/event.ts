import type { DomainKind, SuspensionCategory } from '../vocabulary/mofh.js';
import type { Provider } from '../vocabulary/providers.js';
import type { XolphinState } from '../vocabulary/xolphin.js';

export type { DomainKind, Provider, SuspensionCategory, XolphinState };

/**
 * The one vocabulary of hookcord. Every provider callback is parsed into one of these events;
 * the store, the outbox, the renderer and the slash commands speak nothing else.
 */

export interface SuspensionReason {
	/** The comments field exactly as MOFH sent it. */
	raw: string;
	/** Normalised reason code, e.g. `DAILY_HIT`, `PHISHING`, `RES_CLOSE`. */
	code: string;
	category: SuspensionCategory;
	/** Set when the reason arrived wrapped as `ADMIN_CLOSE : …` or `RES_CLOSE : …`. */
	closedBy?: 'admin' | 'reseller';
}

/** What staff can do to a MOFH account from Discord. */
export type AccountAction = 'suspend' | 'unsuspend';

/**
 * How a staff action ended: MOFH did it, MOFH refused, the call failed before MOFH answered (nothing
 * happened), or MOFH did not answer in time (it may have happened).
 */
export type ActionOutcome = 'done' | 'refused' | 'failed' | 'unknown';

interface Base {
	/** Time-sortable id assigned on receipt; also the outbox key. */
	id: string;
	provider: Provider;
	/** Epoch ms at which hookcord received the callback. */
	receivedAt: number;
}

export type Event =
	| (Base & { kind: 'account.activated'; username: string })
	| (Base & { kind: 'account.sql_cluster'; username: string; cluster: string })
	| (Base & { kind: 'account.suspended'; username: string; reason: SuspensionReason })
	| (Base & { kind: 'account.reactivated'; username: string })
	| (Base & { kind: 'account.deleted'; username: string })
	| (Base & {
			kind: 'domain.added' | 'domain.removed';
			username: string;
			code: string;
			domainKind: DomainKind;
			/** Absent when MOFH sent the username in `comments` instead of the domain. */
			domain?: string;
	  })
	| (Base & { kind: 'ticket.replied' | 'ticket.closed'; ticketId: string; text: string })
	| (Base & {
			/**
			 * Staff opened a MOFH ticket from Discord (`supportnewticket` answered SUCCESS) or replied to one
			 * (`supportreplyticket`): the account's side of the conversation. `receivedAt` is when MOFH answered.
			 */
			kind: 'ticket.opened' | 'ticket.reply_sent';
			ticketId: string;
			/** The member's message, as sent to MOFH. */
			text: string;
			/** Opening only: the ticket's subject. */
			subject?: string;
			/** The vPanel username the ticket is on behalf of (`clientusername`). */
			username: string;
			domain?: string;
			/** The address sent as `ipaddress`. */
			ip?: string;
			/** The Discord member who sent it. */
			by: { id: string; name: string };
			/** The modal it came from: one event per modal, however often Discord delivers the submit. */
			submitId: string;
	  })
	| (Base & { kind: 'cert.issued' | 'cert.deleted'; requestId: string })
	| (Base & { kind: 'cert.updated'; requestId: string; state?: string; domain?: string })
	| (Base & {
			kind: 'email.event';
			event: string;
			email?: string;
			messageId?: string;
			userId?: string;
			/** Epoch ms of Wooxy's `datetime`. */
			occurredAt?: number;
			headers: Record<string, string>;
	  })
	| (Base & {
			/** A staff action from Discord (the audit trail); `receivedAt` is when MOFH answered. */
			kind: 'account.action';
			action: AccountAction;
			/** The account key (suspend and unsuspend name the account by it). */
			key: string;
			/**
			 * The vPanel username, when MOFH confirmed it (its answer named it, or an earlier one did for this
			 * key). Only this ties the action to an account, its history and the key's binding.
			 */
			username?: string;
			/** The vPanel username the member gave when MOFH confirmed none: given by `by`, unverified. */
			usernameHint?: string;
			reason?: string;
			linked?: boolean;
			/** The Discord member who confirmed it. */
			by: { id: string; name: string };
			outcome: ActionOutcome;
			/** MOFH's answer, cleaned of markup, or why there was none. */
			answer: string;
			/** The confirmation it carried out: one action, one event, however often the button is clicked. */
			actionId: string;
	  })
	| (Base & {
			kind: 'unrecognized';
			/** Why the callback could not be mapped, e.g. `unknown MOFH status "FOO"`. */
			note: string;
			username?: string;
			fields: Record<string, unknown>;
	  });

export type EventKind = Event['kind'];
export type EventOf<K extends EventKind> = Extract<Event, { kind: K }>;

/** Every event of a MOFH ticket's conversation: support's answers and closes, and staff's side. */
export const TICKET_KINDS = [
	'ticket.opened',
	'ticket.reply_sent',
	'ticket.replied',
	'ticket.closed',
] as const;
export type TicketEvent = EventOf<(typeof TICKET_KINDS)[number]>;

export function isTicketEvent(event: Pick<Event, 'kind'>): event is TicketEvent {
	return (TICKET_KINDS as readonly string[]).includes(event.kind);
}

/** An event before the ingest step stamps it with an id and a receive time. */
export type ParsedEvent = Event extends infer E
	? E extends Event
		? Omit<E, 'id' | 'receivedAt'>
		: never
	: never;

/** OPS is hookcord's own operational messages (a forward target paused or back); no event goes there. */
export const TOPICS = ['ACCOUNTS', 'SUSPENSIONS', 'DOMAINS', 'TICKETS', 'CERTS', 'EMAIL', 'OPS'] as const;
export type Topic = (typeof TOPICS)[number];

/** The topics (README, Configuration); an unrecognized event goes where its provider's events go. */
export function topicOf(event: Pick<Event, 'kind' | 'provider'> & { action?: AccountAction }): Topic {
	switch (event.kind) {
		case 'account.suspended':
			return 'SUSPENSIONS';
		case 'account.action':
			// Next to the callback it leads to: MOFH's SUSPENDED goes to SUSPENSIONS, REACTIVATE to ACCOUNTS.
			return event.action === 'suspend' ? 'SUSPENSIONS' : 'ACCOUNTS';
		case 'domain.added':
		case 'domain.removed':
			return 'DOMAINS';
		case 'ticket.replied':
		case 'ticket.closed':
		case 'ticket.opened':
		case 'ticket.reply_sent':
			return 'TICKETS';
		case 'cert.issued':
		case 'cert.updated':
		case 'cert.deleted':
			return 'CERTS';
		case 'email.event':
			return 'EMAIL';
		case 'unrecognized':
			return event.provider === 'xolphin' ? 'CERTS' : event.provider === 'wooxy' ? 'EMAIL' : 'ACCOUNTS';
		default:
			return 'ACCOUNTS';
	}
}
