import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { createLogger, redactPath } from '../src/log.js';
import { outboxKey } from '../src/state/outbox.js';
import { openStore } from '../src/store/store.js';
import { buildTestApp, form, multipart, SECRET, WOOXY_EXAMPLE } from './helpers.js';
import { idle } from './poll.js';

const urlencoded = { 'content-type': 'application/x-www-form-urlencoded' };
const json = { 'content-type': 'application/json' };

async function setup(t: TestContext, env: Record<string, string> = {}) {
	const harness = await buildTestApp(env);
	t.after(() => harness.app.close());
	return harness;
}

describe('POST /hooks/mofh/:secret', () => {
	it('stores a urlencoded callback before answering 200 and projects the account', async (t) => {
		const { app, store, worker, sent } = await setup(t);
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: urlencoded,
			payload: form({ username: 'host_12345678', status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' }),
		});
		assert.equal(res.statusCode, 200);
		const { id } = res.json();
		assert.match(id, /^[0-9a-z]{20}$/);
		const account = await store.accounts.get('host_12345678');
		assert.equal(account.status, 'active');
		await idle(worker);
		assert.equal(sent.length, 1);
		assert.equal(sent[0]?.message.embeds[0]?.title, 'Account activated');
		assert.equal(sent[0]?.message.nonce, id);
		assert.equal(
			await store.outbox.get(outboxKey(sent[0]?.destination.key ?? '', id)),
			undefined,
			'delivered events leave the outbox',
		);
	});

	it('stamps the receipt time from the one injected clock, and the alert shows it', async (t) => {
		const at = Date.UTC(2031, 4, 6, 7, 8, 9);
		const harness = await buildTestApp({}, { now: () => at });
		t.after(() => harness.app.close());
		const res = await harness.app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: urlencoded,
			payload: form({ username: 'host_clock', status: 'ACTIVATED' }),
		});
		assert.equal(res.statusCode, 200, res.body);
		const account = await harness.store.accounts.get('host_clock');
		assert.equal(account.statusAt, at);
		await idle(harness.worker);
		assert.equal(harness.sent[0]?.message.embeds[0]?.timestamp, new Date(at).toISOString());
	});

	it('accepts multipart form fields', async (t) => {
		const { app, store } = await setup(t);
		const { body, contentType } = multipart({ username: 'host_1', status: 'sql102', comments: 'SQL_SERVER' });
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: { 'content-type': contentType },
			payload: body,
		});
		assert.equal(res.statusCode, 200, res.body);
		assert.equal((await store.accounts.get('host_1')).sqlCluster, 'sql102');
	});

	it('accepts fields in the query string', async (t) => {
		const { app, store } = await setup(t);
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}?${form({ username: 'host_2', status: 'SUSPENDED', comments: 'AUTO_IDLE' })}`,
		});
		assert.equal(res.statusCode, 200, res.body);
		assert.equal((await store.accounts.get('host_2')).suspension.code, 'AUTO_IDLE');
	});

	it('takes a ticket callback, which has no username', async (t) => {
		const { app, store } = await setup(t);
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: urlencoded,
			payload: form({
				callback_type: 'ticket',
				ticket_id: '123456',
				support_reply: 'Hello<br>there',
				ticket_status: 'S',
			}),
		});
		assert.equal(res.statusCode, 200, res.body);
		assert.equal((await store.tickets.get('123456')).replies[0].text, 'Hello\nthere');
	});

	it('accepts an undocumented status as unrecognized', async (t) => {
		const { app, worker, sent } = await setup(t);
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: urlencoded,
			payload: form({ username: 'host_3', status: 'MIGRATED', comments: 'x' }),
		});
		assert.equal(res.statusCode, 200);
		await idle(worker);
		assert.equal(sent[0]?.message.embeds[0]?.title, 'Unrecognized callback');
	});

	const malformed: [string, string, RegExp][] = [
		['no username', form({ status: 'ACTIVATED' }), /username/],
		['no status', form({ username: 'host_1' }), /status/],
		['a repeated field', 'username=a&username=b&status=ACTIVATED', /repeated/],
		['a bad username', form({ username: '<script>', status: 'ACTIVATED' }), /username/],
		['a ticket without id', form({ callback_type: 'ticket', ticket_status: 'S' }), /ticket_id/],
	];
	for (const [what, payload, message] of malformed) {
		it(`answers 400 with a precise error for ${what}, and stores nothing`, async (t) => {
			const { app, store } = await setup(t);
			const res = await app.inject({
				method: 'POST',
				url: `/hooks/mofh/${SECRET}`,
				headers: urlencoded,
				payload,
			});
			assert.equal(res.statusCode, 400);
			assert.match(res.json().error, message);
			let stored = 0;
			for await (const _ of store.outbox.iterator?.(undefined) ?? []) stored++;
			assert.equal(stored, 0);
		});
	}

	it('refuses file uploads with 400', async (t) => {
		const { app } = await setup(t);
		const boundary = 'b0undary';
		const payload = `--${boundary}\r\nContent-Disposition: form-data; name="username"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--${boundary}--\r\n`;
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
			payload,
		});
		assert.equal(res.statusCode, 400);
	});

	it('answers a wrong secret exactly like an unknown path', async (t) => {
		const { app } = await setup(t);
		const wrong = await app.inject({
			method: 'POST',
			url: '/hooks/mofh/not-the-secret-at-all',
			headers: urlencoded,
			payload: 'a=b',
		});
		const unknown = await app.inject({
			method: 'POST',
			url: '/nowhere',
			headers: urlencoded,
			payload: 'a=b',
		});
		assert.equal(wrong.statusCode, 404);
		assert.equal(wrong.body, unknown.body);
		assert.doesNotMatch(wrong.body, /not-the-secret/);
	});

	it('answers 403 outside the allowlist and 200 inside a CIDR', async (t) => {
		const { app } = await setup(t, { MOFH_ALLOWED_IPS: '203.0.113.0/24,2001:db8::/32' });
		const payload = form({ username: 'host_1', status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' });
		const request = (remoteAddress: string) =>
			app.inject({
				method: 'POST',
				url: `/hooks/mofh/${SECRET}`,
				headers: urlencoded,
				payload,
				remoteAddress,
			});
		assert.equal((await request('198.51.100.7')).statusCode, 403);
		assert.equal((await request('203.0.113.9')).statusCode, 200);
		assert.equal((await request('::ffff:203.0.113.10')).statusCode, 200);
		assert.equal((await request('2001:db8::1')).statusCode, 200);
		assert.equal((await request('2001:db9::1')).statusCode, 403);
	});

	it('reads the client address from X-Forwarded-For only when TRUST_PROXY names the proxy', async (t) => {
		const { app } = await setup(t, { MOFH_ALLOWED_IPS: '203.0.113.5', TRUST_PROXY: '127.0.0.1' });
		const payload = form({ username: 'host_1', status: 'ACTIVATED' });
		const viaProxy = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: { ...urlencoded, 'x-forwarded-for': '203.0.113.5' },
			payload,
			remoteAddress: '127.0.0.1',
		});
		assert.equal(viaProxy.statusCode, 200);
		const spoofed = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: { ...urlencoded, 'x-forwarded-for': '203.0.113.5' },
			payload,
			remoteAddress: '198.51.100.1',
		});
		assert.equal(spoofed.statusCode, 403);
	});

	it('answers 413 over the body limit', async (t) => {
		const { app } = await setup(t);
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: urlencoded,
			payload: form({ username: 'host_1', status: 'ACTIVATED', comments: 'x'.repeat(70_000) }),
		});
		assert.equal(res.statusCode, 413);
	});

	it('answers 503 when the store cannot take the event, so the provider retries', async (t) => {
		const store = await openStore('memory://');
		store.outbox.set = async () => {
			throw new Error('disk full');
		};
		const { app } = await buildTestApp({}, { store });
		t.after(() => app.close());
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: urlencoded,
			payload: form({ username: 'host_1', status: 'ACTIVATED' }),
		});
		assert.equal(res.statusCode, 503);
		assert.ok(res.headers['retry-after']);
		assert.equal(await store.accounts.get('host_1'), undefined, 'no state without a stored event');
	});
});

describe('/hooks/xolphin/:secret', () => {
	it('takes GET query parameters and answers OK', async (t) => {
		const { app, store } = await setup(t);
		const res = await app.inject({
			method: 'GET',
			url: `/hooks/xolphin/${SECRET}?RequestId=987&Status=Updated&State=DCV&Domain=example.com`,
		});
		assert.equal(res.statusCode, 200);
		assert.equal(res.body, 'OK');
		assert.deepEqual((await store.certs.get('987')).dcvDomains, ['example.com']);
	});

	it('takes POST form fields', async (t) => {
		const { app, store } = await setup(t);
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/xolphin/${SECRET}`,
			headers: urlencoded,
			payload: form({ RequestId: '5', Status: 'Issued' }),
		});
		assert.equal(res.body, 'OK');
		assert.equal((await store.certs.get('5')).status, 'issued');
	});

	it('answers 400 without a RequestId', async (t) => {
		const { app } = await setup(t);
		const res = await app.inject({ method: 'GET', url: `/hooks/xolphin/${SECRET}?Status=Issued` });
		assert.equal(res.statusCode, 400);
		assert.match(res.json().error, /RequestId/);
	});

	it("allows only Xolphin's documented addresses by default", async (t) => {
		const { app } = await setup(t, { XOLPHIN_ALLOWED_IPS: '' });
		const url = `/hooks/xolphin/${SECRET}?RequestId=1&Status=Issued`;
		assert.equal((await app.inject({ method: 'GET', url, remoteAddress: '127.0.0.1' })).statusCode, 403);
		assert.equal((await app.inject({ method: 'GET', url, remoteAddress: '185.93.12.91' })).statusCode, 200);
		assert.equal(
			(await app.inject({ method: 'GET', url, remoteAddress: '2a03:8de0:1:1::111' })).statusCode,
			200,
		);
	});
});

