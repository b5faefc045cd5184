import type { APIEmbed, APIEmbedField } from 'discord-api-types/v10';
import type { Event, EventKind } from '../events/event.js';
import { truncate } from '../text.js';
import { CATEGORY_LABELS, suspensionMeaning } from '../vocabulary/mofh.js';
import { PROVIDER_FACTS } from '../vocabulary/providers.js';
import { WOOXY_EVENTS } from '../vocabulary/wooxy.js';
import { COLOURS } from './alert.js';
import { codePoints, embedLength, LIMITS } from './limits.js';
import { inline, line } from './markdown.js';

/**
 * A flood read as one embed: "137 accounts suspended", the count per reason with what it means, every
 * subject (username, or address for e-mail) in monospace, the time range and the event ids' range.
 * Ticket replies and certificate events are never folded: their text is the point.
 */
const FOLDABLE = {
	'account.activated': { one: 'account activated', many: 'accounts activated', colour: COLOURS.good },
	'account.sql_cluster': { one: 'SQL cluster assigned', many: 'SQL clusters assigned', colour: COLOURS.info },
	'account.suspended': { one: 'account suspended', many: 'accounts suspended', colour: COLOURS.danger },
	'account.reactivated': { one: 'account reactivated', many: 'accounts reactivated', colour: COLOURS.good },
	'account.deleted': { one: 'account deleted', many: 'accounts deleted', colour: COLOURS.danger },
	'domain.added': { one: 'domain added', many: 'domains added', colour: COLOURS.info },
	'domain.removed': { one: 'domain removed', many: 'domains removed', colour: COLOURS.neutral },
	'email.event': { one: 'e-mail event', many: 'e-mail events', colour: COLOURS.info },
} as const satisfies Partial<Record<EventKind, { one: string; many: string; colour: number }>>;

type FoldableKind = keyof typeof FOLDABLE;

/** What like alerts share: events with the same key fold into one digest. Undefined: never folded. */
export function foldKey(event: Event): FoldableKind | undefined {
	return Object.hasOwn(FOLDABLE, event.kind) ? (event.kind as FoldableKind) : undefined;
}

/** A subject in a monospace list: no backticks or whitespace from a callback, and a bounded length. */
const CLEAN_SUBJECT = /[`\s]+/g;

/** Who an event is about, as listed in a digest. */
function subjectOf(event: Event): string {
	let subject: string;
	if (event.kind === 'email.event') subject = event.email ?? event.messageId ?? event.userId ?? '?';
	else if (event.kind === 'domain.added' || event.kind === 'domain.removed')
		subject = event.domain ? `${event.username}(${event.domain})` : event.username;
	else subject = 'username' in event && event.username ? event.username : '?';
	return truncate(subject.replace(CLEAN_SUBJECT, '_'), 80, { trim: true }) || '?';
}

/** The breakdown a digest counts by (a suspension's reason, an e-mail's event name), with its meaning. */
function groupOf(event: Event): { key: string; meaning?: string } {
	switch (event.kind) {
		case 'account.suspended': {
			const { code, category } = event.reason;
			const meaning = suspensionMeaning(code) ?? 'not a documented MOFH reason';
			return { key: code || '(empty)', meaning: `${meaning} · ${CATEGORY_LABELS[category]}` };
		}
		case 'account.sql_cluster':
			return { key: event.cluster };
		case 'domain.added':
		case 'domain.removed':
			return { key: `${event.domainKind} domain` };
		case 'email.event':
			return {
				key: event.event,
				meaning: Object.hasOwn(WOOXY_EVENTS, event.event)
					? WOOXY_EVENTS[event.event]
					: 'An event name Wooxy does not document.',
			};
		default:
			return { key: '' };
	}
}

/** The code block's frame (```\n … \n```) counts toward a field's 1024. */
const FRAME = 8;
/** Subjects per line inside a code block, so a list reads as a table rather than one long run. */
const LINE_WIDTH = 56;

/** Subjects ─▶ code-block field values of at most 1024 code points, in order. */
function wrap(subjects: string[]): string[] {
	const values: string[] = [];
	let lines: string[] = [];
	let line = '';
	let size = 0;
	const flush = () => {
		if (line) lines.push(line);
		if (lines.length > 0) values.push(`\`\`\`\n${lines.join('\n')}\n\`\`\``);
		lines = [];
		line = '';
		size = 0;
	};
	for (const subject of subjects) {
		const length = codePoints(subject);
		const joined = line ? codePoints(line) + 1 + length : length;
		if (line && joined > LINE_WIDTH) {
			lines.push(line);
			size += codePoints(line) + 1;
			line = '';
		}
		if (size + (line ? codePoints(line) + 1 : 0) + length + FRAME > LIMITS.fieldValue) flush();
		line = line ? `${line} ${subject}` : subject;
	}
	flush();
	return values;
}

