import { TimestampStyles, time } from '@discordjs/formatters';
import type { APIEmbed } from 'discord-api-types/v10';
import type { TicketEvent } from '../events/event.js';
import type { TicketState } from '../state/projections.js';
import type { TicketThreads } from '../state/ticket-threads.js';
import { truncate } from '../text.js';
import { COLOURS, renderEvent } from './alert.js';
import { codePoints, fitEmbed, LIMITS } from './limits.js';
import { block, inline, line, stripControls } from './markdown.js';

/** Pure renderers of a MOFH ticket's conversation: thread names, its messages, `/ticket status`. */

/** Discord's thread name limit (docs/discord.md §6). */
const THREAD_NAME_MAX = 100;
/** How many words of the text name a thread when the ticket has no subject hookcord knows. */
const FIRST_WORDS = 8;

/**
 * `Ticket #<id> · <subject, or the first words>`: plain text (a thread name is not markdown), one line,
 * at most 100 characters.
 */
export function ticketThreadName(ticketId: string, subject: string | undefined, text: string): string {
	const about =
		subject?.trim() ||
		stripControls(text).replace(/\s+/g, ' ').trim().split(' ').slice(0, FIRST_WORDS).join(' ');
	const name = about ? `Ticket #${ticketId} · ${about}` : `Ticket #${ticketId}`;
	return truncate(stripControls(name).replace(/\s+/g, ' ').trim(), THREAD_NAME_MAX, { trim: true });
}

/** Room left for text in one embed description, under Discord's 4096 with a margin for the part marker. */
const PART_ROOM = LIMITS.description - 96;

/**
 * A ticket event as the messages of its thread: the alert embed (with the first part of the text) and,
 * where the text is longer than one embed holds, one more embed each for the rest, marked "(2/3)". The
 * text is escaped before it is cut, so no cut falls inside an escape; cuts prefer a line end, then a space.
 */
export function ticketMessages(event: TicketEvent): APIEmbed[] {
	const alert = renderEvent(event);
	const parts = splitText(event.text ? escapeLong(event.text) : '', PART_ROOM);
	if (parts.length <= 1) return [alert];
	const total = parts.length;
	return parts.map((part, i) =>
		i === 0
			? fitEmbed({ ...alert, description: `${part}\n\n_(1/${total}, continued below)_` })
			: fitEmbed({
					title: truncate(`${alert.title ?? 'Ticket'} (${i + 1}/${total})`, LIMITS.title, { trim: true }),
					description: part,
					color: alert.color ?? COLOURS.info,
					footer: { text: `${alert.footer?.text ?? ''} · part ${i + 1}/${total}` },
				}),
	);
}

/** The most of a ticket's text its thread shows: MOFH's replies are a few kilobytes; 64 K is 16 messages. */
const TICKET_TEXT_MAX = 64 * 1024;
/** Under `block`'s own input bound (8 KiB), so no piece is cut short by it. */
const ESCAPE_PIECE = 6 * 1024;

/**
 * The whole text escaped as data. `block` shows at most 8 KiB of what it is given (more than one message
 * holds), so a longer text is escaped a piece at a time, cut after a line end where there is one: the
 * pieces put together are the text escaped as one.
 */
function escapeLong(text: string): string {
	const chars = [...text];
	const shown = chars.length > TICKET_TEXT_MAX ? chars.slice(0, TICKET_TEXT_MAX) : chars;
	const pieces: string[] = [];
	for (let start = 0; start < shown.length; ) {
		let end = Math.min(start + ESCAPE_PIECE, shown.length);
		if (end < shown.length) {
			const newline = shown.lastIndexOf('\n', end - 1);
			if (newline > start) end = newline + 1;
		}
		pieces.push(block(shown.slice(start, end).join('')));
		start = end;
	}
	const escaped = pieces.join('');
	return chars.length > shown.length ? `${escaped}\n\n_(the rest of this text is not shown)_` : escaped;
}

