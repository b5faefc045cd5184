/**
 * Event ─▶ Discord embed: what staff see for every kind of event, and Discord's embed limits
 * (docs/discord.md §1) under hostile input, counted in code points.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { APIEmbed, APIEmbedField } from 'discord-api-types/v10';
import type { Event, EventKind, EventOf, ParsedEvent, SuspensionReason } from '../src/events/event.js';
import { parseMofh } from '../src/providers/mofh/parse.js';
import { parseWooxy } from '../src/providers/wooxy/parse.js';
import { parseXolphin } from '../src/providers/xolphin/parse.js';
import { COLOURS, renderEvent, renderHeadlines } from '../src/render/alert.js';
import { renderDigest } from '../src/render/digest.js';
import { codePoints, embedLength, firstMessageSize, fitEmbed, LIMITS } from '../src/render/limits.js';
import { embedToText } from '../src/render/plain.js';
import { renderAccountStatus, renderCertStatus, renderFailed } from '../src/render/state.js';
import { projectAccount, projectCert } from '../src/state/projections.js';
import { truncate } from '../src/text.js';

const RECEIVED = Date.UTC(2024, 2, 1, 9, 30, 15, 250);
const DAY = 86_400_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

let sequence = 0;
/** Stamps a parsed event the way ingest does: an id and a receive time. */
function stamp(event: ParsedEvent, receivedAt = RECEIVED): Event {
	sequence++;
	return { ...event, id: `evt${String(sequence).padStart(17, '0')}`, receivedAt } as Event;
}

/** Independent code-point count, so the limit checks do not trust the code under test. */
function cp(text: string | undefined): number {
	return Array.from(text ?? '').length;
}

function fieldOf(embed: APIEmbed, name: string): APIEmbedField {
	const found = embed.fields?.find((field) => field.name === name);
	assert.ok(found, `no field "${name}" in ${JSON.stringify(embed.fields?.map((field) => field.name))}`);
	return found;
}

function suspension(
	code: string,
	category: SuspensionReason['category'],
	extra: Partial<SuspensionReason> = {},
) {
	return stamp({
		provider: 'mofh',
		kind: 'account.suspended',
		username: 'hname_12345678',
		reason: { raw: `${code} : as sent`, code, category, ...extra },
	});
}

/** Discord's `<t:…:D> (<t:…:R>)` for a suspension received at RECEIVED, `days` later. */
function deletionStamp(days: number): string {
	const seconds = Math.floor((RECEIVED + days * DAY) / 1000);
	return `<t:${seconds}:D> (<t:${seconds}:R>)`;
}

interface Sample {
	name: string;
	event: Event;
	title: RegExp;
	colour: number;
	/** Field name → exact value. */
	fields?: Record<string, string>;
	/** Substrings of the description. */
	description?: string[];
	/** Fields the embed must not have. */
	absent?: string[];
}

