import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { test } from 'node:test';
import {
	type APIInteraction,
	ApplicationCommandType,
	InteractionResponseType,
	InteractionType,
	MessageFlags,
} from 'discord-api-types/v10';
import type { InjectOptions } from 'fastify';
import type { Event } from '../src/events/event.js';
import type { OutboxEntry } from '../src/state/outbox.js';
import { buildTestApp, multipart, SECRET } from './helpers.js';
import { idle } from './poll.js';

/**
 * A generated bad-input suite: thousands of malformed and hostile requests to the three receivers and to
 * `POST /interactions`, with valid callbacks interleaved at random. Whatever arrives, the app answers 2xx or
 * a 4xx `{error}`, never 5xx, never pollutes `Object.prototype`, and alerts exactly the events it accepted.
 * Reproduce a failure with `BAD_INPUT_SEED=<seed> npx tsx --test test/bad-input.test.ts`.
 */

// A fixed seed keeps `npm test` deterministic; BAD_INPUT_SEED explores others (`random` for a fresh one).
const SEED =
	process.env.BAD_INPUT_SEED === 'random'
		? Math.floor(Math.random() * 2 ** 32) >>> 0
		: Number(process.env.BAD_INPUT_SEED ?? 20261122) >>> 0;
const INPUTS = 3200;
/** Valid callbacks among the inputs. */
const VALID_SHARE = 0.25;

function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const random = mulberry32(SEED);
const int = (n: number) => Math.floor(random() * n);
const chance = (p: number) => random() < p;
const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
/** Calls one of the given generators: lazily, so a body exists only while its request runs. */
const oneOf = <T>(...makers: (() => T)[]): T => pick(makers)();

type Receiver = 'mofh' | 'xolphin' | 'wooxy' | 'interactions';
/**
 * `valid`: a callback that must be answered 200 and alerted once (not a duplicate); a number: that exact
 * status; `4xx`: any client error; `any`: 2xx or 4xx, both legitimate (an odd but well-formed input, or one
 * whose fate depends on where it was cut); `duplicate`: a replay, answered 200 and collapsed into the
 * original.
 */
type Expect = 'valid' | number | '4xx' | 'any' | 'duplicate';

interface Case {
	receiver: Receiver;
	kind: string;
	expect: Expect;
	request: InjectOptions;
	/** A signed interaction that must reach the dispatcher. */
	dispatched?: boolean;
	/** For a replay: the id of the event the original request stored. */
	replayOf?: string;
}

type Entries = [string, string][];

const HOOK = {
	mofh: `/hooks/mofh/${SECRET}`,
	xolphin: `/hooks/xolphin/${SECRET}`,
	wooxy: `/hooks/wooxy/${SECRET}`,
};
const URLENCODED = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const NOT_FOUND_BODY = JSON.stringify({ error: 'not found' });

/** Text that must be carried safely: markup, Discord markdown and mentions, control characters, odd Unicode. */
const HOSTILE = [
	'<script>alert(1)</script>',
	'<img src=x onerror=alert(1)>',
	'@everyone',
	'@here ping',
	'<@&123456789012345678>',
	'<@123456789012345678> <#123456789012345678>',
	'**bold** __under__ ~~strike~~ ||spoiler||',
	'```js\nprocess.exit()\n```',
	'[click](https://evil.example/) `code`',
	'> quote\n# heading',
	'nul\u0000byte',
	'bell\u0007esc\u001b[31mred\u001b[0m',
	'tab\there\r\nnewline',
	'\u202eevil\u202c rtl',
	'zero\u200bwidth\ufeff',
	'emoji 🎉🔥 ä ö ü 中文',
	'\u0024{process.exit(1)}',
	"'; DROP TABLE accounts; --",
	'{{constructor.constructor("return 1")()}}',
	'%s %n %x',
	'&lt;b&gt; &#0; &#x110000; &amp;',
	'../../etc/passwd',
];
const hostile = () => (chance(0.3) ? `${pick(HOSTILE)} ${pick(HOSTILE)}` : pick(HOSTILE));

/** Names that must never reach an object's prototype. */
const PROTO_NAMES = ['__proto__', 'constructor', 'prototype'];
const NESTED_PROTO_NAMES = [
	'__proto__[polluted]',
	'constructor[prototype][polluted]',
	'a[__proto__][polluted]',
	'__proto__.polluted',
	'constructor.prototype.polluted',
];
/** Percent-encoding that does not decode. */
const PERCENT_GARBAGE = ['%ZZ', '%', '%G1', '%E0%A4%A', '%%41', '%u0041', '%FF%FE', '%C0%AF', '%ED%A0%80'];

/** A different big size each time; 1 MB only a handful of times. */
let megabytesLeft = 6;
function bigSize(): number {
	if (megabytesLeft > 0 && chance(0.05)) {
		megabytesLeft--;
		return 1024 * 1024;
	}
	return 100 * 1024 + int(1024);
}

/** Fields in order; a record when no name repeats. */
type Fields = Entries | Record<string, string>;
const entriesOf = (fields: Fields): Entries => (Array.isArray(fields) ? fields : Object.entries(fields));

function form(fields: Fields): string {
	return new URLSearchParams(entriesOf(fields)).toString();
}

function post(url: string, contentType: string | undefined, payload: string | Buffer): InjectOptions {
	return { method: 'POST', url, headers: contentType ? { 'content-type': contentType } : {}, payload };
}

/** A multipart body with a random boundary; `file` adds a PHP upload among the fields. */
function multipartOf(
	fields: Fields,
	options: { file?: boolean } = {},
): { payload: string; contentType: string } {
	const entries = entriesOf(fields);
	const { body, contentType } = multipart(entries, {
		boundary: `hookcord${int(1e9)}`,
		...(options.file && {
			file: {
				name: 'upload',
				filename: 'a.php',
				content: "<?php system($_GET['c']); ?>",
				at: int(entries.length + 1),
			},
		}),
	});
	return { payload: body, contentType };
}

type Transport = 'urlencoded' | 'multipart' | 'query';
const transport = (): Transport => pick(['urlencoded', 'multipart', 'query'] as const);

/** MOFH fields sent as MOFH may send them. */
function mofhRequest(fields: Fields, how: Transport, url = HOOK.mofh): InjectOptions {
	if (how === 'query') return { method: 'POST', url: `${url}?${form(fields)}` };
	if (how === 'multipart') {
		const { payload, contentType } = multipartOf(fields);
		return post(url, contentType, payload);
	}
	return post(url, URLENCODED, form(fields));
}

