/**
 * MOFH callback parsing: every documented status (docs/providers.md A.1), the real-world quirks of
 * docs/providers.md A.1, ticket callbacks, malformed input, and the form-field helpers underneath.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SuspensionReason } from '../src/events/event.js';
import { type Fields, flattenFields, MAX_FIELD_LENGTH, PayloadError } from '../src/providers/fields.js';
import { htmlToText, parseMofh } from '../src/providers/mofh/parse.js';
import { parseSuspensionReason } from '../src/providers/mofh/suspension.js';
import { estimatedDeletion } from '../src/vocabulary/mofh.js';
import { expectKind, throwsPayload } from './helpers.js';

const USER = 'hname_12345678';
const DAY = 86_400_000;

function suspend(comments: string | undefined): SuspensionReason {
	const fields: Fields = { username: USER, status: 'SUSPENDED' };
	if (comments !== undefined) fields.comments = comments;
	const event = expectKind(parseMofh(fields), 'account.suspended');
	assert.equal(event.provider, 'mofh');
	assert.equal(event.username, USER);
	return event.reason;
}

describe('parseMofh: account lifecycle statuses', () => {
	test('ACTIVATED / GENERIC ACTIVATION → account.activated', () => {
		assert.deepEqual(parseMofh({ username: USER, status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' }), {
			provider: 'mofh',
			kind: 'account.activated',
			username: USER,
		});
	});

	test('REACTIVATE / GENERIC REACT → account.reactivated', () => {
		assert.deepEqual(parseMofh({ username: USER, status: 'REACTIVATE', comments: 'GENERIC REACT' }), {
			provider: 'mofh',
			kind: 'account.reactivated',
			username: USER,
		});
	});

	test('DELETE with the username as comments → account.deleted', () => {
		assert.deepEqual(parseMofh({ username: USER, status: 'DELETE', comments: USER }), {
			provider: 'mofh',
			kind: 'account.deleted',
			username: USER,
		});
	});

	test('status is matched case-insensitively and the username is trimmed', () => {
		const event = expectKind(
			parseMofh({ username: `  ${USER} `, status: ' activated ', comments: 'GENERIC ACTIVATION' }),
			'account.activated',
		);
		assert.equal(event.username, USER);
	});

	test('the username key (host_…) form is accepted', () => {
		const event = expectKind(parseMofh({ username: 'host_87654321', status: 'DELETE' }), 'account.deleted');
		assert.equal(event.username, 'host_87654321');
	});
});

describe('parseMofh: SQL cluster callback', () => {
	const cases: { name: string; status: string; comments: string; cluster: string }[] = [
		{
			name: 'documented: status sql102, comments SQL_SERVER',
			status: 'sql102',
			comments: 'SQL_SERVER',
			cluster: 'sql102',
		},
		{ name: 'upper-case SQL305', status: 'SQL305', comments: 'SQL_SERVER', cluster: 'sql305' },
		{ name: 'SQL_SERVER with a non-sql status', status: 'mysql7', comments: 'SQL_SERVER', cluster: 'mysql7' },
		{
			name: 'lower-case sql_server comments',
			status: 'db-east-4',
			comments: ' sql_server ',
			cluster: 'db-east-4',
		},
		{ name: 'sql status with empty comments', status: 'sql210', comments: '', cluster: 'sql210' },
	];
	for (const { name, status, comments, cluster } of cases) {
		test(name, () => {
			assert.deepEqual(parseMofh({ username: USER, status, comments }), {
				provider: 'mofh',
				kind: 'account.sql_cluster',
				username: USER,
				cluster,
			});
		});
	}

	test('a status that only starts with "sql" is not a cluster', () => {
		const event = expectKind(parseMofh({ username: USER, status: 'sqlite', comments: 'x' }), 'unrecognized');
		assert.match(event.note, /sqlite/);
	});
});

describe('parseMofh: SUSPENDED with every documented reason', () => {
	const documented: { code: string; category: SuspensionReason['category'] }[] = [
		{ code: 'PHISHING', category: 'permanent' },
		{ code: 'VIRUS_MALWARE_HOSTING', category: 'permanent' },
		{ code: 'NULLED_SCRIPT', category: 'permanent' },
		{ code: 'CONTENT_VIOLATION', category: 'permanent' },
		{ code: 'ABUSE_COMPLAINT', category: 'permanent' },
		{ code: 'SPAM_DOMAIN_SIGNUP', category: 'permanent' },
		{ code: 'REQUESTED', category: 'permanent' },
		{ code: 'ADMIN_SUSPEND', category: 'permanent' },
		{ code: 'OTHER', category: 'permanent' },
		{ code: 'DAILY_IO', category: 'temporary' },
		{ code: 'DAILY_HIT', category: 'temporary' },
		{ code: 'MYSQL_OVERLOAD', category: 'temporary' },
		{ code: 'AUTO_IDLE', category: 'inactivity' },
	];
	for (const { code, category } of documented) {
		test(`${code} alone → ${category}`, () => {
			assert.deepEqual(suspend(code), { raw: code, code, category });
			assert.deepEqual(parseSuspensionReason(code), { raw: code, code, category });
		});
		test(`${code} : <reason> is still ${code}`, () => {
			const raw = `${code} : reported by staff`;
			assert.deepEqual(suspend(raw), { raw, code, category });
		});
	}
});

describe('parseSuspensionReason: real-world quirks (docs/providers.md A.1)', () => {
	const cases: { raw: string; expected: Omit<SuspensionReason, 'raw'> }[] = [
		// The wrappers name who closed the account; an admin's words after ADMIN_CLOSE are no code.
		{
			raw: 'ADMIN_CLOSE : terms of service',
			expected: { code: 'ADMIN_CLOSE', category: 'permanent', closedBy: 'admin' },
		},
		{ raw: 'ADMIN_CLOSE', expected: { code: 'ADMIN_CLOSE', category: 'permanent', closedBy: 'admin' } },
		{ raw: 'RES_CLOSE', expected: { code: 'RES_CLOSE', category: 'permanent', closedBy: 'reseller' } },
		{
			raw: 'ADMIN_CLOSE : DAILY_HIT',
			expected: { code: 'DAILY_HIT', category: 'temporary', closedBy: 'admin' },
		},
		{
			raw: 'ADMIN_CLOSE : DAILY_IO',
			expected: { code: 'DAILY_IO', category: 'temporary', closedBy: 'admin' },
		},
		{
			raw: 'ADMIN_CLOSE : DAILY_cpu',
			expected: { code: 'DAILY_CPU', category: 'temporary', closedBy: 'admin' },
		},
		{
			raw: 'ADMIN_CLOSE : DAILY_ cpu',
			expected: { code: 'DAILY_CPU', category: 'temporary', closedBy: 'admin' },
		},
		{
			raw: 'ADMIN_CLOSE : abuse_complaint LINKED_PHISH_mail',
			expected: {
				code: 'ABUSE_COMPLAINT',
				category: 'permanent',
				closedBy: 'admin',
			},
		},
		{
			// An undocumented code is shown as unknown, not as the wrapper's permanent closure.
			raw: 'ADMIN_CLOSE : DISPOSABLE_EMAIL',
			expected: {
				code: 'DISPOSABLE_EMAIL',
				category: 'unknown',
				closedBy: 'admin',
			},
		},
		{
			// Every DAILY_* code is a daily limit, documented or not.
			raw: 'ADMIN_CLOSE : DAILY_EP',
			expected: { code: 'DAILY_EP', category: 'temporary', closedBy: 'admin' },
		},
		{
			raw: 'ADMIN_CLOSE : daily_ bandwidth',
			expected: {
				code: 'DAILY_BANDWIDTH',
				category: 'temporary',
				closedBy: 'admin',
			},
		},
		{ raw: 'DAILY_INODES', expected: { code: 'DAILY_INODES', category: 'temporary' } },
		{
			raw: 'ADMIN_CLOSE : SOMETHING_NEW_2026',
			expected: {
				code: 'SOMETHING_NEW_2026',
				category: 'unknown',
				closedBy: 'admin',
			},
		},
		{
			// Not a code but an administrator's words: the documented permanent `ADMIN_CLOSE : <reason>`.
			raw: 'ADMIN_CLOSE : repeated abuse of the free plan',
			expected: {
				code: 'ADMIN_CLOSE',
				category: 'permanent',
				closedBy: 'admin',
			},
		},
		{
			raw: 'ADMIN_CLOSE; ADMIN_CLOSE : BAD PHISHING',
			expected: { code: 'PHISHING', category: 'permanent', closedBy: 'admin' },
		},
		{
			raw: 'RES_CLOSE : my reason',
			expected: { code: 'RES_CLOSE', category: 'permanent', closedBy: 'reseller' },
		},
		{
			raw: '  admin_close   :   daily_hit  ',
			expected: { code: 'DAILY_HIT', category: 'temporary', closedBy: 'admin' },
		},
		{ raw: 'phishing', expected: { code: 'PHISHING', category: 'permanent' } },
		{ raw: '  auto_idle ', expected: { code: 'AUTO_IDLE', category: 'inactivity' } },
		{ raw: 'daily _ io', expected: { code: 'DAILY_IO', category: 'temporary' } },
		{
			raw: 'RES_CLOSE : requested by the owner, phishing suspected',
			expected: {
				code: 'RES_CLOSE',
				category: 'permanent',
				closedBy: 'reseller',
			},
		},
		{
			raw: 'res_close:spam',
			expected: { code: 'RES_CLOSE', category: 'permanent', closedBy: 'reseller' },
		},
		{
			raw: 'RES_CLOSE : see ticket: 123456',
			expected: {
				code: 'RES_CLOSE',
				category: 'permanent',
				closedBy: 'reseller',
			},
		},
		{
			raw: 'ADMIN_CLOSE : DAILY_HIT : again',
			expected: { code: 'DAILY_HIT', category: 'temporary', closedBy: 'admin' },
		},
		{
			raw: 'SOMETHING : DAILY_HIT',
			expected: { code: 'DAILY_HIT', category: 'temporary' },
		},
		{ raw: 'WEIRD new thing', expected: { code: 'WEIRD_NEW_THING', category: 'unknown' } },
		{ raw: 'ADMIN_CLOSE :   ', expected: { code: 'ADMIN_CLOSE', category: 'permanent', closedBy: 'admin' } },
		{ raw: '', expected: { code: 'UNKNOWN', category: 'unknown' } },
		{ raw: '   ', expected: { code: 'UNKNOWN', category: 'unknown' } },
	];
	for (const { raw, expected } of cases) {
		test(`${JSON.stringify(raw)} → ${expected.code} (${expected.category})`, () => {
			const reason = parseSuspensionReason(raw);
			assert.deepEqual(reason, { raw, ...expected });
			// Through the whole parser the raw comments arrive untouched, whitespace included.
			assert.deepEqual(suspend(raw), { raw, ...expected });
		});
	}

	test('SUSPENDED without a comments field → UNKNOWN with empty raw text', () => {
		assert.deepEqual(suspend(undefined), { raw: '', code: 'UNKNOWN', category: 'unknown' });
	});
});

describe('estimatedDeletion', () => {
	const at = Date.UTC(2024, 0, 15, 12, 30);
	test('60 days after a permanent suspension', () => {
		assert.equal(estimatedDeletion(at, parseSuspensionReason('PHISHING')), at + 60 * DAY);
		assert.equal(
			estimatedDeletion(at, parseSuspensionReason('ADMIN_CLOSE : terms of service')),
			at + 60 * DAY,
		);
		assert.equal(estimatedDeletion(at, parseSuspensionReason('RES_CLOSE : unpaid')), at + 60 * DAY);
	});
	test('2 days after an AUTO_IDLE suspension', () => {
		assert.equal(estimatedDeletion(at, parseSuspensionReason('auto_idle')), at + 2 * DAY);
	});
	test('none where no deletion follows: daily limits are lifted, unknown reasons are not guessed', () => {
		for (const raw of [
			'DAILY_HIT',
			'ADMIN_CLOSE : DAILY_EP',
			'MYSQL_OVERLOAD',
			'ADMIN_CLOSE : DISPOSABLE_EMAIL',
			'',
		]) {
			assert.equal(estimatedDeletion(at, parseSuspensionReason(raw)), undefined, raw);
		}
	});
});

describe('parseMofh: domain callbacks', () => {
	const codes: { code: string; kind: 'domain.added' | 'domain.removed'; domainKind: string }[] = [
		{ code: 'CLIENTPARKADD', kind: 'domain.added', domainKind: 'parked' },
		{ code: 'CLIENTSUBADD', kind: 'domain.added', domainKind: 'subdomain' },
		{ code: 'CLIENTDOMADD', kind: 'domain.added', domainKind: 'addon' },
		{ code: 'CLIENTPARKREM', kind: 'domain.removed', domainKind: 'parked' },
		{ code: 'CLIENTSUBREM', kind: 'domain.removed', domainKind: 'subdomain' },
		{ code: 'CLIENTSUBDEL', kind: 'domain.removed', domainKind: 'subdomain' },
		{ code: 'CLIENTDOMREM', kind: 'domain.removed', domainKind: 'addon' },
		// REM and DEL are synonyms for every domain code, not only the subdomain one.
		{ code: 'CLIENTPARKDEL', kind: 'domain.removed', domainKind: 'parked' },
		{ code: 'CLIENTDOMDEL', kind: 'domain.removed', domainKind: 'addon' },
	];
	for (const { code, kind, domainKind } of codes) {
		test(`${code} with a domain in comments → ${kind} ${domainKind}, domain lower-cased`, () => {
			assert.deepEqual(parseMofh({ username: USER, status: code, comments: ' Shop.Example.COM ' }), {
				provider: 'mofh',
				kind,
				username: USER,
				code,
				domainKind,
				domain: 'shop.example.com',
			});
		});
		test(`${code} with the username in comments → no domain`, () => {
			const event = parseMofh({ username: USER, status: code, comments: USER });
			assert.deepEqual(event, { provider: 'mofh', kind, username: USER, code, domainKind });
			assert.ok(!('domain' in event));
		});
	}

	test('a lower-case domain code is recognised and reported upper-case', () => {
		const event = expectKind(
			parseMofh({ username: USER, status: 'clientsubadd', comments: 'blog.example.net' }),
			'domain.added',
		);
		assert.equal(event.code, 'CLIENTSUBADD');
		assert.equal(event.domain, 'blog.example.net');
	});

	test('comments that are not a domain (spaces, markup) are not kept as one', () => {
		const event = expectKind(
			parseMofh({ username: USER, status: 'CLIENTDOMADD', comments: '<b>not a domain</b>' }),
			'domain.added',
		);
		assert.equal(event.domain, undefined);
	});
});

describe('parseMofh: ticket callbacks', () => {
	test('ticket_status S → ticket.replied, with no username field at all', () => {
		const fields: Fields = {
			callback_type: 'ticket',
			ticket_id: '123456',
			support_reply: 'Hello,<br>we have fixed it &amp; restarted <b>PHP</b>.',
			ticket_status: 'S',
		};
		assert.equal('username' in fields, false);
		assert.deepEqual(parseMofh(fields), {
			provider: 'mofh',
			kind: 'ticket.replied',
			ticketId: '123456',
			text: 'Hello,\nwe have fixed it & restarted PHP.',
		});
	});

	test('ticket_status C → ticket.closed, <br><br> becomes a blank line', () => {
		const reply =
			'Ticket status changed to Closed at 2024-05-01, 10:22<br><br>Please do reply to this ticket if you have any further queries and we will happily assist.';
		assert.deepEqual(
			parseMofh({ callback_type: 'ticket', ticket_id: '654321', support_reply: reply, ticket_status: 'C' }),
			{
				provider: 'mofh',
				kind: 'ticket.closed',
				ticketId: '654321',
				text: 'Ticket status changed to Closed at 2024-05-01, 10:22\n\nPlease do reply to this ticket if you have any further queries and we will happily assist.',
			},
		);
	});

	test('the close text with spaces around <br> (docs/providers.md A.1 wording) reads the same', () => {
		const event = expectKind(
			parseMofh({
				callback_type: 'ticket',
				ticket_id: '654321',
				support_reply:
					'Ticket status changed to Closed at 2024-05-01,10:22 <br><br> Please do reply to this ticket if you have any further queries and we will happily assist.',
				ticket_status: 'C',
			}),
			'ticket.closed',
		);
		assert.equal(
			event.text,
			'Ticket status changed to Closed at 2024-05-01,10:22\n\nPlease do reply to this ticket if you have any further queries and we will happily assist.',
		);
		assert.doesNotMatch(event.text, /<|>/);
	});

	test('callback_type and ticket_status are case-insensitive; a username present is ignored', () => {
		const event = expectKind(
			parseMofh({ callback_type: ' Ticket ', ticket_id: '000042', ticket_status: 's', username: USER }),
			'ticket.replied',
		);
		assert.equal(event.ticketId, '000042');
		assert.equal(event.text, '');
	});

	test('an undocumented ticket_status → unrecognized, fields kept', () => {
		const fields = { callback_type: 'ticket', ticket_id: '123456', ticket_status: 'X', support_reply: 'hi' };
		const event = expectKind(parseMofh(fields), 'unrecognized');
		assert.match(event.note, /ticket_status "X"/);
		assert.match(event.note, /123456/);
		assert.deepEqual(event.fields, fields);
	});

	test('missing ticket_id → PayloadError naming ticket_id', () => {
		throwsPayload(
			() => parseMofh({ callback_type: 'ticket', ticket_status: 'S' }),
			/"ticket_id" is required/,
		);
	});

	test('non-numeric ticket_id → PayloadError naming ticket_id', () => {
		throwsPayload(
			() => parseMofh({ callback_type: 'ticket', ticket_id: '12ab56', ticket_status: 'S' }),
			/"ticket_id" must be a numeric ticket id, got "12ab56"/,
		);
	});

	test('missing ticket_status → PayloadError naming ticket_status', () => {
		throwsPayload(
			() => parseMofh({ callback_type: 'ticket', ticket_id: '123456' }),
			/"ticket_status" is required/,
		);
	});
});

describe('parseMofh: unrecognized callbacks', () => {
	test('an undocumented status → unrecognized, keeping username and every field', () => {
		const fields = { username: USER, status: 'MIGRATED', comments: 'to another server' };
		assert.deepEqual(parseMofh(fields), {
			provider: 'mofh',
			kind: 'unrecognized',
			note: 'undocumented MOFH status "MIGRATED"',
			username: USER,
			fields,
		});
	});

	test('the kept fields are a copy, not the caller object', () => {
		const fields: Fields = { username: USER, status: 'MIGRATED' };
		const event = expectKind(parseMofh(fields), 'unrecognized');
		fields.status = 'changed';
		assert.equal(event.fields.status, 'MIGRATED');
	});

	test('an unknown callback_type → unrecognized, username kept when valid', () => {
		const fields = { callback_type: 'invoice', username: USER, amount: '5' };
		assert.deepEqual(parseMofh(fields), {
			provider: 'mofh',
			kind: 'unrecognized',
			note: 'undocumented MOFH callback_type "invoice"',
			username: USER,
			fields,
		});
	});

	test('an unknown callback_type without a username carries none', () => {
		const event = expectKind(parseMofh({ callback_type: 'invoice', username: 'bad user!' }), 'unrecognized');
		assert.equal(event.username, undefined);
		assert.ok(!('username' in event));
	});

	test('an over-long callback_type → PayloadError naming callback_type', () => {
		throwsPayload(() => parseMofh({ callback_type: 'x'.repeat(65) }), /"callback_type" is too long/);
	});
});

describe('parseMofh: malformed account callbacks', () => {
	const cases: { name: string; fields: Fields; message: RegExp }[] = [
		{ name: 'missing username', fields: { status: 'ACTIVATED' }, message: /"username" is required/ },
		{
			name: 'blank username',
			fields: { username: '   ', status: 'ACTIVATED' },
			message: /"username" is required/,
		},
		{ name: 'missing status', fields: { username: USER }, message: /"status" is required/ },
		{ name: 'blank status', fields: { username: USER, status: ' ' }, message: /"status" is required/ },
		{
			name: 'username with a space',
			fields: { username: 'hname 1', status: 'ACTIVATED' },
			message: /"username" must be a vPanel username, got "hname 1"/,
		},
		{
			name: 'username with SQL',
			fields: { username: "x'; DROP TABLE accounts;--", status: 'ACTIVATED' },
			message: /"username" must be a vPanel username/,
		},
		{
			name: 'username with a mention',
			fields: { username: '@everyone', status: 'ACTIVATED' },
			message: /"username" must be a vPanel username/,
		},
		{
			name: 'username too long',
			fields: { username: `a${'b'.repeat(64)}`, status: 'ACTIVATED' },
			message: /"username" must be a vPanel username/,
		},
	];
	for (const { name, fields, message } of cases) {
		test(`${name} → PayloadError`, () => throwsPayload(() => parseMofh(fields), message));
	}

	test('the error quotes at most 64 characters of the bad value', () => {
		throwsPayload(() => parseMofh({ username: `${'x'.repeat(100)} y`, status: 'ACTIVATED' }), /"x{64}…"/);
	});
});

describe('flattenFields', () => {
	test('merges sources with later ones winning (body over query)', () => {
		const query = { username: 'from_query', status: 'ACTIVATED', extra: 'q' };
		const body = { username: USER, comments: 'GENERIC ACTIVATION' };
		assert.deepEqual(
			{ ...flattenFields(query, body) },
			{ username: USER, status: 'ACTIVATED', extra: 'q', comments: 'GENERIC ACTIVATION' },
		);
	});

	test('skips undefined and null sources', () => {
		assert.deepEqual({ ...flattenFields(undefined, { a: '1' }, null) }, { a: '1' });
		assert.deepEqual({ ...flattenFields() }, {});
	});

	test('the result has no prototype, so "constructor" is not a field', () => {
		const fields = flattenFields({ a: '1' });
		assert.equal(Object.getPrototypeOf(fields), null);
		assert.equal(fields.constructor, undefined);
	});

	test('a repeated field → PayloadError naming it', () => {
		throwsPayload(() => flattenFields({ status: ['ACTIVATED', 'DELETE'] }), /field "status" is repeated/);
	});

	test('a non-string value → PayloadError naming it', () => {
		throwsPayload(() => flattenFields({ ticket_id: 123456 }), /field "ticket_id" must be text/);
		throwsPayload(() => flattenFields({ comments: { nested: 'x' } }), /field "comments" must be text/);
		throwsPayload(() => flattenFields({ comments: null }), /field "comments" must be text/);
	});

	test('a source that is not an object → PayloadError', () => {
		throwsPayload(() => flattenFields('username=x'), /expected form fields/);
		throwsPayload(() => flattenFields(['a']), /expected form fields/);
	});

	test('32 fields pass, 33 → PayloadError', () => {
		const many = (count: number) =>
			Object.fromEntries(Array.from({ length: count }, (_, i) => [`f${i}`, 'v']));
		assert.equal(Object.keys(flattenFields(many(32))).length, 32);
		throwsPayload(() => flattenFields(many(33)), /more than 32 fields/);
	});

	test('fields are counted after merging sources', () => {
		const a = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`a${i}`, 'v']));
		const b = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`b${i}`, 'v']));
		throwsPayload(() => flattenFields(a, b), /more than 32 fields/);
	});

	test(`a value of ${MAX_FIELD_LENGTH} characters passes, one more → PayloadError naming it`, () => {
		assert.equal(
			flattenFields({ support_reply: 'x'.repeat(MAX_FIELD_LENGTH) }).support_reply?.length,
			MAX_FIELD_LENGTH,
		);
		throwsPayload(
			() => flattenFields({ support_reply: 'x'.repeat(MAX_FIELD_LENGTH + 1) }),
			new RegExp(`field "support_reply" is longer than ${MAX_FIELD_LENGTH} characters`),
		);
	});

	test('a huge field name is clipped in the error message', () => {
		const name = 'n'.repeat(500);
		assert.throws(
			() => flattenFields({ [name]: 1 }),
			(error: unknown) =>
				error instanceof PayloadError && error.message.includes('…') && !error.message.includes(name),
		);
	});
});

describe('htmlToText', () => {
	const cases: { name: string; html: string; text: string }[] = [
		{ name: 'plain text is unchanged', html: 'All good now.', text: 'All good now.' },
		{ name: '<br> variants become line breaks', html: 'a<br>b<BR/>c<br />d', text: 'a\nb\nc\nd' },
		{ name: '<br><br> becomes a blank line', html: 'one<br><br>two', text: 'one\n\ntwo' },
		{ name: 'runs of blank lines are squeezed', html: 'one<br><br><br><br>two', text: 'one\n\ntwo' },
		{
			name: 'block ends become line breaks',
			html: '<p>first</p><p>second</p><div>third</div>',
			text: 'first\nsecond\nthird',
		},
		{
			name: 'other tags are dropped',
			html: 'see <a href="https://x.test">here</a> <b>now</b>',
			text: 'see here now',
		},
		{
			name: 'named entities are decoded',
			html: '&lt;b&gt; &amp; &quot;q&quot; &apos;s&apos;',
			text: '<b> & "q" \'s\'',
		},
		{ name: 'numeric entities are decoded', html: '&#65;&#x42;&#X43; &#128512;', text: 'ABC 😀' },
		{ name: 'decoding happens once only', html: '&amp;lt;script&amp;gt;', text: '&lt;script&gt;' },
		{
			name: 'unknown and invalid entities stay as written',
			html: '&bogus; &#0; &#x110000;',
			text: '&bogus; &#0; &#x110000;',
		},
		{
			name: 'entity names that are object properties stay as written',
			html: 'a &constructor; b',
			text: 'a &constructor; b',
		},
		{
			name: 'CRLF becomes LF and lines are trimmed',
			html: '  one  \r\n  two\r three ',
			text: 'one\ntwo\nthree',
		},
		{ name: 'empty input', html: '', text: '' },
		{ name: 'only markup', html: '<br><br><p></p>', text: '' },
	];
	for (const { name, html, text } of cases) {
		test(name, () => assert.equal(htmlToText(html), text));
	}
});