const SAMPLES: Sample[] = [
	{
		name: 'account.activated',
		event: stamp({ provider: 'mofh', kind: 'account.activated', username: 'hname_12345678' }),
		title: /^Account activated$/,
		colour: COLOURS.good,
		fields: { Username: '`hname_12345678`' },
	},
	{
		name: 'account.sql_cluster',
		event: stamp({
			provider: 'mofh',
			kind: 'account.sql_cluster',
			username: 'hname_12345678',
			cluster: 'sql102',
		}),
		title: /^SQL cluster assigned$/,
		colour: COLOURS.info,
		fields: { Username: '`hname_12345678`', 'SQL cluster': '`sql102`' },
		description: ['MySQL'],
	},
	{
		name: 'account.suspended (permanent)',
		event: suspension('PHISHING', 'permanent'),
		title: /^Account suspended$/,
		colour: COLOURS.danger,
		fields: {
			Username: '`hname_12345678`',
			Reason: '`PHISHING` — Phishing content was found on the account.',
			Category: 'Permanent',
			'Expected deletion (estimate)': deletionStamp(60),
			'As sent': '`PHISHING : as sent`',
		},
	},
	{
		name: 'account.suspended (temporary, wrapped in ADMIN_CLOSE)',
		event: suspension('DAILY_HIT', 'temporary', { closedBy: 'admin' }),
		title: /^Account suspended \(temporary\)$/,
		colour: COLOURS.warning,
		fields: {
			Reason: '`DAILY_HIT` — The daily hits limit was exceeded; lifted when the day resets.',
			Category: 'Temporary',
			'Closed by': 'MOFH administrator',
		},
		// A daily limit is lifted when the day resets: no deletion follows, so none is estimated.
		absent: ['Expected deletion (estimate)'],
	},
	{
		name: 'account.suspended (undocumented code wrapped in ADMIN_CLOSE)',
		event: suspension('DISPOSABLE_EMAIL', 'unknown', { closedBy: 'admin' }),
		title: /^Account suspended$/,
		colour: COLOURS.danger,
		fields: {
			Reason: '`DISPOSABLE_EMAIL` — not a documented MOFH reason',
			Category: 'Unknown',
			'Closed by': 'MOFH administrator',
		},
		absent: ['Expected deletion (estimate)'],
	},
	{
		name: 'account.suspended (AUTO_IDLE)',
		event: suspension('AUTO_IDLE', 'inactivity'),
		title: /^Account suspended$/,
		colour: COLOURS.danger,
		fields: {
			Reason: '`AUTO_IDLE` — Suspended automatically for inactivity.',
			Category: 'Inactivity',
			'Expected deletion (estimate)': deletionStamp(2),
		},
	},
	{
		name: 'account.suspended (RES_CLOSE)',
		event: suspension('RES_CLOSE', 'permanent', { closedBy: 'reseller' }),
		title: /^Account closed by the reseller$/,
		colour: COLOURS.danger,
		fields: {
			Reason: '`RES_CLOSE` — Closed (deactivated) by the reseller.',
			'Closed by': 'Reseller',
			'Expected deletion (estimate)': deletionStamp(60),
		},
	},
	{
		name: 'account.suspended (undocumented reason)',
		event: suspension('BRAND_NEW', 'unknown'),
		title: /^Account suspended$/,
		colour: COLOURS.danger,
		fields: { Reason: '`BRAND_NEW` — not a documented MOFH reason', Category: 'Unknown' },
	},
	{
		name: 'account.reactivated',
		event: stamp({ provider: 'mofh', kind: 'account.reactivated', username: 'hname_12345678' }),
		title: /^Account reactivated$/,
		colour: COLOURS.good,
		fields: { Username: '`hname_12345678`' },
	},
	{
		name: 'account.deleted',
		event: stamp({ provider: 'mofh', kind: 'account.deleted', username: 'hname_12345678' }),
		title: /^Account deleted$/,
		colour: COLOURS.danger,
		fields: { Username: '`hname_12345678`' },
		description: ['removed the account'],
	},
	{
		name: 'domain.added',
		event: stamp({
			provider: 'mofh',
			kind: 'domain.added',
			username: 'hname_12345678',
			code: 'CLIENTDOMADD',
			domainKind: 'addon',
			domain: 'shop.example.com',
		}),
		title: /^Addon domain added$/,
		colour: COLOURS.info,
		fields: { Username: '`hname_12345678`', Domain: '`shop.example.com`', Code: '`CLIENTDOMADD`' },
	},
	{
		name: 'domain.removed (no domain given)',
		event: stamp({
			provider: 'mofh',
			kind: 'domain.removed',
			username: 'hname_12345678',
			code: 'CLIENTSUBDEL',
			domainKind: 'subdomain',
		}),
		title: /^Subdomain removed$/,
		colour: COLOURS.neutral,
		fields: { Username: '`hname_12345678`', Domain: '_not given by MOFH_', Code: '`CLIENTSUBDEL`' },
	},
	{
		name: 'ticket.replied',
		event: stamp({
			provider: 'mofh',
			kind: 'ticket.replied',
			ticketId: '123456',
			text: 'We fixed it.\nRegards',
		}),
		title: /^Support replied to ticket #123456$/,
		colour: COLOURS.info,
		fields: { Ticket: '`123456`', Status: 'Support replied' },
		description: ['We fixed it.\nRegards'],
	},
	{
		name: 'ticket.closed',
		event: stamp({
			provider: 'mofh',
			kind: 'ticket.closed',
			ticketId: '654321',
			text: 'Ticket status changed to Closed at 2024-05-01, 10:22\n\nPlease do reply to this ticket.',
		}),
		title: /^Ticket #654321 closed$/,
		colour: COLOURS.neutral,
		fields: { Ticket: '`654321`', Status: 'Closed' },
		description: ['Closed at 2024-05-01, 10:22\n\nPlease do reply'],
	},
	{
		name: 'ticket.opened',
		event: stamp({
			provider: 'mofh',
			kind: 'ticket.opened',
			ticketId: '000042',
			subject: 'Site *down*',
			text: 'The site answers 500.',
			username: 'hname_12345678',
			domain: 'shop.example.com',
			ip: '203.0.113.7',
			by: { id: '123456789012345678', name: 'oncall' },
			submitId: '123456789012345679',
		}),
		title: /^Ticket #000042 opened · Site \\\*down\\\*$/,
		colour: COLOURS.warning,
		fields: {
			Ticket: '`000042`',
			Username: '`hname_12345678`',
			Domain: '`shop.example.com`',
			'Opened by': 'oncall',
		},
		description: ['The site answers 500.'],
	},
	{
		name: 'ticket.reply_sent',
		event: stamp({
			provider: 'mofh',
			kind: 'ticket.reply_sent',
			ticketId: '000042',
			text: 'Any news?',
			username: 'hname_12345678',
			by: { id: '123456789012345678', name: 'oncall' },
			submitId: '123456789012345680',
		}),
		title: /^↩ oncall replied to MOFH support$/,
		colour: COLOURS.neutral,
		fields: { Ticket: '`000042`', Username: '`hname_12345678`' },
		description: ['Any news?'],
	},
	{
		name: 'ticket.replied (empty text)',
		event: stamp({ provider: 'mofh', kind: 'ticket.replied', ticketId: '111111', text: '' }),
		title: /#111111/,
		colour: COLOURS.info,
		description: ['_no text_'],
	},
	{
		name: 'cert.issued',
		event: stamp({ provider: 'xolphin', kind: 'cert.issued', requestId: '998877' }),
		title: /^Certificate issued$/,
		colour: COLOURS.good,
		fields: { Request: '`998877`' },
		description: ['ready to collect'],
	},
	{
		name: 'cert.updated (DCV with domain)',
		event: stamp({
			provider: 'xolphin',
			kind: 'cert.updated',
			requestId: '998877',
			state: 'DCV',
			domain: 'www.example.com',
		}),
		title: /^Domain validated$/,
		colour: COLOURS.good,
		fields: { Request: '`998877`', State: '`DCV`', Domain: '`www.example.com`' },
		description: ['Domain control validation completed'],
	},
	{
		name: 'cert.updated (Phone: needs attention)',
		event: stamp({ provider: 'xolphin', kind: 'cert.updated', requestId: '998877', state: 'Phone' }),
		title: /^Certificate validation needs attention$/,
		colour: COLOURS.warning,
		fields: { State: '`Phone`' },
		description: ['validation call could not be completed'],
	},
	{
		name: 'cert.updated (no state)',
		event: stamp({ provider: 'xolphin', kind: 'cert.updated', requestId: '998877' }),
		title: /^Certificate request updated$/,
		colour: COLOURS.info,
		fields: { Request: '`998877`' },
		description: ['Xolphin updated the request.'],
	},
	{
		name: 'cert.updated (undocumented state named like an object property)',
		event: stamp({ provider: 'xolphin', kind: 'cert.updated', requestId: '998877', state: 'constructor' }),
		title: /^Certificate request updated$/,
		colour: COLOURS.info,
		fields: { State: '`constructor`' },
		description: ['a state hookcord does not know'],
	},
	{
		name: 'cert.deleted',
		event: stamp({ provider: 'xolphin', kind: 'cert.deleted', requestId: '998877' }),
		title: /^Certificate request deleted$/,
		colour: COLOURS.neutral,
		fields: { Request: '`998877`' },
		description: ['deleted manually'],
	},
	{
		name: 'email.event (hard bounce)',
		event: stamp({
			provider: 'wooxy',
			kind: 'email.event',
			event: 'hard',
			email: 'user@example.com',
			messageId: '5537ab2a08d241dc69326b19',
			userId: 'myUserId-1',
			occurredAt: 1_234_567_890_000,
			headers: { 'X-Additional-Header': 'additional-header-value' },
		}),
		title: /^E-mail event: hard$/,
		colour: COLOURS.danger,
		fields: {
			Event: '`hard`',
			'E-mail': '`user@example.com`',
			'Message id': '`5537ab2a08d241dc69326b19`',
			Contact: '`myUserId-1`',
			Headers: '`X-Additional-Header`: `additional-header-value`',
		},
		description: ['Hard bounce'],
	},
	{
		name: 'email.event (read)',
		event: stamp({ provider: 'wooxy', kind: 'email.event', event: 'read', email: 'a@b.test', headers: {} }),
		title: /^E-mail event: read$/,
		colour: COLOURS.info,
		fields: { 'E-mail': '`a@b.test`' },
		description: ['opened'],
	},
	{
		name: 'email.event (soft bounce is a warning)',
		event: stamp({ provider: 'wooxy', kind: 'email.event', event: 'soft', headers: {} }),
		title: /soft/,
		colour: COLOURS.warning,
		description: ['Soft bounce'],
	},
	{
		name: 'email.event (unknown name)',
		event: stamp({ provider: 'wooxy', kind: 'email.event', event: 'contact-activated', headers: {} }),
		title: /^E-mail event: contact-activated$/,
		colour: COLOURS.info,
		description: ['does not document'],
	},
	{
		name: 'email.event (unknown name that is an object property)',
		event: stamp({ provider: 'wooxy', kind: 'email.event', event: 'constructor', headers: {} }),
		title: /^E-mail event: constructor$/,
		colour: COLOURS.info,
		description: ['does not document'],
	},
	{
		name: 'account.action: a staff suspension MOFH refused, the audit line',
		event: stamp({
			provider: 'mofh',
			kind: 'account.action',
			action: 'suspend',
			key: 'abcd1234',
			username: 'hname_12345678',
			reason: 'phishing kit',
			by: { id: '123456789012345678', name: 'oncall' },
			outcome: 'refused',
			answer: 'This account is not active so can not be suspended ( vPuser : hname_12345678 , status : x )',
			actionId: '1234567890123456789',
		}),
		title: /^Suspend from Discord: refused by MOFH$/,
		colour: COLOURS.warning,
		description: [
			'<@123456789012345678>',
			'`abcd1234`',
			'`hname_12345678`',
			'MOFH: `This account is not active',
		],
	},
	{
		name: 'unrecognized',
		event: stamp({
			provider: 'mofh',
			kind: 'unrecognized',
			note: 'undocumented MOFH status "MIGRATED"',
			username: 'hname_12345678',
			fields: { username: 'hname_12345678', status: 'MIGRATED' },
		}),
		title: /^Unrecognized callback$/,
		colour: COLOURS.neutral,
		fields: { Username: '`hname_12345678`' },
		description: ['undocumented MOFH status "MIGRATED"', 'nothing was dropped'],
	},
];