/** Wrong secrets: each must answer byte for byte like an unknown path. */
function wrongSecret(): string {
	return pick([
		'',
		'x',
		SECRET.toUpperCase(),
		`${SECRET}x`,
		SECRET.slice(0, -1),
		`${SECRET}/`,
		`${SECRET}/extra`,
		`/${SECRET}`,
		`${SECRET.slice(0, 8)}${'0'.repeat(SECRET.length - 8)}`,
		'a'.repeat(129 + int(5000)),
		encodeURIComponent('<script>'),
		'..%2F..%2Fetc%2Fpasswd',
		'%00',
		`${SECRET}%00`,
		'__proto__',
		'constructor',
	]);
}

// ─── MOFH ────────────────────────────────────────────────────────────────────────────────────────────

function validMofhFields(n: number): Fields {
	const username = `ok${n}x${int(1e6)}`;
	const suspension = ['AUTO_IDLE', 'ADMIN_CLOSE : DAILY_HIT', 'RES_CLOSE', 'ADMIN_CLOSE : PHISHING', 'X'];
	return oneOf<Fields>(
		() => ({ username, status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' }),
		() => ({ username, status: 'SUSPENDED', comments: pick(suspension) }),
		() => ({ username, status: pick(['REACTIVATE', 'DELETE']) }),
		() => ({ username, status: `sql${100 + int(300)}`, comments: 'SQL_SERVER' }),
		() => ({
			username,
			status: pick(['CLIENTDOMADD', 'CLIENTSUBDEL', 'CLIENTPARKADD']),
			comments: `d${n}.example.com`,
		}),
		() => ({
			callback_type: 'ticket',
			ticket_id: `1${String(n).padStart(6, '0')}`,
			ticket_status: pick(['S', 'C', 's']),
			support_reply: chance(0.5) ? 'Hello<br>there' : hostile(),
		}),
		// Well-formed but undocumented: accepted and alerted as unrecognized.
		() => ({ username, status: pick(['MIGRATED', hostile()]), comments: hostile() }),
		() => ({ callback_type: 'invoice', username, amount: hostile() }),
	);
}

function validMofh(n: number): Case {
	const how = transport();
	return {
		receiver: 'mofh',
		kind: `valid ${how}`,
		expect: 'valid',
		request: mofhRequest(validMofhFields(n), how),
	};
}

function badMofh(n: number): Case {
	const username = `j${n}x${int(1e6)}`;
	const base = (): Entries => [
		['username', username],
		['status', 'ACTIVATED'],
	];
	const how = transport();
	const mofh = (kind: string, expect: Expect, request: InjectOptions): Case => ({
		receiver: 'mofh',
		kind,
		expect,
		request,
	});
	const fields = (kind: string, expect: Expect, fields: Fields) =>
		mofh(kind, expect, mofhRequest(fields, how));
	return oneOf<Case>(
		() => fields('missing username', 400, { status: 'ACTIVATED' }),
		() => fields('missing status', 400, { username }),
		() => fields('ticket without ticket_id', 400, { callback_type: 'ticket', ticket_status: 'S' }),
		() => fields('no fields at all', 400, {}),
		() => fields('repeated field', 400, [...base(), [pick(['username', 'status']), 'DELETE']]),
		() => fields('empty username', 400, { username: pick(['', ' ', '\t']), status: 'ACTIVATED' }),
		() => fields('blank status', 400, { username, status: pick(['', '   ']) }),
		() =>
			fields('hostile username', 400, {
				username: `${pick(['', username])}${pick(HOSTILE)}`,
				status: 'ACTIVATED',
			}),
		() =>
			fields('username too long', 400, { username: `u${'x'.repeat(64 + int(1000))}`, status: 'ACTIVATED' }),
		() => {
			const ticketId = pick(['-1', '1.5', 'abc', '1'.repeat(13), '<b>1</b>', '0x10']);
			return fields('bad ticket id', 400, {
				callback_type: 'ticket',
				ticket_id: ticketId,
				ticket_status: 'S',
			});
		},
		() => fields('callback_type too long', 400, { callback_type: 'x'.repeat(65 + int(500)), username }),
		// Odd but well-formed: accepted and alerted.
		() => fields('hostile status', 'valid', { username, status: hostile() }),
		() =>
			fields('hostile suspension comments', 'valid', { username, status: 'SUSPENDED', comments: hostile() }),
		() => {
			// Plain data in a form (README), except that the multipart plugin refuses names on Object.prototype.
			const name = pick(PROTO_NAMES);
			return fields('prototype name', how === 'multipart' && name in Object.prototype ? 400 : 'valid', [
				...base(),
				[name, 'x'],
			]);
		},
		() => fields('nested prototype name', 'valid', [...base(), [pick(NESTED_PROTO_NAMES), '1']]),
		() => {
			const entries = base();
			const count = 33 + int(chance(0.2) ? 4000 : 200);
			for (let i = 0; i < count; i++) entries.push([`f${i}`, String(i)]);
			// Over 32 fields is refused (400); multipart stops at its parts limit (413), a big body at 64 KiB.
			return fields(
				`over 32 fields`,
				how === 'query' || (how === 'urlencoded' && count < 3000) ? 400 : '4xx',
				entries,
			);
		},
		() => fields('long field name', 'valid', [...base(), [`n${'x'.repeat(100 + int(10_000))}`, 'v']]),
		() => fields('field over 32 KiB', 400, [...base(), ['comments', 'c'.repeat(32_769 + int(20_000))]]),
		// The body limit answers 413; in the query string the field limit answers 400.
		() => fields('huge value', how === 'query' ? 400 : 413, [...base(), ['comments', 'c'.repeat(bigSize())]]),
		() => {
			const bytes = Buffer.from([0xff, 0xfe, 0x00, 0xc0, 0x80, 0xed, 0xa0, 0x80]);
			const payload = Buffer.concat([Buffer.from(`${form(base())}&comments=`), bytes]);
			return mofh('non-UTF-8 bytes in a value', 'valid', post(HOOK.mofh, URLENCODED, payload));
		},
		() => {
			const payload = Buffer.concat([
				Buffer.from('username=a'),
				Buffer.from([0xff, 0xfe]),
				Buffer.from('&status=ACTIVATED'),
			]);
			return mofh('non-UTF-8 bytes in the username', 400, post(HOOK.mofh, URLENCODED, payload));
		},
		() => {
			const query = pick([
				`username=${username}&status=${pick(PERCENT_GARBAGE)}`,
				`username=${username}${pick(PERCENT_GARBAGE)}&status=ACTIVATED`,
				`${form(base())}&${pick(PERCENT_GARBAGE)}=${pick(PERCENT_GARBAGE)}`,
			]);
			return mofh(
				'percent garbage',
				'any',
				chance(0.5) ? post(`${HOOK.mofh}?${query}`, undefined, '') : post(HOOK.mofh, URLENCODED, query),
			);
		},
		() =>
			mofh(
				'malformed URL',
				400,
				post(`${HOOK.mofh}${pick(['%ZZ', '%', '%E0%A4%A'])}`, URLENCODED, form(base())),
			),
		() => mofh('text/plain', 415, post(HOOK.mofh, 'text/plain', form(base()))),
		() => {
			const type = pick(['application/xml', 'application/octet-stream', 'image/png', 'x/y']);
			return mofh('unsupported content type', 415, post(HOOK.mofh, type, `<x>${form(base())}</x>`));
		},
		() => mofh('no content type', 415, post(HOOK.mofh, undefined, Buffer.from(form(base())))),
		() => {
			const { payload, contentType } = multipartOf(base(), { file: true });
			return mofh('multipart with a file part', 400, post(HOOK.mofh, contentType, payload));
		},
		() => {
			const type = pick([
				'multipart/form-data',
				'multipart/form-data; boundary=',
				'multipart/form-data; boundary=nothere',
				`multipart/form-data; boundary=${'b'.repeat(300)}`,
			]);
			return mofh('multipart with a bogus boundary', 400, post(HOOK.mofh, type, multipartOf(base()).payload));
		},
		() => {
			const { payload, contentType } = multipartOf(base());
			const cut = payload.slice(0, 1 + int(payload.length - 8));
			return mofh('truncated multipart', 400, post(HOOK.mofh, contentType, cut));
		},
		() => {
			const payload = form([...base(), ['comments', hostile()]]);
			return mofh(
				'truncated urlencoded',
				'any',
				post(HOOK.mofh, URLENCODED, payload.slice(0, int(payload.length))),
			);
		},
		() => {
			const payload = form(base());
			const length = chance(0.5) ? payload.length + 1 + int(100) : int(payload.length);
			const request = post(HOOK.mofh, URLENCODED, payload);
			return mofh('wrong content-length', 400, {
				...request,
				headers: { ...request.headers, 'content-length': `${length}` },
			});
		},
		() => {
			const wrong = pick([123, null, true, false, [], ['a', 'b'], { a: 1 }, 1.5]);
			const body = { username, status: 'ACTIVATED', [pick(['username', 'status', 'comments'])]: wrong };
			return mofh('JSON with a wrong type', 415, post(HOOK.mofh, JSON_TYPE, JSON.stringify(body)));
		},
		() => {
			const body = pick(['null', 'true', '5', '"username=a&status=ACTIVATED"', '[]', '[{"username":"a"}]']);
			return mofh('JSON that is not an object', 415, post(HOOK.mofh, JSON_TYPE, body));
		},
		() => {
			const member = pick([
				'"__proto__":{"polluted":"yes"}',
				'"constructor":{"prototype":{"polluted":"yes"}}',
			]);
			const body = `{"username":"${username}","status":"ACTIVATED",${member}}`;
			return mofh('JSON with a prototype key', 415, post(HOOK.mofh, JSON_TYPE, body));
		},
		// MOFH posts form fields; a JSON body, even a well-formed one, is a content type the route refuses.
		() =>
			mofh(
				'JSON object of strings',
				415,
				post(HOOK.mofh, JSON_TYPE, JSON.stringify(Object.fromEntries(base()))),
			),
		() => {
			const method = pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const);
			return mofh('wrong method', 404, { method, url: `${HOOK.mofh}?${form(base())}` });
		},
		() => mofh('wrong secret', 404, mofhRequest(base(), how, `/hooks/mofh/${wrongSecret()}`)),
		() =>
			mofh(
				'no secret',
				404,
				mofhRequest(base(), how, pick(['/hooks/mofh', '/hooks/mofh/', '/hooks/', '/hooks/mofh//'])),
			),
		() =>
			mofh(
				'over-long URL',
				400,
				post(`${HOOK.mofh}?${form(base())}&pad=${'p'.repeat(bigSize())}`, undefined, ''),
			),
		() => {
			// Body fields win over the query's; a field in both sources is not a repeated field.
			const request = mofhRequest({ status: 'ACTIVATED' }, how === 'query' ? 'urlencoded' : how);
			return mofh('fields split over query and body', 'valid', {
				...request,
				url: `${request.url}?username=${username}`,
			});
		},
	);
}

// ─── Xolphin ─────────────────────────────────────────────────────────────────────────────────────────

function xolphinRequest(
	fields: Fields,
	method = pick(['GET', 'POST'] as const),
	url = HOOK.xolphin,
): InjectOptions {
	return method === 'GET' ? { method, url: `${url}?${form(fields)}` } : post(url, URLENCODED, form(fields));
}

function validXolphin(n: number): Case {
	const RequestId = `1${String(n).padStart(6, '0')}`;
	const fields = oneOf<Fields>(
		() => ({ RequestId, Status: pick(['Issued', 'issued', 'Deleted']) }),
		() => ({
			RequestId,
			Status: 'Updated',
			State: pick(['DCV', 'dcv', 'Organization', 'Phone', 'SomethingNew']),
			Domain: pick([`d${n}.example.com`, `*.d${n}.example.com`, `D${n}.Example.COM`]),
		}),
		() => ({ RequestId, Status: 'Updated' }),
		// Undocumented Status: accepted as unrecognized.
		() => ({ RequestId, Status: pick(['Pending', hostile()]) }),
	);
	return { receiver: 'xolphin', kind: 'valid', expect: 'valid', request: xolphinRequest(fields) };
}

function badXolphin(n: number): Case {
	const RequestId = `2${String(n).padStart(6, '0')}`;
	const base = (): Entries => [
		['RequestId', RequestId],
		['Status', 'Issued'],
	];
	const xolphin = (kind: string, expect: Expect, request: InjectOptions): Case => ({
		receiver: 'xolphin',
		kind,
		expect,
		request,
	});
	const fields = (kind: string, expect: Expect, fields: Fields) =>
		xolphin(kind, expect, xolphinRequest(fields));
	const badIds = ['abc', '-1', '1.5', '1e5', '1'.repeat(19), ' ', '<b>1</b>', '@everyone', '1\u00002'];
	const badDomains = ['not a domain', '<b>x</b>.com', `${'a'.repeat(300)}.com`, '@everyone', 'x', '..'];
	return oneOf<Case>(
		() => fields('missing RequestId', 400, { Status: 'Issued' }),
		() => fields('missing Status', 400, { RequestId }),
		() => fields('no fields at all', 400, {}),
		() => fields('bad RequestId', 400, { RequestId: pick(badIds), Status: 'Issued' }),
		() => fields('repeated field', 400, [...base(), [pick(['RequestId', 'Status']), 'Deleted']]),
		() => fields('bad Domain', 400, { RequestId, Status: 'Updated', Domain: pick(badDomains) }),
		() => fields('State too long', 400, { RequestId, Status: 'Updated', State: 's'.repeat(65 + int(1000)) }),
		() => fields('hostile State', 'valid', { RequestId, Status: 'Updated', State: pick(HOSTILE) }),
		// Plain data in a form (README).
		() => fields('prototype name', 'valid', [...base(), [pick(PROTO_NAMES), 'x']]),
		() => fields('nested prototype name', 'valid', [...base(), [pick(NESTED_PROTO_NAMES), '1']]),
		() => {
			const entries = base();
			for (let i = 0, count = 33 + int(chance(0.2) ? 4000 : 200); i < count; i++)
				entries.push([`p${i}`, '1']);
			// Over 32 fields is refused (400); in a POST the 16 KiB body limit may come first (413).
			return fields('over 32 fields', '4xx', entries);
		},
		() => {
			const request = xolphinRequest([...base(), ['x', 'v'.repeat(32_769 + int(20_000))]], 'GET');
			return xolphin('field over 32 KiB in the query', 400, request);
		},
		() =>
			xolphin(
				'body over 16 KiB',
				413,
				xolphinRequest([...base(), ['x', 'v'.repeat(16_400 + int(30_000))]], 'POST'),
			),
		() => xolphin('huge body', 413, xolphinRequest([...base(), ['x', 'v'.repeat(bigSize())]], 'POST')),
		() => xolphin('over-long URL', 400, xolphinRequest([...base(), ['x', 'v'.repeat(bigSize())]], 'GET')),
		() => {
			const query = `RequestId=${RequestId}&Status=${pick(PERCENT_GARBAGE)}&${pick(PERCENT_GARBAGE)}`;
			return xolphin('percent garbage', 'any', { method: 'GET', url: `${HOOK.xolphin}?${query}` });
		},
		() =>
			xolphin('malformed URL', 400, {
				method: 'GET',
				url: `/hooks/xolphin/${pick(['%ZZ', '%', `${SECRET}%`])}`,
			}),
		() => {
			const payload = Buffer.concat([
				Buffer.from(`RequestId=${RequestId}&Status=`),
				Buffer.from([0xff, 0xfe, 0x00, 0x80]),
			]);
			return xolphin('non-UTF-8 bytes in a value', 'valid', post(HOOK.xolphin, URLENCODED, payload));
		},
		() => xolphin('text/plain', 415, post(HOOK.xolphin, 'text/plain', form(base()))),
		() => {
			const { payload, contentType } = multipartOf(base());
			const type = pick([contentType, 'application/xml', 'application/octet-stream']);
			return xolphin('unsupported content type', 415, post(HOOK.xolphin, type, payload));
		},
		() => xolphin('no content type', 415, post(HOOK.xolphin, undefined, Buffer.from(form(base())))),
		() => {
			const payload = form(base());
			return xolphin(
				'truncated body',
				'any',
				post(HOOK.xolphin, URLENCODED, payload.slice(0, int(payload.length))),
			);
		},
		() => {
			const body = {
				...Object.fromEntries(base()),
				[pick(['RequestId', 'Status'])]: pick([1, null, true, [], {}]),
			};
			return xolphin('JSON with a wrong type', 415, post(HOOK.xolphin, JSON_TYPE, JSON.stringify(body)));
		},
		() => {
			const body = `{"RequestId":"${RequestId}","Status":"Issued","__proto__":{"polluted":"yes"}}`;
			return xolphin('JSON with a prototype key', 415, post(HOOK.xolphin, JSON_TYPE, body));
		},
		() => {
			const method = pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const);
			return xolphin('wrong method', 404, { ...xolphinRequest(base(), 'POST'), method });
		},
		// HEAD is served by the GET route (Fastify's exposeHeadRoutes): it is taken like a GET.
		() => xolphin('HEAD', 'any', { method: 'HEAD', url: `${HOOK.xolphin}?${form(base())}` }),
		() => xolphin('wrong secret', 404, xolphinRequest(base(), undefined, `/hooks/xolphin/${wrongSecret()}`)),
		// Fastify does not read a GET body: the query decides.
		() => {
			const headers = { 'content-type': pick([JSON_TYPE, URLENCODED]) };
			const payload = pick(['{', 'RequestId=x&RequestId=y', '\u0000\u0001']);
			return xolphin('GET with a junk body', 'valid', {
				method: 'GET',
				url: `${HOOK.xolphin}?${form(base())}`,
				headers,
				payload,
			});
		},
	);
}

