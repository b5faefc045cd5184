import { TimestampStyles, time, userMention } from '@discordjs/formatters';
import type { APIEmbed, APIEmbedField } from 'discord-api-types/v10';
import type { Event, EventOf } from '../events/event.js';
import { truncate } from '../text.js';
import { CATEGORY_LABELS, estimatedDeletion, suspensionMeaning } from '../vocabulary/mofh.js';
import { PROVIDER_FACTS } from '../vocabulary/providers.js';
import { WOOXY_EVENTS, WOOXY_PROBLEM_EVENTS } from '../vocabulary/wooxy.js';
import { XOLPHIN_STATE_MEANINGS } from '../vocabulary/xolphin.js';
import { fitEmbed, LIMITS } from './limits.js';
import { block, code, inline, line } from './markdown.js';

/** Colour by severity. */
export const COLOURS = {
	good: 0x2ecc71,
	info: 0x3498db,
	warning: 0xe67e22,
	danger: 0xe74c3c,
	neutral: 0x95a5a6,
} as const;

/** The Xolphin notices that carry nothing but the request id. */
const CERT_NOTICES = {
	'cert.issued': {
		title: 'Certificate issued',
		description: 'The certificate is ready to collect.',
		color: COLOURS.good,
	},
	'cert.deleted': {
		title: 'Certificate request deleted',
		description: 'The request was deleted manually at Xolphin.',
		color: COLOURS.neutral,
	},
} as const;

const DOMAIN_LABELS = { addon: 'Addon domain', parked: 'Parked domain', subdomain: 'Subdomain' } as const;

/** Event ─▶ one Discord embed within every limit. Pure: the same event always renders the same way. */
export function renderEvent(event: Event): APIEmbed {
	const body = renderBody(event);
	return fitEmbed({
		...body,
		footer: { text: `${PROVIDER_FACTS[event.provider].displayName} · event ${event.id}` },
		timestamp: new Date(
			event.kind === 'email.event' ? (event.occurredAt ?? event.receivedAt) : event.receivedAt,
		).toISOString(),
	});
}

/**
 * The message text above the embeds, one line per event: what a push notification or a channel preview
 * shows, since neither shows embeds. Titles hold provider text only escaped (`line`), the subject is in
 * inline code, and each headline is kept to one line whatever a title holds.
 */
export function renderHeadlines(events: Event[], embeds: APIEmbed[]): string {
	const lines = events.map((event, i) => {
		const subject = 'username' in event && event.username ? ` · ${inline(event.username)}` : '';
		return `${embeds[i]?.title ?? 'Alert'}${subject}`.replace(/\s+/g, ' ');
	});
	return truncate(lines.join('\n'), LIMITS.content, { trim: true });
}

/** The part of an embed that depends on the kind of event. */
type Body = Pick<APIEmbed, 'title' | 'description' | 'color' | 'fields'>;

function renderBody(event: Event): Body {
	switch (event.kind) {
		case 'account.activated':
			return { title: 'Account activated', color: COLOURS.good, fields: [user(event.username)] };
		case 'account.sql_cluster':
			return {
				title: 'SQL cluster assigned',
				description: 'MySQL databases for this account live on this cluster.',
				color: COLOURS.info,
				fields: [user(event.username), field('SQL cluster', inline(event.cluster))],
			};
		case 'account.suspended':
			return renderSuspension(event);
		case 'account.reactivated':
			return { title: 'Account reactivated', color: COLOURS.good, fields: [user(event.username)] };
		case 'account.deleted':
			return {
				title: 'Account deleted',
				description: 'MyOwnFreeHost removed the account and its files.',
				color: COLOURS.danger,
				fields: [user(event.username)],
			};
		case 'domain.added':
		case 'domain.removed':
			return {
				title: `${DOMAIN_LABELS[event.domainKind]} ${event.kind === 'domain.added' ? 'added' : 'removed'}`,
				color: event.kind === 'domain.added' ? COLOURS.info : COLOURS.neutral,
				fields: [
					user(event.username),
					field('Domain', event.domain ? inline(event.domain) : '_not given by MOFH_'),
					field('Code', inline(event.code)),
				],
			};
		case 'ticket.replied':
		case 'ticket.closed':
			return {
				title:
					event.kind === 'ticket.replied'
						? `Support replied to ticket #${line(event.ticketId)}`
						: `Ticket #${line(event.ticketId)} closed`,
				description: event.text ? block(event.text) : '_no text_',
				color: event.kind === 'ticket.replied' ? COLOURS.info : COLOURS.neutral,
				fields: [
					field('Ticket', inline(event.ticketId)),
					field('Status', event.kind === 'ticket.replied' ? 'Support replied' : 'Closed'),
				],
			};
		case 'ticket.opened':
			return {
				title: truncate(
					`Ticket #${line(event.ticketId)} opened${event.subject ? ` · ${line(event.subject)}` : ''}`,
					LIMITS.title,
					{ trim: true },
				),
				description: event.text ? block(event.text) : '_no text_',
				color: COLOURS.warning,
				fields: [
					field('Ticket', inline(event.ticketId)),
					user(event.username),
					...(event.domain ? [field('Domain', inline(event.domain))] : []),
					field('Opened by', line(event.by.name)),
				],
			};
		case 'ticket.reply_sent':
			return {
				title: truncate(`↩ ${line(event.by.name)} replied to MOFH support`, LIMITS.title, { trim: true }),
				description: event.text ? block(event.text) : '_no text_',
				color: COLOURS.neutral,
				fields: [field('Ticket', inline(event.ticketId)), user(event.username)],
			};
		case 'cert.issued':
		case 'cert.deleted':
			return { ...CERT_NOTICES[event.kind], fields: [field('Request', inline(event.requestId))] };
		case 'cert.updated':
			return renderCertUpdate(event);
		case 'email.event':
			return renderEmail(event);
		case 'account.action':
			return renderAction(event);
		case 'unrecognized':
			return {
				title: 'Unrecognized callback',
				description: `${line(event.note)}. Stored as received; nothing was dropped.`,
				color: COLOURS.neutral,
				fields: [
					...(event.username ? [user(event.username)] : []),
					field('Payload', code(JSON.stringify(event.fields, null, 1)), false),
				],
			};
	}
}

