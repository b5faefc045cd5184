/**
 * The one vocabulary of hookcord. Every provider callback is parsed into one of these events;
 * the store, the outbox, the renderer and the slash commands speak nothing else.
 */

export type Provider = 'mofh' | 'xolphin' | 'wooxy';

export type SuspensionCategory = 'permanent' | 'temporary' | 'inactivity' | 'unknown';

export interface SuspensionReason {
	/** The comments field exactly as MOFH sent it. */
	raw: string;
	/** Normalised reason code, e.g. `DAILY_HIT`, `PHISHING`, `RES_CLOSE`. */
	code: string;
	category: SuspensionCategory;
	/** Set when the reason arrived wrapped as `ADMIN_CLOSE : …` or `RES_CLOSE : …`. */
	closedBy?: 'admin' | 'reseller';
	/** The text after the first `:`, trimmed, when there was one. */
	detail?: string;
}

export type DomainKind = 'parked' | 'subdomain' | 'addon';

export const XOLPHIN_STATES = [
	'PhonecallDelayed',
	'Phone',
	'Organization',
	'CSR',
	'Message',
	'DCV',
	'Whois',
	'ReadyForReissue',
] as const;
export type XolphinState = (typeof XOLPHIN_STATES)[number];

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
			kind: 'unrecognized';
			/** Why the callback could not be mapped, e.g. `unknown MOFH status "FOO"`. */
			note: string;
			username?: string;
			fields: Record<string, unknown>;
	  });

export type EventKind = Event['kind'];
export type EventOf<K extends EventKind> = Extract<Event, { kind: K }>;

/** An event before the ingest step stamps it with an id and a receive time. */
export type ParsedEvent = Event extends infer E
	? E extends Event
		? Omit<E, 'id' | 'receivedAt'>
		: never
	: never;

export const TOPICS = ['ACCOUNTS', 'SUSPENSIONS', 'DOMAINS', 'TICKETS', 'CERTS', 'EMAIL'] as const;
export type Topic = (typeof TOPICS)[number];

/** DESIGN.md topics; an unrecognized event goes where its provider's events go. */
export function topicOf(event: Pick<Event, 'kind' | 'provider'>): Topic {
	switch (event.kind) {
		case 'account.suspended':
			return 'SUSPENSIONS';
		case 'domain.added':
		case 'domain.removed':
			return 'DOMAINS';
		case 'ticket.replied':
		case 'ticket.closed':
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