// ─── Wooxy ───────────────────────────────────────────────────────────────────────────────────────────

const WOOXY_EVENTS = [
	'read',
	'delivered',
	'click',
	'hard',
	'soft',
	'complaint',
	'unsubscribed',
	'viber-failed',
];

function validWooxyBody(n: number, prefix = 'ok'): Record<string, unknown> {
	return {
		event: pick([...WOOXY_EVENTS, 'contact-activated', 'constructor', 'toString']),
		id: chance(0.8) ? `${prefix}${n}x${int(1e9).toString(16)}` : 1e9 * (prefix === 'ok' ? 1 : 2) + n,
		...(chance(0.8) && { email: `u${n}@example.com` }),
		...(chance(0.7) && {
			datetime: chance(0.5) ? 1_700_000_000 + int(1e8) : `${1_700_000_000 + int(1e8)}.5`,
		}),
		...(chance(0.5) && { userId: chance(0.5) ? `user-${n}` : n }),
		...(chance(0.5) && { headers: chance(0.2) ? null : { 'X-Tag': `t${n}`, 'X-Count': n, 'X-Flag': true } }),
	};
}

function wooxyRequest(body: unknown, contentType = JSON_TYPE, url = HOOK.wooxy): InjectOptions {
	const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
	return { method: 'POST', url, headers: { 'content-type': contentType }, payload };
}