describe('POST /hooks/wooxy/:secret', () => {
	const example = WOOXY_EXAMPLE;

	it('takes the documented JSON body', async (t) => {
		const { app, worker, sent } = await setup(t);
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/wooxy/${SECRET}`,
			headers: json,
			payload: example,
		});
		assert.equal(res.statusCode, 200);
		await idle(worker);
		assert.equal(sent[0]?.message.embeds[0]?.title, 'E-mail event: read');
	});

	it("allows only Wooxy's documented address by default", async (t) => {
		const { app } = await setup(t, { WOOXY_ALLOWED_IPS: '' });
		const request = (remoteAddress: string) =>
			app.inject({
				method: 'POST',
				url: `/hooks/wooxy/${SECRET}`,
				headers: json,
				payload: example,
				remoteAddress,
			});
		assert.equal((await request('127.0.0.1')).statusCode, 403);
		assert.equal((await request('188.226.196.117')).statusCode, 200);
	});

	const bad: [string, Record<string, string>, string, number][] = [
		['invalid JSON', json, '{"event":', 400],
		['an array', json, '[{"event":"read"}]', 400],
		['no event name', json, '{"email":"a@b.c"}', 400],
		['a __proto__ key', json, '{"event":"read","__proto__":{"polluted":true}}', 400],
		['a form body', urlencoded, 'event=read', 415],
		['an oversized body', json, JSON.stringify({ event: 'read', pad: 'x'.repeat(70_000) }), 413],
	];
	for (const [what, headers, payload, status] of bad) {
		it(`answers ${status} for ${what}`, async (t) => {
			const { app } = await setup(t);
			const res = await app.inject({ method: 'POST', url: `/hooks/wooxy/${SECRET}`, headers, payload });
			assert.equal(res.statusCode, status);
			assert.equal(typeof res.json().error, 'string');
			assert.equal(({} as Record<string, unknown>).polluted, undefined);
		});
	}
});

describe('health', () => {
	it('/healthz is alive and /readyz reports a reachable store in a dry run', async (t) => {
		const { app } = await setup(t);
		assert.equal((await app.inject('/healthz')).statusCode, 200);
		const ready = await app.inject('/readyz');
		assert.equal(ready.statusCode, 200);
		assert.equal(ready.json().discord, 'dry run');
	});

	it('/readyz fails when the store is down', async (t) => {
		const store = await openStore('memory://');
		const { app } = await buildTestApp({}, { store });
		t.after(() => app.close());
		store.meta.get = async () => {
			throw new Error('connection refused');
		};
		const ready = await app.inject('/readyz');
		assert.equal(ready.statusCode, 503);
		assert.deepEqual(ready.json().problems, ['store unreachable']);
	});
});

describe('ingress hardening', () => {
	it('rate-limits probing of unknown paths', async (t) => {
		const { app } = await setup(t, { HOOK_RATE_LIMIT: '2' });
		const statuses = [];
		for (let i = 0; i < 4; i++)
			statuses.push(
				(await app.inject({ method: 'GET', url: `/probe-${i}`, remoteAddress: '198.51.100.9' })).statusCode,
			);
		assert.deepEqual(statuses, [404, 404, 429, 429]);
	});

	it('keeps __proto__ and constructor form fields as plain data', async (t) => {
		const { app } = await setup(t);
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: urlencoded,
			payload:
				'__proto__[polluted]=yes&constructor[prototype][polluted]=yes&username=host_9&status=ACTIVATED',
		});
		assert.ok(res.statusCode < 500);
		assert.equal(({} as Record<string, unknown>).polluted, undefined);
	});

	it('never writes the hook secret into a log line, even for wrong guesses and failures', async (t) => {
		const lines: string[] = [];
		const logger = createLogger('trace', { write: (line: string) => lines.push(line) });
		const store = await openStore('memory://');
		const { app } = await buildTestApp({}, { store, logger });
		t.after(() => app.close());
		await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: urlencoded,
			payload: form({ username: 'host_1', status: 'ACTIVATED' }),
		});
		await app.inject({ method: 'GET', url: `/hooks/xolphin/${SECRET}?RequestId=x&Status=Issued` });
		await app.inject({
			method: 'POST',
			url: '/hooks/wooxy/a-wrong-guess-of-it',
			headers: json,
			payload: '{}',
		});
		store.outbox.set = async () => {
			throw new Error('disk full');
		};
		await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: urlencoded,
			payload: form({ username: 'host_2', status: 'ACTIVATED' }),
		});
		const log = lines.join('');
		assert.match(log, /\/hooks\/mofh\/\[secret\]/, 'request lines are logged, redacted');
		assert.match(log, /store unavailable/);
		assert.ok(!log.includes(SECRET));
		assert.ok(!log.includes('a-wrong-guess-of-it'));
		assert.equal(redactPath('/api/webhooks/123/secret-token-value'), '/api/webhooks/123/[token]');
	});
});
