import type { Event } from './event.js';

/** One line per event, for account history, certificate timelines and log lines. */
export function summarize(event: Event): string {
	switch (event.kind) {
		case 'account.activated':
			return 'Account activated';
		case 'account.sql_cluster':
			return `SQL cluster assigned: ${event.cluster}`;
		case 'account.suspended':
			return `Suspended: ${event.reason.code} (${event.reason.category})`;
		case 'account.reactivated':
			return 'Account reactivated';
		case 'account.deleted':
			return 'Account deleted';
		case 'domain.added':
			return `${capital(event.domainKind)} domain added${event.domain ? `: ${event.domain}` : ''}`;
		case 'domain.removed':
			return `${capital(event.domainKind)} domain removed${event.domain ? `: ${event.domain}` : ''}`;
		case 'ticket.replied':
			return `Support replied to ticket #${event.ticketId}`;
		case 'ticket.closed':
			return `Ticket #${event.ticketId} closed`;
		case 'ticket.opened':
			return `Ticket #${event.ticketId} opened by ${event.by.name}${event.subject ? `: ${event.subject}` : ''}`;
		case 'ticket.reply_sent':
			return `${event.by.name} replied to MOFH support on ticket #${event.ticketId}`;
		case 'cert.issued':
			return `Certificate issued for request ${event.requestId}`;
		case 'cert.updated':
			return `Request ${event.requestId} updated${event.state ? `: ${event.state}` : ''}${event.domain ? ` (${event.domain})` : ''}`;
		case 'cert.deleted':
			return `Request ${event.requestId} deleted`;
		case 'email.event':
			return `E-mail ${event.event}${event.email ? ` for ${event.email}` : ''}`;
		case 'account.action':
			return `${event.action === 'suspend' ? 'Suspend' : 'Unsuspend'} by ${event.by.name} (key ${event.key}): ${OUTCOMES[event.outcome]} — ${event.answer}`;
		case 'unrecognized':
			return `Unrecognized callback: ${event.note}`;
	}
}

const OUTCOMES = {
	done: 'done',
	refused: 'refused by MOFH',
	failed: 'not sent',
	unknown: 'no answer',
} as const;

function capital(word: string): string {
	return word.charAt(0).toUpperCase() + word.slice(1);
}