function validWooxy(n: number): Case {
	return { receiver: 'wooxy', kind: 'valid', expect: 'valid', request: wooxyRequest(validWooxyBody(n)) };
}

let deepCache: { array?: string; object?: string } = {};
const deepArray = () => {
	deepCache.array ??= `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
	return deepCache.array;
};
const deepObject = () => {
	deepCache.object ??= `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
	return deepCache.object;
};

function badWooxy(n: number): Case {
	const body = () => validWooxyBody(n, 'j');
	/** A valid body as JSON text with `extra` spliced in as further members. */
	const withMembers = (extra: string) => {
		const text = JSON.stringify(body());
		return `${text.slice(0, -1)},${extra}}`;
	};
	const wooxy = (kind: string, expect: Expect, request: InjectOptions): Case => ({
		receiver: 'wooxy',
		kind,
		expect,
		request,
	});
	const wrongField = (): [string, unknown] =>
		oneOf<[string, unknown]>(
			() => ['event', pick([5, null, true, [], {}, ['read'], '', '   ', 'e'.repeat(101 + int(500))])],
			() => [
				'datetime',
				pick([-1, 1e12, 'abc', '1e5', '-5', null, true, [], {}, '1'.repeat(13), Number.MAX_VALUE]),
			],
			() => ['email', pick([5, null, true, [], {}, `${'e'.repeat(321)}@x`])],
			() => ['id', pick([null, true, [], {}, 'i'.repeat(201)])],
			() => ['userId', pick([null, false, ['u'], { u: 1 }, 'u'.repeat(201)])],
			() => [
				'headers',
				oneOf<unknown>(
					() => pick([[], 'x', 5, true, [['a', 'b']]]),
					() => ({ 'X-Nested': { a: 1 } }),
					() => ({ 'X-Null': null }),
					() => ({ 'X-Long': 'v'.repeat(2001) }),
					() => ({ [`X-${'k'.repeat(200)}`]: 'v' }),
					() => Object.fromEntries(Array.from({ length: 51 + int(100) }, (_, i) => [`h${i}`, 'v'])),
				),
			],
		);
	return oneOf<Case>(
		() => {
			const [name, value] = wrongField();
			return wooxy(`wrong ${name}`, 400, wooxyRequest({ ...body(), [name]: value }));
		},
		() => {
			const { event: _event, ...rest } = body();
			return wooxy('missing event', 400, wooxyRequest(rest));
		},
		() =>
			wooxy(
				'not an object',
				400,
				wooxyRequest(
					pick(['null', 'true', 'false', '0', '-1.5e300', '"read"', '[]', JSON.stringify([body()])]),
				),
			),
		() => wooxy('empty body', 400, wooxyRequest('')),
		() =>
			wooxy(
				'prototype key',
				400,
				wooxyRequest(
					withMembers(
						pick([
							'"__proto__":{"polluted":"yes"}',
							'"constructor":{"prototype":{"polluted":"yes"}}',
							'"nested":{"deeper":{"__proto__":{"polluted":"yes"}}}',
							'"nested":[{"constructor":{"prototype":{"polluted":"yes"}}}]',
							'"headers":{"__proto__":"x"}',
						]),
					),
				),
			),
		() =>
			wooxy(
				'harmless prototype-like key',
				'valid',
				wooxyRequest(
					withMembers(
						pick(['"constructor":"x"', '"prototype":{"polluted":"yes"}', '"constructor":{"name":"x"}']),
					),
				),
			),
		() =>
			wooxy(
				'10 000 deep, ignored member',
				'valid',
				wooxyRequest(withMembers(`"deep":${pick([deepArray(), deepObject()])}`)),
			),
		() => wooxy('10 000 deep headers', 400, wooxyRequest(withMembers(`"headers":${deepObject()}`))),
		() => wooxy('10 000 deep top level', 400, wooxyRequest(pick([deepArray(), deepObject()]))),
		() => {
			const length = 1000 + int(20_000);
			return wooxy(
				'huge array member',
				'valid',
				wooxyRequest(withMembers(`"list":[${'0,'.repeat(length)}0]`)),
			);
		},
		() => wooxy('huge array body', 400, wooxyRequest(`[${'{},'.repeat(1000 + int(15_000))}{}]`)),
		() =>
			wooxy(
				'lone surrogates',
				'valid',
				wooxyRequest(
					withMembers('"note":"\\udc00"')
						.replace('"event":"', '"event":"\\ud800')
						.replace('"email":"', '"email":"\\udfff'),
				),
			),
		() =>
			wooxy(
				'hostile text',
				'valid',
				wooxyRequest({
					...body(),
					event: hostile().slice(0, 100),
					email: hostile(),
					headers: { 'X-Evil': hostile() },
				}),
			),
		() => {
			const text = JSON.stringify({ ...body(), email: 'PLACEHOLDER' });
			const [before, after] = text.split('PLACEHOLDER') as [string, string];
			return wooxy(
				'non-UTF-8 bytes in a string',
				'valid',
				wooxyRequest(
					Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe, 0xc0, 0x80]), Buffer.from(after)]),
				),
			);
		},
		() =>
			wooxy(
				'non-UTF-8 bytes outside strings',
				400,
				wooxyRequest(
					Buffer.concat([Buffer.from('{"event":"read"'), Buffer.from([0xff, 0xfe]), Buffer.from('}')]),
				),
			),
		() =>
			wooxy(
				'NUL and control characters',
				'valid',
				wooxyRequest({ ...body(), event: `read\u0000\u0007${n}`, email: 'a\u0000@b' }),
			),
		// JSON.parse keeps the last of a repeated key; the body is still well-formed JSON.
		() => wooxy('repeated key', 'any', wooxyRequest(withMembers(`"event":"${pick(WOOXY_EVENTS)}"`))),
		() => {
			const text = JSON.stringify(body());
			return wooxy('truncated JSON', 400, wooxyRequest(text.slice(0, int(text.length - 1))));
		},
		() => wooxy('huge body', 413, wooxyRequest({ ...body(), pad: 'p'.repeat(bigSize()) })),
		() => wooxy('text/plain', 400, wooxyRequest(body(), 'text/plain')),
		() =>
			wooxy(
				'unsupported content type',
				415,
				wooxyRequest(
					body(),
					pick([
						URLENCODED,
						'application/xml',
						'multipart/form-data; boundary=x',
						'application/octet-stream',
					]),
				),
			),
		() =>
			wooxy('no content type', 415, {
				method: 'POST',
				url: HOOK.wooxy,
				payload: Buffer.from(JSON.stringify(body())),
			}),
		() =>
			wooxy('wrong method', 404, {
				...wooxyRequest(body()),
				method: pick(['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD'] as const),
			}),
		() => wooxy('wrong secret', 404, wooxyRequest(body(), JSON_TYPE, `/hooks/wooxy/${wrongSecret()}`)),
		() =>
			wooxy('outside the allowlist', 403, {
				...wooxyRequest(body()),
				remoteAddress: pick(['198.51.100.7', '203.0.113.9', '2001:db8::1', '::ffff:10.0.0.1']),
			}),
		() =>
			wooxy('over-long URL', 'valid', {
				...wooxyRequest(body()),
				url: `${HOOK.wooxy}?${'q'.repeat(bigSize())}`,
			}),
	);
}