const PROVIDER_NAMES = { mofh: 'MyOwnFreeHost', xolphin: 'Xolphin SSL', wooxy: 'Wooxy' } as const;

describe('renderEvent: one event of every kind', () => {
	test('the samples cover every event kind', () => {
		const every: Record<EventKind, true> = {
			'account.activated': true,
			'account.sql_cluster': true,
			'account.suspended': true,
			'account.reactivated': true,
			'account.deleted': true,
			'domain.added': true,
			'domain.removed': true,
			'ticket.replied': true,
			'ticket.closed': true,
			'ticket.opened': true,
			'ticket.reply_sent': true,
			'cert.issued': true,
			'cert.updated': true,
			'cert.deleted': true,
			'email.event': true,
			'account.action': true,
			unrecognized: true,
		};
		assert.deepEqual(new Set(SAMPLES.map((sample) => sample.event.kind)), new Set(Object.keys(every)));
	});

	for (const sample of SAMPLES) {
		test(sample.name, () => {
			const embed = renderEvent(sample.event);
			assert.match(embed.title ?? '', sample.title);
			assert.equal(embed.color, sample.colour);
			assert.equal(embed.footer?.text, `${PROVIDER_NAMES[sample.event.provider]} · event ${sample.event.id}`);
			assert.match(embed.timestamp ?? '', ISO);
			const when = sample.event.kind === 'email.event' ? (sample.event.occurredAt ?? RECEIVED) : RECEIVED;
			assert.equal(embed.timestamp, new Date(when).toISOString());
			for (const [name, value] of Object.entries(sample.fields ?? {})) {
				assert.equal(fieldOf(embed, name).value, value, `field ${name}`);
			}
			for (const part of sample.description ?? [])
				assert.ok(embed.description?.includes(part), `description has ${part}`);
			for (const name of sample.absent ?? [])
				assert.ok(!embed.fields?.some((field) => field.name === name), `no field ${name}`);
		});
	}

	test('the unrecognized payload is shown as a JSON code block', () => {
		const sample = SAMPLES.find((one) => one.event.kind === 'unrecognized');
		assert.ok(sample);
		const payload = fieldOf(renderEvent(sample.event), 'Payload');
		assert.equal(payload.inline, false);
		assert.match(payload.value, /^```\n[\s\S]*\n```$/);
		assert.match(payload.value, /"status": "MIGRATED"/);
	});

	test('the deletion estimate is 60 days after receipt, 2 for AUTO_IDLE, none for a temporary suspension', () => {
		const parse = (event: Event) => {
			const value = fieldOf(renderEvent(event), 'Expected deletion (estimate)').value;
			const match = /^<t:(\d+):D> \(<t:(\d+):R>\)$/.exec(value);
			assert.ok(match, value);
			assert.equal(match[1], match[2]);
			return Number(match[1]) * 1000 - RECEIVED;
		};
		const rounding = RECEIVED % 1000;
		assert.equal(parse(suspension('OTHER', 'permanent')), 60 * DAY - rounding);
		assert.equal(parse(suspension('AUTO_IDLE', 'inactivity')), 2 * DAY - rounding);
		const temporary = renderEvent(suspension('MYSQL_OVERLOAD', 'temporary'));
		assert.ok(
			!temporary.fields?.some((field) => field.name === 'Expected deletion (estimate)'),
			'no estimate for a temporary suspension',
		);
	});

	test('an empty raw reason is shown as (empty)', () => {
		const event = stamp({
			provider: 'mofh',
			kind: 'account.suspended',
			username: 'u1',
			reason: { raw: '', code: 'UNKNOWN', category: 'unknown' },
		});
		assert.equal(fieldOf(renderEvent(event), 'As sent').value, '`(empty)`');
	});

	test('rendering is pure: the same event renders the same way', () => {
		for (const { event } of SAMPLES) assert.deepEqual(renderEvent(event), renderEvent(event));
	});
});

