import { SUSPENSION_REASONS } from '../vocabulary/mofh.js';
import { WOOXY_EVENTS } from '../vocabulary/wooxy.js';
import type { EventKind, Provider } from './event.js';

/**
 * The closed sets that metric labels and stored counts draw events from (OBSERVABILITY.md: never an
 * account, a domain, an address or an id). A value outside a set is counted as `other`.
 */

export const PROVIDERS = ['mofh', 'xolphin', 'wooxy'] as const satisfies readonly Provider[];

/** The event kinds each provider's callbacks become (a staff action is not a callback). */
export const CALLBACK_KINDS = {
	mofh: [
		'account.activated',
		'account.sql_cluster',
		'account.suspended',
		'account.reactivated',
		'account.deleted',
		'domain.added',
		'domain.removed',
		'ticket.replied',
		'ticket.closed',
		'unrecognized',
	],
	xolphin: ['cert.issued', 'cert.updated', 'cert.deleted', 'unrecognized'],
	wooxy: ['email.event', 'unrecognized'],
} as const satisfies Record<Provider, readonly EventKind[]>;

/** Events staff cause from Discord (an action on an account, a ticket opened or answered): no callback. */
export const STAFF_KINDS = [
	'account.action',
	'ticket.opened',
	'ticket.reply_sent',
] as const satisfies readonly EventKind[];

/** Every kind the stored counts and /stats know, in the order a report lists them when equal. */
export const COUNTED_KINDS = [
	...new Set<EventKind>([...CALLBACK_KINDS.mofh, ...CALLBACK_KINDS.xolphin, ...CALLBACK_KINDS.wooxy]),
	...STAFF_KINDS,
] as readonly EventKind[];

/** Compile-time check: a new event kind must be placed in CALLBACK_KINDS or STAFF_KINDS. */
type Uncounted = Exclude<EventKind, (typeof CALLBACK_KINDS)[Provider][number] | (typeof STAFF_KINDS)[number]>;
const everyKindCounted: [Uncounted] extends [never] ? true : Uncounted = true;
void everyKindCounted;

/** A suspension reason as a label or a stored count: a documented code, a daily limit, else `OTHER`. */
export function reasonLabel(code: string): string {
	if (Object.hasOwn(SUSPENSION_REASONS, code)) return code;
	if (/^DAILY_[A-Z0-9]{1,16}$/.test(code)) return code;
	return 'OTHER';
}

/** A Wooxy event name as a stored count: a documented name, else `other`. */
export function emailEventLabel(name: string): string {
	return Object.hasOwn(WOOXY_EVENTS, name) ? name : 'other';
}