/** Cuts `text` into pieces of at most `room` code points, at a line end or a space where one is near. */
export function splitText(text: string, room: number): string[] {
	const chars = [...text];
	if (chars.length <= room) return [text];
	const parts: string[] = [];
	let start = 0;
	while (start < chars.length) {
		let end = Math.min(start + room, chars.length);
		if (end < chars.length) {
			const window = chars.slice(start, end);
			const newline = window.lastIndexOf('\n');
			const space = window.lastIndexOf(' ');
			// A break in the last quarter of the piece; otherwise a hard cut (one very long word).
			const cut = newline > room * 0.75 ? newline : space > room * 0.75 ? space : -1;
			// Never end a piece on an escaping backslash: it would escape the next piece's first character.
			if (cut > 0) end = start + cut + 1;
			else while (end > start + 1 && chars[end - 1] === '\\') end--;
		}
		parts.push(chars.slice(start, end).join('').trim());
		start = end;
	}
	return parts.filter((part) => part.length > 0);
}

const TURN_LABELS: Record<TicketEvent['kind'], string> = {
	'ticket.opened': 'Opened',
	'ticket.reply_sent': 'Replied to support',
	'ticket.replied': 'Support replied',
	'ticket.closed': 'Closed',
};

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * `/ticket status`: the ticket as hookcord has it (who opened it, for which account, the replies both ways
 * and closes, oldest first, newest kept when they do not all fit) and where its thread is.
 */
export function renderTicketStatus(
	ticketId: string,
	ticket: TicketState | undefined,
	threads: TicketThreads,
): APIEmbed {
	const fields = [
		{
			name: 'Status',
			value: ticket ? (ticket.status === 'closed' ? 'Closed' : 'Open') : 'Unknown',
			inline: true,
		},
		{ name: 'Account', value: ticket?.username ? inline(ticket.username) : '—', inline: true },
		{ name: 'Domain', value: ticket?.domain ? inline(ticket.domain) : '—', inline: true },
		{
			name: 'Opened',
			value: ticket?.openedBy
				? `by ${line(ticket.openedBy.name)}${ticket.openedAt ? ` ${time(seconds(ticket.openedAt), TimestampStyles.RelativeTime)}` : ''}`
				: 'outside hookcord',
			inline: true,
		},
	];
	const places = Object.values(threads).filter((place) => place.started && place.threadId);
	fields.push({
		name: 'Thread',
		value: places.length > 0 ? places.map((place) => `<#${place.threadId}>`).join(', ') : 'none yet',
		inline: true,
	});
	const turns = (ticket?.replies ?? []).map((turn) => {
		const who = turn.by ? ` · ${line(turn.by)}` : '';
		const said = line(turn.text);
		return `**${TURN_LABELS[turn.kind]}**${who} · ${time(seconds(turn.at), TimestampStyles.ShortDateTime)}\n${truncate(said, 300, { trim: true }) || '_no text_'}`;
	});
	// Newest kept: drop the oldest turns until the rest fits the description.
	const shown: string[] = [];
	let used = 0;
	for (const turn of [...turns].reverse()) {
		const size = codePoints(turn) + 2;
		if (used + size > LIMITS.description - 64) break;
		shown.unshift(turn);
		used += size;
	}
	const hidden = turns.length - shown.length;
	const description = ticket
		? [...(hidden > 0 ? [`_${hidden} earlier turn(s) not shown_`] : []), ...shown].join('\n\n')
		: 'hookcord has no record of this ticket: no callback for it has arrived and it was not opened from Discord.';
	return fitEmbed({
		title: truncate(
			`Ticket #${line(ticketId)}${ticket?.subject ? ` · ${line(ticket.subject)}` : ''}`,
			LIMITS.title,
			{ trim: true },
		),
		description,
		color: ticket?.status === 'closed' ? COLOURS.neutral : COLOURS.info,
		fields,
	});
}