describe('renderEvent: user text cannot format or mention', () => {
	test('a backtick and @everyone in a username stay inside one inline code span', () => {
		const event = stamp({
			provider: 'mofh',
			kind: 'account.activated',
			username: 'evil`name @everyone <@123456789012345678>',
		});
		const value = fieldOf(renderEvent(event), 'Username').value;
		assert.equal(value, '`evilˋname @\u200beveryone <\u200b@123456789012345678>`');
		assert.equal(value.split('`').length - 1, 2, 'only the wrapping backticks remain');
		assert.ok(value.startsWith('`') && value.endsWith('`'));
	});

	test('a run of backticks cannot close the span early', () => {
		const event = stamp({ provider: 'mofh', kind: 'account.deleted', username: '```@here```' });
		assert.equal(fieldOf(renderEvent(event), 'Username').value, '`ˋˋˋ@\u200bhereˋˋˋ`');
	});

	test('line breaks inside a value are flattened', () => {
		const event = stamp({ provider: 'mofh', kind: 'account.deleted', username: 'a\n\n# @everyone\r\nb' });
		assert.equal(fieldOf(renderEvent(event), 'Username').value, '`a # @\u200beveryone b`');
	});

	test('a triple backtick in an unrecognized payload cannot end the code block', () => {
		const event = stamp({
			provider: 'mofh',
			kind: 'unrecognized',
			note: 'x',
			fields: { comments: '```\n@everyone' },
		});
		const value = fieldOf(renderEvent(event), 'Payload').value;
		assert.equal(value.split('```').length - 1, 2, value);
	});
});

/** Every Discord limit, counted independently in code points. */
function assertWithinLimits(embed: APIEmbed, label: string): void {
	assert.ok(cp(embed.title) <= 256, `${label}: title ${cp(embed.title)}`);
	assert.ok(cp(embed.description) <= 4096, `${label}: description ${cp(embed.description)}`);
	assert.ok((embed.fields ?? []).length <= 25, `${label}: ${embed.fields?.length} fields`);
	assert.ok(cp(embed.footer?.text) <= 2048, `${label}: footer`);
	let total = cp(embed.title) + cp(embed.description) + cp(embed.footer?.text) + cp(embed.author?.name);
	for (const field of embed.fields ?? []) {
		assert.ok(cp(field.name) <= 256, `${label}: field name ${cp(field.name)}`);
		assert.ok(cp(field.value) <= 1024, `${label}: field ${field.name} value ${cp(field.value)}`);
		assert.ok(field.name.trim().length > 0, `${label}: empty field name`);
		assert.ok(field.value.trim().length > 0, `${label}: empty value for ${field.name}`);
		total += cp(field.name) + cp(field.value);
	}
	assert.ok(total <= 6000, `${label}: total ${total}`);
	assert.equal(embedLength(embed), total, `${label}: embedLength agrees`);
	for (const text of [
		embed.title,
		embed.description,
		embed.footer?.text,
		...(embed.fields ?? []).flatMap((f) => [f.name, f.value]),
	]) {
		assert.doesNotMatch(text ?? '', LONE_SURROGATE, `${label}: a surrogate pair was split`);
	}
}

describe('renderEvent: limits under huge values', () => {
	const longName = 'u'.repeat(10_000);
	const astralName = '𝓊'.repeat(10_000);
	const emojiText = '😀🇳🇱👩‍💻'.repeat(25_000); // ≥100k code points, mostly astral
	const huge = 'x'.repeat(10_000);
	const manyHeaders = Object.fromEntries(
		Array.from({ length: 5000 }, (_, i) => [
			`X-Header-${i}-${'h'.repeat(40)}`,
			`value-${i}-${'v'.repeat(150)}`,
		]),
	);

	const events: { name: string; event: Event }[] = [
		{
			name: 'activated, 10k username',
			event: stamp({ provider: 'mofh', kind: 'account.activated', username: longName }),
		},
		{
			name: 'activated, astral username',
			event: stamp({ provider: 'mofh', kind: 'account.activated', username: astralName }),
		},
		{
			name: 'sql cluster',
			event: stamp({ provider: 'mofh', kind: 'account.sql_cluster', username: longName, cluster: huge }),
		},
		{
			name: 'suspended',
			event: stamp({
				provider: 'mofh',
				kind: 'account.suspended',
				username: astralName,
				reason: { raw: emojiText, code: huge, category: 'permanent', closedBy: 'admin' },
			}),
		},
		{
			name: 'reactivated',
			event: stamp({ provider: 'mofh', kind: 'account.reactivated', username: longName }),
		},
		{ name: 'deleted', event: stamp({ provider: 'mofh', kind: 'account.deleted', username: astralName }) },
		{
			name: 'domain added',
			event: stamp({
				provider: 'mofh',
				kind: 'domain.added',
				username: longName,
				code: huge,
				domainKind: 'parked',
				domain: `${'d'.repeat(10_000)}.com`,
			}),
		},
		{
			name: 'domain removed',
			event: stamp({
				provider: 'mofh',
				kind: 'domain.removed',
				username: astralName,
				code: huge,
				domainKind: 'addon',
			}),
		},
		{
			name: 'ticket replied, 100k emoji',
			event: stamp({ provider: 'mofh', kind: 'ticket.replied', ticketId: '123456', text: emojiText }),
		},
		{
			name: 'ticket closed, huge id and text',
			event: stamp({
				provider: 'mofh',
				kind: 'ticket.closed',
				ticketId: '9'.repeat(10_000),
				text: emojiText,
			}),
		},
		{ name: 'cert issued', event: stamp({ provider: 'xolphin', kind: 'cert.issued', requestId: huge }) },
		{
			name: 'cert updated',
			event: stamp({
				provider: 'xolphin',
				kind: 'cert.updated',
				requestId: huge,
				state: emojiText,
				domain: huge,
			}),
		},
		{ name: 'cert deleted', event: stamp({ provider: 'xolphin', kind: 'cert.deleted', requestId: huge }) },
		{
			name: 'email with 5000 headers',
			event: stamp({
				provider: 'wooxy',
				kind: 'email.event',
				event: emojiText,
				email: huge,
				messageId: huge,
				userId: astralName,
				occurredAt: RECEIVED,
				headers: manyHeaders,
			}),
		},
		{
			name: 'unrecognized with 5000 fields',
			event: stamp({
				provider: 'wooxy',
				kind: 'unrecognized',
				note: emojiText,
				username: longName,
				fields: Object.fromEntries(
					Array.from({ length: 5000 }, (_, i) => [`field_${i}`, emojiText.slice(0, 200)]),
				),
			}),
		},
		{
			name: 'empty and blank values',
			event: stamp({
				provider: 'mofh',
				kind: 'domain.added',
				username: '   ',
				code: '',
				domainKind: 'subdomain',
				domain: '',
			}),
		},
		{
			name: 'blank email fields',
			event: stamp({
				provider: 'wooxy',
				kind: 'email.event',
				event: ' ',
				userId: '\n',
				headers: { ' ': ' ' },
			}),
		},
	];

	for (const { name, event } of events) {
		test(`${name}: every limit holds`, () => assertWithinLimits(renderEvent(event), name));
	}

	test('the 100k-emoji ticket text is cut to exactly 4096 code points ending with …', () => {
		const embed = renderEvent(
			events.find((one) => one.name === 'ticket replied, 100k emoji')?.event as Event,
		);
		assert.equal(codePoints(embed.description ?? ''), 4096);
		assert.ok(embed.description?.endsWith('…'));
		assert.ok(emojiText.startsWith((embed.description ?? '').slice(0, -1)), 'the kept text is a prefix');
	});

	test('a huge ticket id is cut in the title, ending with …', () => {
		const embed = renderEvent(
			events.find((one) => one.name === 'ticket closed, huge id and text')?.event as Event,
		);
		assert.equal(codePoints(embed.title ?? ''), 256);
		assert.ok(embed.title?.endsWith('…'));
	});

	test('a 10k username is cut inside its code span, ending with …', () => {
		for (const username of [longName, astralName]) {
			const embed = renderEvent(stamp({ provider: 'mofh', kind: 'account.activated', username }));
			const value = fieldOf(embed, 'Username').value;
			assert.ok(value.endsWith('…`'), value.slice(-10));
			assert.ok(value.startsWith('`'));
		}
	});

	test('the headers field is cut to 1024 code points ending with …', () => {
		const embed = renderEvent(events.find((one) => one.name === 'email with 5000 headers')?.event as Event);
		const headers = fieldOf(embed, 'Headers').value;
		assert.equal(codePoints(headers), 1024);
		assert.ok(headers.endsWith('…'));
		assert.ok(headers.startsWith('`X-Header-0-'));
	});

	test('the payload code block stays closed when cut', () => {
		const embed = renderEvent(
			events.find((one) => one.name === 'unrecognized with 5000 fields')?.event as Event,
		);
		const payload = fieldOf(embed, 'Payload').value;
		assert.ok(payload.endsWith('…\n```'), payload.slice(-10));
		assert.ok(payload.startsWith('```\n'));
	});

	test('a huge suspension keeps the operator facts', () => {
		const embed = renderEvent(events.find((one) => one.name === 'suspended')?.event as Event);
		for (const name of [
			'Username',
			'Reason',
			'Category',
			'Closed by',
			'Expected deletion (estimate)',
			'As sent',
		]) {
			fieldOf(embed, name);
		}
		assert.equal(fieldOf(embed, 'Expected deletion (estimate)').value, deletionStamp(60));
	});

	test('4000 emoji fit a description whole: limits count code points, not UTF-16 units', () => {
		const text = '😀'.repeat(4000);
		const embed = renderEvent(stamp({ provider: 'mofh', kind: 'ticket.replied', ticketId: '1', text }));
		assert.equal(embed.description, text);
	});
});