function renderSuspension(event: EventOf<'account.suspended'>): Body {
	const { reason } = event;
	const meaning = suspensionMeaning(reason.code);
	const temporary = reason.category === 'temporary';
	const title =
		reason.closedBy === 'reseller' && reason.code === 'RES_CLOSE'
			? 'Account closed by the reseller'
			: temporary
				? 'Account suspended (temporary)'
				: 'Account suspended';
	const deletion = estimatedDeletion(event.receivedAt, reason);
	const fields: APIEmbedField[] = [
		user(event.username),
		field('Reason', `${inline(reason.code)} — ${meaning ?? 'not a documented MOFH reason'}`, false),
		field('Category', CATEGORY_LABELS[reason.category]),
	];
	if (reason.closedBy)
		fields.push(field('Closed by', reason.closedBy === 'admin' ? 'MOFH administrator' : 'Reseller'));
	if (deletion !== undefined) {
		fields.push(
			field(
				'Expected deletion (estimate)',
				`${time(new Date(deletion), TimestampStyles.LongDate)} (${time(new Date(deletion), TimestampStyles.RelativeTime)})`,
			),
		);
	}
	fields.push(field('As sent', inline(reason.raw || '(empty)'), false));
	return { title, color: temporary ? COLOURS.warning : COLOURS.danger, fields };
}

const ACTION_OUTCOMES = {
	done: { label: 'done', colour: COLOURS.info },
	refused: { label: 'refused by MOFH', colour: COLOURS.warning },
	failed: { label: 'not sent', colour: COLOURS.neutral },
	unknown: { label: 'no answer from MOFH, outcome unknown', colour: COLOURS.warning },
} as const;

/** The audit line of a staff action: one short description, who did what to which account, MOFH's answer. */
function renderAction(event: EventOf<'account.action'>): Body {
	const outcome = ACTION_OUTCOMES[event.outcome];
	const verb = event.action === 'suspend' ? 'Suspend' : 'Unsuspend';
	const user = event.username
		? ` (${inline(event.username)})`
		: event.usernameHint
			? ` (${inline(event.usernameHint)}, given by ${inline(event.by.name)}, unverified)`
			: '';
	const account = `key ${inline(event.key)}${user}`;
	const details = [
		...(event.reason !== undefined ? [`Reason: ${inline(event.reason)}`] : []),
		...(event.linked ? ['Linked accounts too'] : []),
	];
	return {
		title: `${verb} from Discord: ${outcome.label}`,
		description: [
			`${userMention(event.by.id)} (${inline(event.by.name)}) · ${account}${details.length ? ` · ${details.join(' · ')}` : ''}`,
			`MOFH: ${inline(event.answer)}`,
		].join('\n'),
		color: outcome.colour,
	};
}

function renderCertUpdate(event: EventOf<'cert.updated'>): Body {
	const known = event.state
		? XOLPHIN_STATE_MEANINGS[event.state as keyof typeof XOLPHIN_STATE_MEANINGS]
		: undefined;
	const fields = [field('Request', inline(event.requestId))];
	if (event.state) fields.push(field('State', inline(event.state)));
	if (event.domain) fields.push(field('Domain', inline(event.domain)));
	return {
		title:
			event.state === 'DCV'
				? 'Domain validated'
				: known?.problem
					? 'Certificate validation needs attention'
					: 'Certificate request updated',
		description:
			known?.meaning ??
			(event.state ? 'Xolphin sent a state hookcord does not know.' : 'Xolphin updated the request.'),
		color: known?.problem ? COLOURS.warning : event.state === 'DCV' ? COLOURS.good : COLOURS.info,
		fields,
	};
}

function renderEmail(event: EventOf<'email.event'>): Body {
	// Own keys only: an event named `constructor` must not find Object.prototype.constructor.
	const meaning = Object.hasOwn(WOOXY_EVENTS, event.event) ? WOOXY_EVENTS[event.event] : undefined;
	const fields = [field('Event', inline(event.event))];
	if (event.email) fields.push(field('E-mail', inline(event.email)));
	if (event.messageId) fields.push(field('Message id', inline(event.messageId)));
	if (event.userId) fields.push(field('Contact', inline(event.userId)));
	const headers = Object.entries(event.headers);
	if (headers.length > 0) {
		fields.push(
			field('Headers', headers.map(([name, value]) => `${inline(name)}: ${inline(value)}`).join('\n'), false),
		);
	}
	return {
		title: `E-mail event: ${line(event.event)}`,
		description: meaning ?? 'An event name Wooxy does not document.',
		color: WOOXY_PROBLEM_EVENTS.has(event.event)
			? event.event === 'soft'
				? COLOURS.warning
				: COLOURS.danger
			: COLOURS.info,
		fields,
	};
}

function user(username: string): APIEmbedField {
	return field('Username', inline(username));
}

function field(name: string, value: string, isInline = true): APIEmbedField {
	return { name, value, inline: isInline };
}