function timeRange(first: number, last: number): string {
	const a = Math.floor(first / 1000);
	const b = Math.floor(last / 1000);
	return a === b ? `<t:${a}:d> <t:${a}:T>` : `<t:${a}:d> <t:${a}:T> – <t:${b}:T>`;
}

/** A digest of these events (all of one fold key, in arrival order), or undefined when over `room`. */
function digestOf(events: Event[], room: number): APIEmbed | undefined {
	const first = events[0] as Event;
	const last = events.at(-1) as Event;
	const kind = FOLDABLE[foldKey(first) as FoldableKind];
	const groups = new Map<string, { meaning?: string; subjects: string[] }>();
	for (const event of events) {
		const { key, meaning } = groupOf(event);
		const group = groups.get(key) ?? { ...(meaning && { meaning }), subjects: [] };
		group.subjects.push(subjectOf(event));
		groups.set(key, group);
	}
	const counted = [...groups].filter(([key]) => key !== '');
	const description = counted
		.map(
			([key, group]) =>
				`${inline(key)} × ${group.subjects.length}${group.meaning ? ` — ${group.meaning}` : ''}`,
		)
		.join('\n');
	const fields: APIEmbedField[] = [{ name: 'Received', value: timeRange(first.receivedAt, last.receivedAt) }];
	for (const [key, group] of groups) {
		// The key is provider text (an SQL cluster's status, a Wooxy event name): data, not markdown.
		const name = key ? line(truncate(key, 100, { trim: true })) : 'Usernames';
		const label = key ? `${name} · ${group.subjects.length}` : name;
		wrap(group.subjects).forEach((value, i) => {
			fields.push({ name: i === 0 ? label : `${name} (cont.)`, value });
		});
	}
	const embed: APIEmbed = {
		title: `${events.length} ${events.length === 1 ? kind.one : kind.many}`,
		color: kind.colour,
		fields,
		footer: {
			text: `${PROVIDER_FACTS[first.provider].displayName} · digest of ${events.length} event${events.length === 1 ? '' : 's'} · event ${first.id}${events.length > 1 ? ` … ${last.id}` : ''}`,
		},
		timestamp: new Date(last.receivedAt).toISOString(),
	};
	if (description) embed.description = truncate(description, LIMITS.description, { trim: true });
	if (fields.length > LIMITS.fields || embedLength(embed) > room) return undefined;
	return embed;
}

/**
 * The digest of as many of `events` (one fold key, arrival order) as fit in `room` characters of a
 * message, and how many that is (0 when not even one fits). Pure: the same events give the same embed.
 */
export function renderDigest(events: Event[], room: number): { embed?: APIEmbed; taken: number } {
	// The embed grows with every event, so the largest prefix that fits is found by bisection.
	let low = 0;
	let high = events.length;
	let best: APIEmbed | undefined;
	while (low < high) {
		const mid = Math.ceil((low + high) / 2);
		const embed = digestOf(events.slice(0, mid), room);
		if (embed) {
			low = mid;
			best = embed;
		} else high = mid - 1;
	}
	if (low > 0 && !best) best = digestOf(events.slice(0, low), room);
	return best ? { embed: best, taken: low } : { taken: 0 };
}