describe('codePoints', () => {
	const cases: [string, number][] = [
		['', 0],
		['abc', 3],
		['😀', 1],
		['😀😀😀', 3],
		['e\u0301', 2],
		['🇳🇱', 2],
		['𝓊x', 2],
	];
	for (const [text, count] of cases)
		test(`${JSON.stringify(text)} has ${count}`, () => assert.equal(codePoints(text), count));
});

describe('truncate', () => {
	test('text within the limit is only trimmed, when asked to trim as Discord does', () => {
		assert.equal(truncate('  hello  ', 5, { trim: true }), 'hello');
		assert.equal(truncate('  hello  ', 9), '  hello  ');
		assert.equal(truncate('hello', 100), 'hello');
		assert.equal(truncate('', 3), '');
	});
	test('text one over the limit is cut to the limit, ending with …', () => {
		assert.equal(truncate('abcdef', 5), 'abcd…');
		assert.equal(codePoints(truncate('x'.repeat(2000), 1024)), 1024);
	});
	test('astral characters count once and are never split', () => {
		assert.equal(truncate('😀'.repeat(10), 10), '😀'.repeat(10));
		assert.equal(truncate('😀'.repeat(11), 10), `${'😀'.repeat(9)}…`);
		assert.doesNotMatch(truncate('a😀'.repeat(100), 8), LONE_SURROGATE);
	});
	test('whitespace before the ellipsis is dropped', () => {
		assert.equal(truncate('abc   defgh', 6), 'abc…');
	});
	test('a limit of one leaves only the ellipsis', () => {
		assert.equal(truncate('abc', 1), '…');
	});
});

describe('embedLength', () => {
	test('sums title, description, footer, author and fields in code points', () => {
		const embed: APIEmbed = {
			title: 'ab',
			description: '😀',
			footer: { text: 'xyz' },
			author: { name: 'q' },
			fields: [
				{ name: 'n', value: 'vv' },
				{ name: '𝓊', value: '𝓊𝓊' },
			],
			url: 'https://not.counted.test/long/path',
			timestamp: new Date(0).toISOString(),
		};
		assert.equal(embedLength(embed), 2 + 1 + 3 + 1 + 1 + 2 + 1 + 2);
	});
	test('an empty embed is zero', () => assert.equal(embedLength({}), 0));
});

