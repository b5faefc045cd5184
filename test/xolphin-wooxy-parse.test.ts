/**
 * Xolphin webhook parameters (docs/providers.md B.1) and Wooxy webhook bodies
 * (docs/providers.md C.1).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Fields } from '../src/providers/fields.js';
import { parseWooxy } from '../src/providers/wooxy/parse.js';
import { parseXolphin } from '../src/providers/xolphin/parse.js';
import { WOOXY_EVENTS } from '../src/vocabulary/wooxy.js';
import { XOLPHIN_STATES } from '../src/vocabulary/xolphin.js';
import { DOCUMENTED_EVENTS } from './doubles/wooxy.js';
import { expectKind, throwsPayload, WOOXY_EXAMPLE } from './helpers.js';

describe('parseXolphin: Status', () => {
	test('Issued → cert.issued', () => {
		assert.deepEqual(parseXolphin({ RequestId: '123456', Status: 'Issued' }), {
			provider: 'xolphin',
			kind: 'cert.issued',
			requestId: '123456',
		});
	});

	test('Deleted → cert.deleted', () => {
		assert.deepEqual(parseXolphin({ RequestId: '99', Status: 'Deleted' }), {
			provider: 'xolphin',
			kind: 'cert.deleted',
			requestId: '99',
		});
	});

	test('Updated without State → cert.updated with no state', () => {
		const event = parseXolphin({ RequestId: '123456', Status: 'Updated' });
		assert.deepEqual(event, { provider: 'xolphin', kind: 'cert.updated', requestId: '123456' });
		assert.ok(!('state' in event));
	});

	test('Updated with a blank State → no state', () => {
		const event = expectKind(
			parseXolphin({ RequestId: '1', Status: 'Updated', State: '   ' }),
			'cert.updated',
		);
		assert.equal(event.state, undefined);
	});

	test('Status is case-insensitive and RequestId trimmed', () => {
		assert.equal(parseXolphin({ RequestId: ' 7 ', Status: 'ISSUED' }).kind, 'cert.issued');
		assert.equal(parseXolphin({ RequestId: '7', Status: 'deleted' }).kind, 'cert.deleted');
		assert.equal(
			expectKind(parseXolphin({ RequestId: ' 7 ', Status: 'updated' }), 'cert.updated').requestId,
			'7',
		);
	});

	test('State and Domain are ignored on Issued', () => {
		assert.deepEqual(
			parseXolphin({ RequestId: '5', Status: 'Issued', State: 'DCV', Domain: 'example.com' }),
			{
				provider: 'xolphin',
				kind: 'cert.issued',
				requestId: '5',
			},
		);
	});

	test('an undocumented Status → unrecognized, fields kept', () => {
		const fields = { RequestId: '123456', Status: 'Revoked', State: 'X' };
		assert.deepEqual(parseXolphin(fields), {
			provider: 'xolphin',
			kind: 'unrecognized',
			note: 'undocumented Xolphin Status "Revoked" for request 123456',
			fields,
		});
	});
});

describe('parseXolphin: every documented State', () => {
	const documented = [
		'PhonecallDelayed',
		'Phone',
		'Organization',
		'CSR',
		'Message',
		'DCV',
		'Whois',
		'ReadyForReissue',
	] as const;

	test('the vocabulary lists exactly the eight documented states', () => {
		assert.deepEqual([...XOLPHIN_STATES].sort(), [...documented].sort());
	});

	for (const state of documented) {
		const spellings = [state, state.toLowerCase(), state.toUpperCase(), ` ${state} `];
		for (const spelling of spellings) {
			test(`State ${JSON.stringify(spelling)} → ${state}`, () => {
				assert.deepEqual(parseXolphin({ RequestId: '42', Status: 'Updated', State: spelling }), {
					provider: 'xolphin',
					kind: 'cert.updated',
					requestId: '42',
					state,
				});
			});
		}
	}

	test('DCV with Domain keeps the domain, lower-cased', () => {
		assert.deepEqual(
			parseXolphin({ RequestId: '42', Status: 'Updated', State: 'DCV', Domain: ' WWW.Example.COM ' }),
			{ provider: 'xolphin', kind: 'cert.updated', requestId: '42', state: 'DCV', domain: 'www.example.com' },
		);
	});

	test('DCV with a wildcard domain is accepted', () => {
		const event = expectKind(
			parseXolphin({ RequestId: '42', Status: 'Updated', State: 'dcv', Domain: '*.example.org' }),
			'cert.updated',
		);
		assert.equal(event.state, 'DCV');
		assert.equal(event.domain, '*.example.org');
	});

	test('an undocumented State is kept as given (trimmed)', () => {
		assert.deepEqual(parseXolphin({ RequestId: '42', Status: 'Updated', State: ' BrandValidation ' }), {
			provider: 'xolphin',
			kind: 'cert.updated',
			requestId: '42',
			state: 'BrandValidation',
		});
	});

	test('a State of 64 characters is kept, 65 → PayloadError', () => {
		const event = expectKind(
			parseXolphin({ RequestId: '1', Status: 'Updated', State: 's'.repeat(64) }),
			'cert.updated',
		);
		assert.equal(event.state, 's'.repeat(64));
		throwsPayload(
			() => parseXolphin({ RequestId: '1', Status: 'Updated', State: 's'.repeat(65) }),
			/"State" is too long/,
		);
	});
});

describe('parseXolphin: malformed webhooks', () => {
	const cases: { name: string; fields: Fields; message: RegExp }[] = [
		{ name: 'missing RequestId', fields: { Status: 'Issued' }, message: /"RequestId" is required/ },
		{
			name: 'blank RequestId',
			fields: { RequestId: ' ', Status: 'Issued' },
			message: /"RequestId" is required/,
		},
		{
			name: 'non-numeric RequestId',
			fields: { RequestId: 'abc', Status: 'Issued' },
			message: /"RequestId" must be a numeric Xolphin request id, got "abc"/,
		},
		{
			name: 'negative RequestId',
			fields: { RequestId: '-5', Status: 'Issued' },
			message: /"RequestId" must be a numeric Xolphin request id/,
		},
		{
			name: 'RequestId with 19 digits',
			fields: { RequestId: '1'.repeat(19), Status: 'Issued' },
			message: /"RequestId" must be a numeric Xolphin request id/,
		},
		{ name: 'missing Status', fields: { RequestId: '1' }, message: /"Status" is required/ },
		{
			name: 'a bad Domain',
			fields: { RequestId: '1', Status: 'Updated', State: 'DCV', Domain: 'not a domain' },
			message: /"Domain" must be a domain name/,
		},
		{
			name: 'a Domain with markup',
			fields: { RequestId: '1', Status: 'Updated', State: 'DCV', Domain: '<script>.com' },
			message: /"Domain" must be a domain name/,
		},
		{
			name: 'a Domain without a dot',
			fields: { RequestId: '1', Status: 'Updated', State: 'DCV', Domain: 'localhost' },
			message: /"Domain" must be a domain name/,
		},
	];
	for (const { name, fields, message } of cases) {
		test(`${name} → PayloadError`, () => throwsPayload(() => parseXolphin(fields), message));
	}
});

describe('parseWooxy: the documented body', () => {
	const example = WOOXY_EXAMPLE;

	test('the documented example → email.event with every fact', () => {
		assert.deepEqual(parseWooxy(example), {
			provider: 'wooxy',
			kind: 'email.event',
			event: 'read',
			email: 'user@example.com',
			messageId: '5537ab2a08d241dc69326b19',
			userId: 'myUserId-1',
			occurredAt: 1_234_567_890_000,
			headers: { 'X-Additional-Header': 'additional-header-value' },
		});
	});

	test('the same body parsed from its JSON text', () => {
		assert.deepEqual(parseWooxy(JSON.parse(JSON.stringify(example))), parseWooxy(example));
	});

	test('only event is required; headers default to an empty object', () => {
		assert.deepEqual(parseWooxy({ event: 'hard' }), {
			provider: 'wooxy',
			kind: 'email.event',
			event: 'hard',
			headers: {},
		});
		assert.deepEqual(expectKind(parseWooxy({ event: 'hard', headers: null }), 'email.event').headers, {});
	});

	test('numeric id and userId are coerced to strings', () => {
		const event = expectKind(parseWooxy({ event: 'click', id: 12345, userId: 0 }), 'email.event');
		assert.equal(event.messageId, '12345');
		assert.equal(event.userId, '0');
	});

	test('empty id and email are left out', () => {
		const event = parseWooxy({ event: 'click', id: '', userId: '', email: '' });
		assert.ok(!('messageId' in event));
		assert.ok(!('userId' in event));
		assert.ok(!('email' in event));
	});

	test('datetime as a numeric string, with or without a fraction', () => {
		assert.equal(
			expectKind(parseWooxy({ event: 'read', datetime: '1700000000' }), 'email.event').occurredAt,
			1_700_000_000_000,
		);
		assert.equal(
			expectKind(parseWooxy({ event: 'read', datetime: '1700000000.25' }), 'email.event').occurredAt,
			1_700_000_000_250,
		);
		assert.equal(expectKind(parseWooxy({ event: 'read', datetime: 0 }), 'email.event').occurredAt, 0);
	});

	test('numeric and boolean header values become strings', () => {
		const event = expectKind(
			parseWooxy({ event: 'read', headers: { 'X-Count': 3, 'X-Flag': true } }),
			'email.event',
		);
		assert.deepEqual(event.headers, { 'X-Count': '3', 'X-Flag': 'true' });
	});

	test('unknown body keys are dropped, and fields are trimmed', () => {
		const event = parseWooxy({ event: ' read ', email: ' a@b.test ', extra: 'x' });
		assert.deepEqual(event, {
			provider: 'wooxy',
			kind: 'email.event',
			event: 'read',
			email: 'a@b.test',
			headers: {},
		});
	});
});

describe('parseWooxy: event names', () => {
	// The names as Wooxy documents them: the double's own copy, never hookcord's table.
	const documented = DOCUMENTED_EVENTS;

	test('every documented event name has a meaning', () => {
		assert.deepEqual(Object.keys(WOOXY_EVENTS).sort(), [...documented].sort());
	});

	for (const name of documented) {
		test(`"${name}" is accepted`, () => {
			assert.equal(expectKind(parseWooxy({ event: name, email: 'a@b.test' }), 'email.event').event, name);
		});
	}

	for (const name of ['contact-activated', 'Contact deactivated', 'constructor', 'toString']) {
		test(`an unknown event name "${name}" is accepted as it is`, () => {
			assert.equal(expectKind(parseWooxy({ event: name }), 'email.event').event, name);
		});
	}
});

describe('parseWooxy: malformed bodies', () => {
	const cases: { name: string; body: unknown; message: RegExp }[] = [
		{ name: 'an array', body: [{ event: 'read' }], message: /expected a JSON object/ },
		{ name: 'a string', body: '{"event":"read"}', message: /expected a JSON object/ },
		{ name: 'null', body: null, message: /expected a JSON object/ },
		{ name: 'undefined', body: undefined, message: /expected a JSON object/ },
		{ name: 'a number', body: 5, message: /expected a JSON object/ },
		{ name: 'missing event', body: { email: 'a@b.test' }, message: /^event: / },
		{ name: 'blank event', body: { event: '   ' }, message: /^event: / },
		{ name: 'numeric event', body: { event: 5 }, message: /^event: / },
		{ name: 'event over 100 characters', body: { event: 'e'.repeat(101) }, message: /^event: / },
		{
			name: 'email over 320 characters',
			body: { event: 'read', email: 'e'.repeat(321) },
			message: /^email: /,
		},
		{ name: 'id over 200 characters', body: { event: 'read', id: 'i'.repeat(201) }, message: /^id: / },
		{
			name: 'userId over 200 characters',
			body: { event: 'read', userId: 'u'.repeat(201) },
			message: /^userId: /,
		},
		{ name: 'headers as a string', body: { event: 'read', headers: 'X-A: b' }, message: /^headers: / },
		{ name: 'headers as an array', body: { event: 'read', headers: ['X-A'] }, message: /^headers: / },
		{
			name: 'a nested header value',
			body: { event: 'read', headers: { 'X-A': { b: 1 } } },
			message: /^headers\.X-A: /,
		},
		{
			name: 'too many headers (51)',
			body: {
				event: 'read',
				headers: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`X-H${i}`, 'v'])),
			},
			message: /^headers: at most 50 headers/,
		},
		{
			name: 'a header value over 2000 characters',
			body: { event: 'read', headers: { 'X-Long': 'v'.repeat(2001) } },
			message: /^headers\.X-Long: /,
		},
		{
			name: 'a header name over 200 characters',
			body: { event: 'read', headers: { ['n'.repeat(201)]: 'v' } },
			message: /^headers/,
		},
		{ name: 'a negative datetime', body: { event: 'read', datetime: -1 }, message: /^datetime: / },
		{
			name: 'a non-numeric datetime',
			body: { event: 'read', datetime: 'yesterday' },
			message: /^datetime: /,
		},
		{
			name: 'a datetime past any real date',
			body: { event: 'read', datetime: 1e20 },
			message: /^datetime: /,
		},
	];
	for (const { name, body, message } of cases) {
		test(`${name} → PayloadError`, () => throwsPayload(() => parseWooxy(body), message));
	}

	test('50 headers are accepted', () => {
		const headers = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`X-H${i}`, 'v']));
		assert.equal(
			Object.keys(expectKind(parseWooxy({ event: 'read', headers }), 'email.event').headers).length,
			50,
		);
	});

	test('every accepted datetime is a date JavaScript can print', () => {
		for (const datetime of [0, 1234567890, '999999999999', '999999999999.999', 999_999_999_999]) {
			const event = expectKind(parseWooxy({ event: 'read', datetime }), 'email.event');
			assert.ok(event.occurredAt !== undefined);
			assert.doesNotThrow(() => new Date(event.occurredAt ?? 0).toISOString(), `datetime ${datetime}`);
		}
	});
});