// ─── Interactions ────────────────────────────────────────────────────────────────────────────────────

function keyPair(): { privateKey: KeyObject; publicHex: string } {
	const { privateKey, publicKey } = generateKeyPairSync('ed25519');
	return {
		privateKey,
		publicHex: publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex'),
	};
}
const keys = keyPair();
const otherKeys = keyPair();

function signedHeaders(body: string | Buffer, options: { key?: KeyObject; timestamp?: string } = {}) {
	const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000));
	const signature = sign(
		null,
		Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]),
		options.key ?? keys.privateKey,
	);
	return { 'x-signature-ed25519': signature.toString('hex'), 'x-signature-timestamp': timestamp };
}

function interactionBody(
	n: number,
	type = pick([
		InteractionType.ApplicationCommand,
		InteractionType.MessageComponent,
		InteractionType.ApplicationCommandAutocomplete,
		InteractionType.ModalSubmit,
	]),
): Record<string, unknown> {
	return {
		id: `9${String(n).padStart(17, '0')}`,
		application_id: '123456789012345678',
		type,
		token: `token-${n}`,
		version: 1,
		data: {
			id: '1',
			name: pick(['status', 'account', 'nonexistent']),
			type: ApplicationCommandType.ChatInput,
		},
	};
}

function interaction(
	kind: string,
	expect: Expect,
	body: string | Buffer,
	headers: Record<string, string>,
	dispatched = false,
): Case {
	return {
		receiver: 'interactions',
		kind,
		expect,
		dispatched,
		request: {
			method: 'POST',
			url: '/interactions',
			headers: { 'content-type': JSON_TYPE, ...headers },
			payload: body,
		},
	};
}