describe('fitEmbed', () => {
	const full = (i: number): APIEmbedField => ({ name: 'n'.repeat(300) + i, value: 'v'.repeat(2000) });

	test('an embed within limits is unchanged', () => {
		const embed: APIEmbed = {
			title: 'T',
			description: 'D',
			color: 1,
			fields: [{ name: 'a', value: 'b', inline: true }],
			footer: { text: 'f' },
			timestamp: '2024-01-01T00:00:00.000Z',
		};
		assert.deepEqual(fitEmbed(embed), embed);
	});

	test('does not modify its input', () => {
		const embed: APIEmbed = { title: 't'.repeat(300), fields: [full(0)], footer: { text: 'f'.repeat(3000) } };
		const copy = structuredClone(embed);
		fitEmbed(embed);
		assert.deepEqual(embed, copy);
	});

	test('cuts title, description, footer, author, field name and value to their limits', () => {
		const fitted = fitEmbed({
			title: 't'.repeat(300),
			description: 'd'.repeat(5000),
			footer: { text: 'f'.repeat(3000) },
			author: { name: 'a'.repeat(300) },
			fields: [full(0)],
		});
		assert.equal(codePoints(fitted.title ?? ''), LIMITS.title);
		assert.equal(codePoints(fitted.footer?.text ?? ''), LIMITS.footer);
		assert.equal(codePoints(fitted.author?.name ?? ''), LIMITS.author);
		assert.equal(codePoints(fitted.fields?.[0]?.name ?? ''), LIMITS.fieldName);
		assert.equal(codePoints(fitted.fields?.[0]?.value ?? ''), LIMITS.fieldValue);
		for (const text of [
			fitted.title,
			fitted.footer?.text,
			fitted.author?.name,
			fitted.fields?.[0]?.name,
			fitted.fields?.[0]?.value,
		]) {
			assert.ok(text?.endsWith('…'));
		}
		assertWithinLimits(fitted, 'all over');
	});

	test('keeps the first 25 of 30 fields', () => {
		const fields = Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, value: `v${i}` }));
		const fitted = fitEmbed({ fields });
		assert.deepEqual(fitted.fields, fields.slice(0, 25));
	});

	test('empty or blank field names and values become a dash', () => {
		const fitted = fitEmbed({
			fields: [
				{ name: '', value: '  ' },
				{ name: ' \n', value: 'ok' },
			],
		});
		assert.deepEqual(fitted.fields, [
			{ name: '—', value: '—' },
			{ name: '—', value: 'ok' },
		]);
	});

	test('an empty or blank description is removed', () => {
		assert.ok(!('description' in fitEmbed({ title: 't', description: '' })));
		assert.ok(!('description' in fitEmbed({ title: 't', description: ' \n ' })));
	});

	test('over the 6000 total, the description is cut first', () => {
		const fitted = fitEmbed({
			title: 't'.repeat(256),
			description: 'd'.repeat(4096),
			fields: [full(1), full(2)],
		});
		assert.equal(fitted.fields?.length, 2);
		assert.equal(embedLength(fitted), LIMITS.total);
		assert.ok(fitted.description?.endsWith('…'));
		assert.equal(codePoints(fitted.description ?? ''), 6000 - 256 - 2 * (256 + 1024));
	});

	test('then fields are dropped from the end', () => {
		const fields = Array.from({ length: 25 }, (_, i) => full(i));
		const fitted = fitEmbed({ title: 'T', description: 'short', fields });
		assert.ok(!('description' in fitted), 'the description is too short to keep a useful part');
		assert.equal(fitted.fields?.length, 4);
		assert.ok(fitted.fields?.[0]?.name.startsWith('nnn'));
		assert.ok(embedLength(fitted) <= LIMITS.total);
		assertWithinLimits(fitted, 'dropped');
	});

	test('an emoji-heavy embed is fitted by code points', () => {
		const fitted = fitEmbed({
			description: '😀'.repeat(5000),
			fields: Array.from({ length: 25 }, () => ({ name: '😀'.repeat(300), value: '😀'.repeat(2000) })),
		});
		assertWithinLimits(fitted, 'emoji');
	});
});

describe('firstMessageSize', () => {
	const sized = (length: number): APIEmbed => ({ description: 'x'.repeat(length) });

	test('at most ten embeds in one message', () => {
		assert.equal(firstMessageSize(Array.from({ length: 12 }, () => sized(10))), 10);
		assert.equal(firstMessageSize(Array.from({ length: 10 }, () => sized(10))), 10);
		assert.equal(firstMessageSize(Array.from({ length: 3 }, () => sized(10))), 3);
	});

	test('at most 6000 characters in one message', () => {
		assert.equal(firstMessageSize([sized(2500), sized(2500), sized(2500)]), 2);
		assert.equal(
			firstMessageSize(Array.from({ length: 7 }, () => sized(1000))),
			6,
			'6000 exactly still fits',
		);
		assert.equal(firstMessageSize([sized(10), sized(5991)]), 1);
	});

	test('always at least one, even when the first embed alone is over', () => {
		assert.equal(firstMessageSize([sized(7000), sized(1)]), 1);
		assert.equal(firstMessageSize([sized(6000), sized(1)]), 1);
		assert.equal(firstMessageSize([sized(1)]), 1);
	});

	test('counts code points', () => {
		const emoji = (count: number): APIEmbed => ({ description: '😀'.repeat(count) });
		assert.equal(firstMessageSize([emoji(3000), emoji(3000)]), 2);
	});
});

describe('embedToText', () => {
	test('turns <t:…> timestamps into dates and drops backticks', () => {
		const text = embedToText({
			title: 'T',
			description: 'at <t:0:D> and `code`',
			fields: [{ name: 'When', value: '<t:86400:R> / <t:172800:f>' }],
			footer: { text: 'MyOwnFreeHost · event x' },
			timestamp: '2024-01-01T00:00:00.000Z',
		});
		assert.match(text, /at 1970-01-01 and code/);
		assert.match(text, /When: 1970-01-02 \/ 1970-01-03/);
		assert.match(text, /MyOwnFreeHost · event x · 2024-01-01T00:00:00.000Z/);
		assert.doesNotMatch(text, /`|<t:/);
	});

	test('a rendered suspension reads with its deletion date', () => {
		const event = suspension('AUTO_IDLE', 'inactivity');
		const text = embedToText(renderEvent(event), '#suspensions');
		const date = new Date(RECEIVED + 2 * DAY).toISOString().slice(0, 10);
		// The relative ` (<t:…:R>)` part is dropped: a terminal shows the date once.
		assert.match(text, new RegExp(`^ {3}Expected deletion \\(estimate\\): ${date}$`, 'm'));
		assert.match(text, /Username: hname_12345678/);
		assert.match(text, /→ #suspensions \(dry run\)/);
		assert.doesNotMatch(text, /`|<t:/);
	});

	test('multi-line values are indented', () => {
		const text = embedToText({ fields: [{ name: 'H', value: 'a\nb' }] });
		assert.match(text, /H: a\n {6}b/);
	});
});

describe('renderHeadlines', () => {
	test('one line per event: the title, and the account in inline code', () => {
		const events = [
			stamp({ provider: 'mofh', kind: 'account.activated', username: 'host_123' }),
			stamp({ provider: 'xolphin', kind: 'cert.issued', requestId: '42' }),
		];
		const text = renderHeadlines(events, events.map(renderEvent));
		assert.equal(text, 'Account activated · `host_123`\nCertificate issued');
	});

	test('a hostile username cannot break out of its code span, and the text fits 2000 characters', () => {
		const events = Array.from({ length: 10 }, () =>
			stamp({ provider: 'mofh', kind: 'account.deleted', username: `a\`@everyone\`${'x'.repeat(600)}` }),
		);
		const text = renderHeadlines(events, events.map(renderEvent));
		assert.ok([...text].length <= 2000);
		assert.ok(text.endsWith('…'));
		for (const line of text.split('\n').slice(0, -1))
			assert.equal(line.split('`').length, 3, 'exactly one code span');
	});
});

// ─── Provider text is data ───────────────────────────────────────────────────────────────────────────

/** What a hostile provider (or whoever forges its callbacks) puts in every string it controls. */
const HOSTILE =
	'x\n**Account deleted** · `victim`\n# Big [click here](https://evil.example/login) <@&123456789012345678> ' +
	'<@234567890123456789> <#345678901234567890> </wooxy remove:1> @everyone @here \u001b[2J\u202eevil';

