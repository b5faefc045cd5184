import type { ParsedEvent } from '../../events/event.js';
import { markupToText } from '../../html.js';
import { prefix } from '../../text.js';
import { domainCode as readDomainCode } from '../../vocabulary/mofh.js';
import { type Fields, MAX_FIELD_LENGTH, PayloadError, required } from '../fields.js';
import { parseSuspensionReason } from './suspension.js';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const TICKET_ID = /^\d{1,12}$/;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/i;
const SQL_CLUSTER = /^sql\d+$/i;

/**
 * MOFH callback fields ─▶ event. Ticket callbacks carry no username, so `callback_type` is looked at
 * first (docs/providers.md A.1). A status nobody documented is kept as an `unrecognized` event.
 */
export function parseMofh(fields: Fields): ParsedEvent {
	const callbackType = fields.callback_type?.trim().toLowerCase();
	if (callbackType)
		return callbackType === 'ticket' ? parseTicket(fields) : unrecognized(fields, callbackType);

	const username = required(fields, 'username', USERNAME, 'a vPanel username');
	const status = required(fields, 'status');
	const comments = (fields.comments ?? '').trim();
	const code = status.toUpperCase();
	const base = { provider: 'mofh', username } as const;

	if (code === 'ACTIVATED') return { ...base, kind: 'account.activated' };
	if (code === 'REACTIVATE') return { ...base, kind: 'account.reactivated' };
	if (code === 'DELETE') return { ...base, kind: 'account.deleted' };
	if (code === 'SUSPENDED') {
		return { ...base, kind: 'account.suspended', reason: parseSuspensionReason(fields.comments ?? '') };
	}
	// The SQL callback puts the cluster id (`sql102`) in `status`; either clue identifies it.
	if (comments.toUpperCase() === 'SQL_SERVER' || SQL_CLUSTER.test(status)) {
		return { ...base, kind: 'account.sql_cluster', cluster: status.toLowerCase() };
	}
	const domainCode = readDomainCode(code);
	if (domainCode) {
		// The docs disagree on whether `comments` holds the domain or the username; keep a domain only.
		const domain = DOMAIN.test(comments) && comments !== username ? comments.toLowerCase() : undefined;
		return {
			...base,
			kind: domainCode.kind,
			code,
			domainKind: domainCode.domainKind,
			...(domain && { domain }),
		};
	}
	return {
		provider: 'mofh',
		kind: 'unrecognized',
		note: `undocumented MOFH status "${status}"`,
		username,
		fields: { ...fields },
	};
}

function parseTicket(fields: Fields): ParsedEvent {
	const ticketId = required(fields, 'ticket_id', TICKET_ID, 'a numeric ticket id');
	const status = required(fields, 'ticket_status').toUpperCase();
	const text = htmlToText(fields.support_reply ?? '');
	if (status === 'S') return { provider: 'mofh', kind: 'ticket.replied', ticketId, text };
	if (status === 'C') return { provider: 'mofh', kind: 'ticket.closed', ticketId, text };
	return {
		provider: 'mofh',
		kind: 'unrecognized',
		note: `undocumented ticket_status "${status}" for ticket ${ticketId}`,
		fields: { ...fields },
	};
}

function unrecognized(fields: Fields, callbackType: string): ParsedEvent {
	if (callbackType.length > 64) throw new PayloadError('field "callback_type" is too long');
	return {
		provider: 'mofh',
		kind: 'unrecognized',
		note: `undocumented MOFH callback_type "${callbackType}"`,
		...(fields.username && USERNAME.test(fields.username.trim()) && { username: fields.username.trim() }),
		fields: { ...fields },
	};
}

/**
 * Ticket replies are HTML fragments (`…<br><br>Please do reply…`): `<br>` and block ends become line
 * breaks, every other tag is dropped, common entities are decoded, runs of blank lines are squeezed.
 * Linear in the text (see html.ts), and a field is at most MAX_FIELD_LENGTH long anyway.
 */
export function htmlToText(html: string): string {
	return markupToText(prefix(html, MAX_FIELD_LENGTH).replace(/\r\n?/g, '\n'), {
		maxInput: MAX_FIELD_LENGTH,
		tag: '',
		lineBreaks: true,
	})
		.split('\n')
		.map((line) => line.trim())
		.join('\n')
		.replace(/\n{3,}/g, '\n\n')
		.trim();
}