function validInteraction(n: number): Case {
	if (chance(0.3)) {
		const body = JSON.stringify({
			type: InteractionType.Ping,
			id: `${n}`,
			application_id: '1',
			token: 't',
			version: 1,
		});
		return interaction('signed ping', 'valid', body, signedHeaders(body));
	}
	const body = JSON.stringify(interactionBody(n));
	return interaction('signed interaction', 'valid', body, signedHeaders(body), true);
}

function badInteraction(n: number): Case {
	const text = JSON.stringify(interactionBody(n));
	const now = Math.floor(Date.now() / 1000);
	return oneOf<Case>(
		() => interaction('unsigned', 401, text, {}),
		() =>
			interaction('signature only', 401, text, {
				'x-signature-ed25519': signedHeaders(text)['x-signature-ed25519'],
			}),
		() => interaction('timestamp only', 401, text, { 'x-signature-timestamp': String(now) }),
		() =>
			interaction('malformed signature', 401, text, {
				'x-signature-ed25519': pick([
					'zz'.repeat(64),
					'00'.repeat(63),
					'0'.repeat(129),
					'',
					'a'.repeat(10_000),
					`${'ab'.repeat(64)}\u0000`,
				]),
				'x-signature-timestamp': String(now),
			}),
		() =>
			interaction('signature by another key', 401, text, signedHeaders(text, { key: otherKeys.privateKey })),
		() => interaction('signature over another body', 401, text, signedHeaders(`${text} `)),
		() => {
			const timestamp = String(now + pick([-400, 400, -100_000]));
			return interaction('stale or future timestamp', 401, text, signedHeaders(text, { timestamp }));
		},
		() => {
			const headers = signedHeaders(text);
			return interaction('timestamp changed after signing', 401, text, {
				...headers,
				'x-signature-timestamp': String(now - 1),
			});
		},
		() =>
			interaction('malformed timestamp', 401, text, {
				...signedHeaders(text),
				'x-signature-timestamp': pick(['', 'abc', '-1', '1e9', `${now}.0`, '9'.repeat(13), ' 1']),
			}),
		() => {
			const body = `${text.slice(0, int(text.length - 1))}`;
			return interaction('signed, truncated JSON', 400, body, signedHeaders(body));
		},
		() => {
			const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
			return interaction('signed, non-UTF-8', 400, body, signedHeaders(body));
		},
		() => {
			const body = pick([
				'null',
				'5',
				'"x"',
				'[]',
				'{}',
				'{"type":"2"}',
				'{"type":null}',
				'true',
				'[{"type":1}]',
			]);
			return interaction('signed, not an interaction', 400, body, signedHeaders(body));
		},
		() => {
			const body = `${text.slice(0, -1)},"__proto__":{"polluted":"yes"},"member":{"constructor":{"prototype":{"polluted":"yes"}}}}`;
			return interaction('signed, prototype keys', 'valid', body, signedHeaders(body), true);
		},
		() => {
			const body = `${text.slice(0, -1)},"deep":${pick([deepArray(), deepObject()])}}`;
			return interaction('signed, 10 000 deep', 'valid', body, signedHeaders(body), true);
		},
		() => {
			const body = JSON.stringify({
				...interactionBody(n),
				data: { name: hostile(), options: [{ value: '\ud800@everyone' }] },
			});
			return interaction('signed, hostile text', 'valid', body, signedHeaders(body), true);
		},
		() => {
			const body = JSON.stringify({ ...interactionBody(n), pad: 'p'.repeat(bigSize()) });
			const signed = chance(0.5);
			return interaction(
				signed ? 'signed, huge' : 'unsigned, huge',
				413,
				body,
				signed ? signedHeaders(body) : {},
			);
		},
		() => {
			const body = JSON.stringify(interactionBody(n));
			const type = pick(['text/plain', 'application/xml', URLENCODED, 'multipart/form-data; boundary=x']);
			return interaction(
				'signed, any content type',
				'valid',
				body,
				{ ...signedHeaders(body), 'content-type': type },
				true,
			);
		},
		() => ({
			receiver: 'interactions',
			kind: 'wrong method',
			expect: 404,
			request: {
				method: pick(['GET', 'PUT', 'DELETE'] as const),
				url: '/interactions',
				headers: signedHeaders(''),
			},
		}),
	);
}

// ─── The run ─────────────────────────────────────────────────────────────────────────────────────────

/** The app with every route, the real store, ingest and worker, and `POST /interactions` enabled. */
async function buildHarness(secret = SECRET) {
	const env = {
		HOOK_SECRET: secret,
		DISCORD_PUBLIC_KEY: keys.publicHex,
		WOOXY_ALLOWED_IPS: '127.0.0.1',
		// Thousands of requests from one address: far above any per-address rate limit.
		HOOK_RATE_LIMIT: '1000000',
	};
	const dispatched: APIInteraction[] = [];
	const { app, store, worker, sent } = await buildTestApp(env, {
		dispatch: async (incoming, sendInitial) => {
			dispatched.push(incoming);
			void sendInitial({
				type: InteractionResponseType.ChannelMessageWithSource,
				data: { content: 'ok', flags: MessageFlags.Ephemeral },
			});
		},
	});
	/** Every event written to the outbox, in order: a request's events are the ones added while it ran. */
	const stored: Event[] = [];
	const commit = store.commit;
	store.commit = async (changes, fence) => {
		const applied = await commit(changes, fence);
		for (const change of changes)
			if (change.collection === 'outbox' && 'value' in change)
				stored.push((change.value as OutboxEntry).event);
		return applied;
	};
	return { app, store, worker, sent, stored, dispatched };
}