/** Discord text with inline code spans and code blocks taken out: inside them nothing is parsed. */
function outsideCode(text: string): string {
	return text.replace(/```[\s\S]*?```/g, ' ').replace(/`[^`]*`/g, ' ');
}

/** What Discord would turn into something live: a mention, a masked link, a heading, a quote, bold. */
function assertInert(text: string, where: string): void {
	assert.doesNotMatch(
		text,
		/<[@#][!&]?\d+>|<\/[\w -]+:\d+>|@everyone|@here/i,
		`${where}: a live mention in ${JSON.stringify(text)}`,
	);
	const prose = outsideCode(text);
	assert.doesNotMatch(prose, /(?<!\\)\]\(/, `${where}: a masked link in ${JSON.stringify(text)}`);
	assert.doesNotMatch(prose, /(?<!\\)\*\*/, `${where}: bold in ${JSON.stringify(text)}`);
	assert.doesNotMatch(prose, /^\s*(#|>|-#)/m, `${where}: a heading or quote in ${JSON.stringify(text)}`);
	assert.doesNotMatch(text, /(?!\n)[\p{Cc}\u202a-\u202e\u2066-\u2069]/u, `${where}: a control character`);
}

function assertEmbedInert(embed: APIEmbed, label: string): void {
	assertInert(embed.title ?? '', `${label} title`);
	assertInert(embed.description ?? '', `${label} description`);
	for (const field of embed.fields ?? []) {
		assertInert(field.name, `${label} field name ${field.name}`);
		assertInert(field.value, `${label} field ${field.name}`);
	}
	assertInert(embed.footer?.text ?? '', `${label} footer`);
}

/** The provider-controlled strings of an event, each with HOSTILE appended (enums and ids left alone). */
const PROVIDER_STRINGS = new Set([
	'username',
	'cluster',
	'domain',
	'code',
	'ticketId',
	'text',
	'requestId',
	'state',
	'event',
	'email',
	'messageId',
	'userId',
	'note',
	'raw',
	'detail',
]);
function hostile<T>(value: T, key = ''): T {
	if (typeof value === 'string') return (PROVIDER_STRINGS.has(key) ? `${value}${HOSTILE}` : value) as T;
	if (Array.isArray(value)) return value.map((item) => hostile(item, key)) as T;
	if (value && typeof value === 'object') {
		const free = key === 'headers' || key === 'fields';
		return Object.fromEntries(
			Object.entries(value).map(([k, v]) =>
				free ? [`${k}${HOSTILE}`, `${String(v)}${HOSTILE}`] : [k, hostile(v, k)],
			),
		) as T;
	}
	return value;
}

describe('provider text is rendered as data', () => {
	for (const sample of SAMPLES) {
		test(`${sample.name}: hostile text in every provider field forges no line, link, mention or markup`, () => {
			const event = hostile(sample.event);
			const rendered = renderEvent(event);
			// The staff member who acted is named by a Discord mention: an id Discord gave, not provider text.
			const actor = event.kind === 'account.action' ? `<@${event.by.id}>` : undefined;
			const embed = actor
				? (JSON.parse(JSON.stringify(rendered).split(actor).join('@staff')) as APIEmbed)
				: rendered;
			assertEmbedInert(embed, sample.name);
			const content = renderHeadlines([event], [embed]);
			assert.equal(content.split('\n').length, 1, `one headline line: ${JSON.stringify(content)}`);
			assertInert(content, `${sample.name} headline`);
		});
	}

	test('a Wooxy event name with a newline cannot add a headline to the message content', () => {
		const events = [
			stamp(parseWooxy({ event: 'read\nAccount deleted · `host_victim`', email: 'a@b.test' })),
			stamp({ provider: 'mofh', kind: 'account.activated', username: 'host_1' }),
		];
		const content = renderHeadlines(events, events.map(renderEvent));
		const lines = content.split('\n');
		assert.equal(lines.length, 2, content);
		assert.match(lines[0] ?? '', /^E-mail event: read Account deleted · \\`host\\_victim\\`$/);
		assert.match(lines[1] ?? '', /^Account activated · `host_1`$/);
	});

	test('a masked link is never clickable, in a ticket reply, a Wooxy event or an unknown status', () => {
		const link = '[Reset your password](https://evil.example/login)';
		const embeds = [
			renderEvent(
				stamp(
					parseMofh({
						callback_type: 'ticket',
						ticket_id: '77',
						ticket_status: 'S',
						support_reply: `Hello<br>${link}`,
					}),
				),
			),
			renderEvent(stamp(parseWooxy({ event: link, email: 'a@b.test' }))),
			renderEvent(stamp(parseMofh({ username: 'host_1', status: link }))),
			renderEvent(stamp(parseXolphin({ RequestId: '31337', Status: link }))),
		];
		for (const embed of embeds) {
			assertEmbedInert(embed, embed.title ?? '');
			assert.ok(JSON.stringify(embed).includes('evil.example/login'), 'the text itself is still shown');
		}
	});

	test('mentions in ticket text, also ones HTML entities decode into, in Xolphin Status and MOFH status are not live', () => {
		const ticket = renderEvent(
			stamp(
				parseMofh({
					callback_type: 'ticket',
					ticket_id: '78',
					ticket_status: 'S',
					support_reply:
						'&lt;@&amp;123456789012345678&gt; &#64;everyone &#x40;here <b>&lt;#345678901234567890&gt;</b>',
				}),
			),
		);
		assertEmbedInert(ticket, 'ticket');
		assert.match(
			ticket.description ?? '',
			/<\u200b@&123456789012345678\\>/,
			'shown, with its mention broken',
		);
		const xolphin = renderEvent(
			stamp(parseXolphin({ RequestId: '31337', Status: '<@&123456789012345678> @everyone' })),
		);
		assertEmbedInert(xolphin, 'xolphin');
		const mofh = renderEvent(
			stamp(parseMofh({ username: 'host_1', status: '<@&123456789012345678>@everyone' })),
		);
		assertEmbedInert(mofh, 'mofh');
		for (const embed of [xolphin, mofh]) assert.match(embed.description ?? '', /123456789012345678/);
	});

	test('/account status: the title, fields and history show provider text as data', () => {
		let account = projectAccount(
			undefined,
			stamp({ provider: 'mofh', kind: 'account.activated', username: `host_1${HOSTILE}` }),
		);
		for (const event of [
			stamp({
				provider: 'mofh',
				kind: 'account.sql_cluster',
				username: `host_1${HOSTILE}`,
				cluster: `sql1${HOSTILE}`,
			}),
			stamp({
				provider: 'mofh',
				kind: 'domain.added',
				username: `host_1${HOSTILE}`,
				code: 'CLIENTDOMADD',
				domainKind: 'addon',
				domain: `a.test${HOSTILE}`,
			}),
			hostile(suspension('DAILY_IO', 'temporary')),
		] as Event[])
			account = projectAccount(account, { ...event, username: `host_1${HOSTILE}` } as Event);
		const embed = renderAccountStatus(account);
		assertEmbedInert(embed, 'account status');
		assert.match(fieldOf(embed, 'Recent history').value, /SQL cluster assigned/);
	});

	test('/cert status and /alerts failed show provider text as data', () => {
		const update = stamp({
			provider: 'xolphin',
			kind: 'cert.updated',
			requestId: `31337${HOSTILE}`,
			state: `DCV${HOSTILE}`,
			domain: `a.test${HOSTILE}`,
		});
		assertEmbedInert(
			renderCertStatus(projectCert(undefined, update as EventOf<'cert.updated'>)),
			'cert status',
		);
		const failed = renderFailed([
			{ event: update, destination: `channel 1${HOSTILE}`, lastError: `Discord said ${HOSTILE}` },
			{ event: stamp(parseXolphin({ RequestId: '1', Status: HOSTILE })), destination: 'channel 1' },
		]);
		assertEmbedInert(failed, 'failed');
	});

	test('escaping is linear: 32 KB of crafted markdown renders at once', () => {
		const text = '[a]('.repeat(8000);
		const started = performance.now();
		renderEvent(stamp({ provider: 'mofh', kind: 'ticket.replied', ticketId: '1', text }));
		// Generous for a slow machine; the regexes this replaced took many seconds on this input.
		assert.ok(performance.now() - started < 1000);
	});
});

describe('dry-run text reaches a terminal without control characters', () => {
	test('ESC sequences, C1 controls and bidi overrides are stripped, also ones decoded from &#27;', () => {
		const event = stamp(
			parseMofh({
				callback_type: 'ticket',
				ticket_id: '79',
				ticket_status: 'S',
				support_reply: 'before &#27;[2J&#x1b;]0;title&#7; \u009b31m \u202eevil\u2066 &#8238;x<br>after',
			}),
		);
		const text = embedToText(renderEvent(event), 'channel 1');
		assert.doesNotMatch(text, /(?!\n)[\p{Cc}\u202a-\u202e\u2066-\u2069]/u, JSON.stringify(text));
		assert.match(text, /before \[2J\]0;title/);
		assert.match(text, /\n {3}after/, 'newlines stay');
		const failed = embedToText(
			renderFailed([{ event, destination: 'channel 1', lastError: 'x\u001b[31my' }]),
		);
		assert.doesNotMatch(failed, /(?!\n)[\p{Cc}\u202a-\u202e\u2066-\u2069]/u);
	});

	test('the printed text reads as the provider wrote it: no markdown escapes, zero-width spaces or raw timestamps', () => {
		const text = embedToText(
			renderEvent(
				stamp(
					parseMofh({
						callback_type: 'ticket',
						ticket_id: '80',
						ticket_status: 'S',
						support_reply: 'a_b *c* [d](e) &lt;@1&gt; @everyone',
					}),
				),
			),
		);
		assert.match(text, /a_b \*c\* \[d\]\(e\) <@1> @everyone/);
		const suspended = embedToText(renderEvent(suspension('PHISHING', 'permanent')));
		assert.match(suspended, /Expected deletion \(estimate\): \d{4}-\d{2}-\d{2}$/m);
		assert.doesNotMatch(suspended, /<t:/);
	});
});

describe('inline code keeps values copyable', () => {
	test('an e-mail address at a domain named here or everyone is shown as written', () => {
		const embed = renderEvent(stamp(parseWooxy({ event: 'hard', email: 'ops@here.example' })));
		assert.equal(fieldOf(embed, 'E-mail').value, '`ops@here.example`');
	});
});

describe('renderAccountStatus: the deletion estimate', () => {
	const account = (reason: SuspensionReason) =>
		renderAccountStatus({
			username: 'hname_12345678',
			status: 'suspended',
			statusAt: RECEIVED,
			suspension: reason,
			domains: [],
			firstSeen: RECEIVED,
			updatedAt: RECEIVED,
			history: [],
		});
	const estimate = (embed: APIEmbed) =>
		embed.fields?.find((field) => field.name === 'Expected deletion (estimate)')?.value;
	const stampOf = (ms: number) => `<t:${Math.floor(ms / 1000)}:f> (<t:${Math.floor(ms / 1000)}:R>)`;

	test('shown where deletion follows: 60 days after a permanent suspension, 2 after AUTO_IDLE', () => {
		const permanent = { raw: 'PHISHING', code: 'PHISHING', category: 'permanent' } as const;
		assert.equal(estimate(account(permanent)), stampOf(RECEIVED + 60 * DAY));
		const idle = { raw: 'AUTO_IDLE', code: 'AUTO_IDLE', category: 'inactivity' } as const;
		assert.equal(estimate(account(idle)), stampOf(RECEIVED + 2 * DAY));
	});

	test('not shown for a daily limit or a reason nobody documented', () => {
		const daily = { raw: 'ADMIN_CLOSE : DAILY_EP', code: 'DAILY_EP', category: 'temporary' } as const;
		assert.equal(estimate(account(daily)), undefined);
		const unknown = { raw: 'ADMIN_CLOSE : NEW_THING', code: 'NEW_THING', category: 'unknown' } as const;
		assert.equal(estimate(account(unknown)), undefined);
	});
});

describe('the meaning of a DAILY_* suspension', () => {
	const suspended = (comments: string) =>
		stamp(parseMofh({ username: 'host_1', status: 'SUSPENDED', comments })) as EventOf<'account.suspended'>;

	test('every renderer shows it: an alert, a digest and /account status', () => {
		const event = suspended('ADMIN_CLOSE : DAILY_EP');
		assert.equal(event.reason.code, 'DAILY_EP');
		const reason = renderEvent(event).fields?.find((field) => field.name === 'Reason')?.value ?? '';
		assert.match(reason, /daily resource limit \(EP\) was exceeded/);
		assert.doesNotMatch(reason, /not a documented/);
		const digest = renderDigest([event, suspended('ADMIN_CLOSE : DAILY_EP')], LIMITS.total).embed;
		assert.doesNotMatch(JSON.stringify(digest), /not a documented/);
		assert.match(JSON.stringify(digest), /daily resource limit \(EP\)/);
		const status = renderAccountStatus(projectAccount(undefined, event));
		assert.doesNotMatch(JSON.stringify(status), /ot a documented/);
	});

	test('a code named after an Object property is not documented', () => {
		const reason = renderEvent(suspended('constructor')).fields?.find((field) => field.name === 'Reason');
		assert.doesNotMatch(reason?.value ?? '', /function|undefined/);
	});
});