/** Accepted callbacks, for replays: a provider retry must be collapsed, not alerted twice. */
const replayable: { receiver: Receiver; request: InjectOptions; id: string }[] = [];

function nextCase(n: number): Case {
	if (replayable.length > 0 && chance(0.03)) {
		const { receiver, request, id } = pick(replayable);
		return { receiver, kind: 'replay of an accepted callback', expect: 'duplicate', request, replayOf: id };
	}
	const receiver = pick([
		'mofh',
		'mofh',
		'mofh',
		'xolphin',
		'xolphin',
		'wooxy',
		'wooxy',
		'wooxy',
		'interactions',
		'interactions',
	] as const);
	const valid = chance(VALID_SHARE);
	switch (receiver) {
		case 'mofh':
			return valid ? validMofh(n) : badMofh(n);
		case 'xolphin':
			return valid ? validXolphin(n) : badXolphin(n);
		case 'wooxy':
			return valid ? validWooxy(n) : badWooxy(n);
		case 'interactions':
			return valid ? validInteraction(n) : badInteraction(n);
	}
}

function summarize(n: number, c: Case): string {
	const { method = 'GET', url = '', headers = {}, payload } = c.request;
	const body =
		payload === undefined ? '' : Buffer.isBuffer(payload) ? payload.toString('latin1') : String(payload);
	const clip = (text: string, max: number) =>
		JSON.stringify(text.length > max ? `${text.slice(0, max)}…(${text.length})` : text);
	return `#${n} ${c.receiver} "${c.kind}" ${method} ${clip(String(url), 100)} ${clip(String(headers['content-type'] ?? ''), 60)} body ${clip(body, 120)}`;
}

const PROTOTYPE_PROBES = ['polluted', 'x', 'a', 'isAdmin', 'deep', 'member', 'name'];

function prototypeSnapshot(): string[] {
	return Object.getOwnPropertyNames(Object.prototype)
		.map((name) => {
			const descriptor = Object.getOwnPropertyDescriptor(Object.prototype, name);
			return `${name}:${typeof descriptor?.value}:${typeof descriptor?.get}`;
		})
		.sort();
}

test(`${INPUTS} generated bad inputs, seed ${SEED} (BAD_INPUT_SEED=${SEED} to reproduce)`, {
	timeout: 120_000,
}, async (t) => {
	const started = Date.now();
	const prototypeBefore = prototypeSnapshot();
	const { app, store, worker, sent, stored, dispatched } = await buildHarness();
	t.after(() => app.close());

	const problems: string[] = [];
	let problemCount = 0;
	const problem = (n: number, c: Case, what: string) => {
		if (problemCount++ < 40) problems.push(`${what}\n    ${summarize(n, c)}`);
	};
	const byReceiver: Record<string, number> = {};
	const byStatus: Record<string, number> = {};
	const byReceiverStatus: Record<string, number> = {};
	const byKind: Record<string, number> = {};
	let valid = 0;
	let duplicates = 0;
	let expectedDispatches = 0;
	/** Ids of accepted (2xx) hook callbacks that were new, i.e. stored. */
	const acceptedIds = new Set<string>();
	const remember = (c: Case, id: string) => {
		if (replayable.length < 64) replayable.push({ receiver: c.receiver, request: c.request, id });
		else replayable[int(64)] = { receiver: c.receiver, request: c.request, id };
	};

	for (let n = 0; n < INPUTS; n++) {
		const c = nextCase(n);
		const storedBefore = stored.length;
		const dispatchedBefore = dispatched.length;
		const response = await app.inject(c.request);
		const status = response.statusCode;
		const added = stored.slice(storedBefore);
		const head = c.request.method === 'HEAD';

		byReceiver[c.receiver] = (byReceiver[c.receiver] ?? 0) + 1;
		byStatus[status] = (byStatus[status] ?? 0) + 1;
		byReceiverStatus[`${c.receiver} ${status}`] = (byReceiverStatus[`${c.receiver} ${status}`] ?? 0) + 1;
		byKind[`${c.receiver}: ${c.kind}`] = (byKind[`${c.receiver}: ${c.kind}`] ?? 0) + 1;
		if (c.expect === 'valid') valid++;

		if (status >= 500) {
			problem(n, c, `answered ${status} ${response.body.slice(0, 200)}`);
			continue;
		}
		if (status < 200 || (status >= 300 && status < 400)) problem(n, c, `answered ${status}`);
		const ok = status >= 200 && status < 300;

		// The expected answer.
		if (c.expect === 'valid' && status !== 200)
			problem(n, c, `a valid input answered ${status} ${response.body.slice(0, 200)}`);
		if (typeof c.expect === 'number' && status !== c.expect) {
			problem(n, c, `expected ${c.expect}, answered ${status} ${response.body.slice(0, 200)}`);
		}
		if (c.expect === '4xx' && ok) problem(n, c, `expected a 4xx, answered ${status}`);
		if (c.expect === 'duplicate' && status !== 200) problem(n, c, `a replay answered ${status}`);

		// The answer's body.
		if (!ok) {
			if (head) {
				if (response.body !== '') problem(n, c, 'a HEAD answer has a body');
			} else {
				let error: unknown;
				try {
					error = response.json().error;
				} catch {
					error = undefined;
				}
				if (
					!String(response.headers['content-type']).startsWith('application/json') ||
					typeof error !== 'string'
				) {
					problem(n, c, `a ${status} without a JSON {error}: ${response.body.slice(0, 200)}`);
				}
				if (status === 404 && response.body !== NOT_FOUND_BODY)
					problem(n, c, `a 404 unlike an unknown path: ${response.body}`);
			}
			if (added.length > 0) problem(n, c, `answered ${status} but stored ${added.length} event(s)`);
			if (dispatched.length !== dispatchedBefore) problem(n, c, `answered ${status} but was dispatched`);
			continue;
		}

		if (c.receiver === 'interactions') {
			const calls = dispatched.length - dispatchedBefore;
			if (c.dispatched) expectedDispatches++;
			if (calls !== (c.dispatched ? 1 : 0)) problem(n, c, `dispatched ${calls} time(s)`);
			const body = response.json();
			if (typeof body?.type !== 'number') problem(n, c, `not an interaction response: ${response.body}`);
			if (added.length > 0) problem(n, c, 'an interaction stored an event');
			continue;
		}

		if (c.receiver === 'xolphin') {
			if (
				!head &&
				(response.body !== 'OK' || !String(response.headers['content-type']).startsWith('text/plain'))
			) {
				problem(n, c, `Xolphin answered ${response.body.slice(0, 100)} instead of OK`);
			}
			// Xolphin's answer carries no id: every input here has its own RequestId, so only a replay is a duplicate.
			if (added.length !== (c.replayOf ? 0 : 1))
				problem(n, c, `accepted but stored ${added.length} event(s)`);
			if (c.replayOf) duplicates++;
			for (const event of added) {
				acceptedIds.add(event.id);
				if (c.expect === 'valid') remember(c, event.id);
			}
			continue;
		}

		const answer = response.json() as { ok?: boolean; id?: unknown; duplicate?: boolean };
		if (answer.ok !== true || typeof answer.id !== 'string' || !/^[0-9a-z]{20}$/.test(answer.id)) {
			problem(n, c, `a 2xx without {ok, id}: ${response.body.slice(0, 200)}`);
			continue;
		}
		if (c.replayOf && (!answer.duplicate || answer.id !== c.replayOf)) {
			problem(n, c, `a replay of ${c.replayOf} answered ${response.body}`);
		}
		if (answer.duplicate) {
			duplicates++;
			if (c.expect === 'valid') problem(n, c, 'a valid input was taken for a duplicate');
			if (added.length > 0) problem(n, c, 'a duplicate stored an event');
			if (!acceptedIds.has(answer.id)) problem(n, c, `a duplicate of ${answer.id}, which was never stored`);
		} else {
			if (added.length !== 1 || added[0]?.id !== answer.id) {
				problem(n, c, `answered id ${answer.id} but stored [${added.map((event) => event.id).join(', ')}]`);
			}
			acceptedIds.add(answer.id);
			if (c.expect === 'valid') remember(c, answer.id);
		}
	}

	await idle(worker, 15_000);

	// Every accepted event alerted exactly once, and nothing else.
	const alerted = new Map<string, number>();
	for (const { message } of sent) {
		for (const embed of message.embeds) {
			const id = /event ([0-9a-z]{20})/.exec(embed.footer?.text ?? '')?.[1];
			if (!id) problems.push(`an alert without an event id: ${JSON.stringify(embed).slice(0, 200)}`);
			else alerted.set(id, (alerted.get(id) ?? 0) + 1);
		}
	}
	const sorted = (counts: Record<string, number>) =>
		Object.entries(counts)
			.sort(([a], [b]) => (a < b ? -1 : 1))
			.map(([key, count]) => `${key}: ${count}`)
			.join(', ');
	t.diagnostic(`seed ${SEED}: ${INPUTS} inputs in ${Date.now() - started} ms`);
	t.diagnostic(`by receiver: ${sorted(byReceiver)}`);
	t.diagnostic(`by status: ${sorted(byStatus)}`);
	t.diagnostic(`by receiver and status: ${sorted(byReceiverStatus)}`);
	t.diagnostic(
		`inputs to accept: ${valid}; accepted events: ${acceptedIds.size}; duplicates collapsed: ${duplicates}; alerts: ${[...alerted.values()].reduce((a, b) => a + b, 0)} in ${sent.length} message(s); interactions dispatched: ${dispatched.length}`,
	);
	if (process.env.BAD_INPUT_KINDS) t.diagnostic(`by kind: ${sorted(byKind)}`);
	assert.deepEqual(
		problems,
		[],
		`seed ${SEED}: ${problemCount} problem(s), the first ${problems.length} listed`,
	);

	const storedIds = stored.map((event) => event.id);
	assert.equal(new Set(storedIds).size, storedIds.length, 'every stored event has its own id');
	assert.deepEqual(new Set(storedIds), acceptedIds, 'the stored events are exactly those of accepted inputs');
	const repeated = [...alerted].filter(([, times]) => times !== 1);
	assert.deepEqual(repeated, [], 'no event is alerted twice');
	assert.deepEqual(
		[...alerted.keys()].sort(),
		[...acceptedIds].sort(),
		'the alerts are exactly the accepted events',
	);

	let pending = 0;
	for await (const _ of store.outbox.iterator?.(undefined) ?? []) pending++;
	assert.equal(pending, 0, 'the outbox is empty once delivered');

	// Accounts only for usernames of stored (so accepted) events.
	const accountKeys = new Set<string>();
	for await (const [key] of store.accounts.iterator?.(undefined) ?? []) accountKeys.add(String(key));
	const storedUsernames = new Set(
		stored.flatMap((event) => ('username' in event && event.username ? [event.username.toLowerCase()] : [])),
	);
	assert.deepEqual(
		accountKeys,
		storedUsernames,
		'accounts exist exactly for the usernames of accepted callbacks',
	);

	assert.equal(
		dispatched.length,
		expectedDispatches,
		'every signed interaction, and only those, reached the dispatcher',
	);

	// Nothing polluted, and the app still answers.
	assert.deepEqual(prototypeSnapshot(), prototypeBefore, 'Object.prototype is unchanged');
	const probe: Record<string, unknown> = {};
	for (const name of PROTOTYPE_PROBES)
		assert.equal(probe[name], undefined, `Object.prototype.${name} is not set`);
	const health = await app.inject('/healthz');
	assert.equal(health.statusCode, 200);
	assert.deepEqual(health.json(), { status: 'ok' });

	deepCache = {};
});

test('a hook secret of the longest allowed length (128) is reachable; a longer path segment is a 404', async (t) => {
	const secret = 'S'.repeat(128);
	const { app, worker, sent } = await buildHarness(secret);
	t.after(() => app.close());
	const mofh = await app.inject(
		post(`/hooks/mofh/${secret}`, URLENCODED, form({ username: 'long_1', status: 'ACTIVATED' })),
	);
	assert.equal(mofh.statusCode, 200, mofh.body);
	const xolphin = await app.inject({
		method: 'GET',
		url: `/hooks/xolphin/${secret}?RequestId=1&Status=Issued`,
	});
	assert.equal(xolphin.body, 'OK');
	const wooxy = await app.inject(post(`/hooks/wooxy/${secret}`, JSON_TYPE, '{"event":"read","id":"long-1"}'));
	assert.equal(wooxy.statusCode, 200, wooxy.body);
	for (const url of [
		`/hooks/mofh/${secret}S`,
		`/hooks/xolphin/${'x'.repeat(5000)}`,
		`/nowhere/${'x'.repeat(5000)}`,
	]) {
		const res = await app.inject(post(url, URLENCODED, 'a=b'));
		assert.equal(res.statusCode, 404, url.slice(0, 40));
		assert.equal(res.body, NOT_FOUND_BODY);
	}
	await idle(worker);
	assert.equal(sent.length, 3);
});
