/**
 * The Wooxy API client against the Wooxy double (test/doubles/wooxy.ts) on 127.0.0.1. Every wait is
 * bounded; every double and client is closed by the test that made it.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { inspect } from 'node:util';
import { Semaphore } from '../src/clients/semaphore.js';
import { createWooxyClient, type WooxyClientOptions, WooxyError } from '../src/clients/wooxy.js';
import { startWooxyDouble, type WooxyDoubleOptions } from './doubles/wooxy.js';
import { rejectAfter } from './helpers.js';

const TEST_TIMEOUT = { timeout: 10_000 };

async function setup(
	t: TestContext,
	doubleOptions: WooxyDoubleOptions = {},
	clientOptions: Partial<WooxyClientOptions> = {},
) {
	const double = await startWooxyDouble(doubleOptions);
	const client = createWooxyClient({ apiUrl: double.url, token: double.token, ...clientOptions });
	t.after(async () => {
		try {
			await rejectAfter(client.close(), 5000, 'client.close');
		} finally {
			await rejectAfter(double.close(), 5000, 'double.close');
		}
	});
	return { double, client };
}

/** Awaits the rejection (bounded) and returns the WooxyError. */
async function failure(promise: Promise<unknown>, what = 'the call'): Promise<WooxyError> {
	try {
		await rejectAfter(promise, 5000, what);
	} catch (error) {
		assert.ok(error instanceof WooxyError, `expected a WooxyError, got ${inspect(error)}`);
		return error;
	}
	assert.fail(`${what} should have failed`);
}

/** The token must not be anywhere on the error: message, properties, stack or nested values. */
function assertNoToken(error: WooxyError, token: string) {
	assert.ok(!error.message.includes(token), `token in message: ${error.message}`);
	assert.ok(!inspect(error, { depth: 10, showHidden: true }).includes(token), 'token on the error object');
	assert.ok(
		!JSON.stringify({ ...error, message: error.message }).includes(token),
		'token in serialised error',
	);
}

const hook = (n: number) => ({
	title: `Hookcord ${n}`,
	url: `https://hooks.example.net/wooxy/${n}`,
	domainId: '101',
	events: ['read', 'hard', 'complaint'],
});

test('create, list and remove round trip', TEST_TIMEOUT, async (t) => {
	const { double, client } = await setup(t);

	assert.deepEqual(
		await client.listWebhooks(),
		[],
		'the documented "no web hook configurations" error is []',
	);

	const created = await client.createWebhook({ ...hook(1), domainId: undefined, domain: 'mail.example.com' });
	assert.deepEqual(created, {
		id: '1',
		title: 'Hookcord 1',
		url: 'https://hooks.example.net/wooxy/1',
		domain: { id: '101', name: 'mail.example.com' },
		events: ['read', 'hard', 'complaint'],
	});
	const second = await client.createWebhook({ ...hook(2), domainId: '102' });
	assert.equal(second.id, '2');
	assert.deepEqual(second.domain, { id: '102', name: 'news.example.org' });

	const listed = await client.listWebhooks();
	assert.deepEqual(
		listed.map((w) => [w.id, w.title, w.url, w.domain?.name, w.events.join(',')]),
		[
			['1', 'Hookcord 1', 'https://hooks.example.net/wooxy/1', 'mail.example.com', 'read,hard,complaint'],
			['2', 'Hookcord 2', 'https://hooks.example.net/wooxy/2', 'news.example.org', 'read,hard,complaint'],
		],
	);
	assert.match(listed[0]?.createdAt ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

	await client.removeWebhook('1');
	assert.deepEqual(
		(await client.listWebhooks()).map((w) => w.id),
		['2'],
	);
	await client.removeWebhook('2');
	assert.deepEqual(await client.listWebhooks(), []);
	assert.equal(double.webhooks.length, 0);

	// What went over the wire: POST + JSON + Access-Token; exactly one domain identifier; numeric id.
	for (const request of double.requests) {
		assert.equal(request.method, 'POST');
		assert.equal(request.headers['access-token'], double.token);
		assert.equal(request.headers['content-type'], 'application/json');
	}
	const creates = double.requests.filter((r) => r.path === '/v3/webhook/create').map((r) => r.body);
	assert.deepEqual(creates[0], {
		title: 'Hookcord 1',
		url: 'https://hooks.example.net/wooxy/1',
		domain: 'mail.example.com',
		events: ['read', 'hard', 'complaint'],
	});
	assert.ok(!Object.hasOwn(creates[1] as object, 'domain'));
	assert.deepEqual(
		double.requests.filter((r) => r.path === '/v3/webhook/list').map((r) => r.body),
		[{}, {}, {}, {}],
	);
	assert.deepEqual(
		double.requests.filter((r) => r.path === '/v3/webhook/remove').map((r) => r.body),
		[{ id: 1 }, { id: 2 }],
	);
	assert.equal(client.inFlight, 0);
});

test('{result:false} errors are shown verbatim, kind api', TEST_TIMEOUT, async (t) => {
	const { client } = await setup(t);

	const unknownEvent = await failure(client.createWebhook({ ...hook(1), events: ['read', 'opened'] }));
	assert.equal(unknownEvent.kind, 'api');
	assert.deepEqual(unknownEvent.apiErrors, ['Event type opened is not registered']);
	assert.match(unknownEvent.message, /Event type opened is not registered/);

	const several = await failure(
		client.createWebhook({ title: '', url: 'not a url', events: [], domainId: '999' }),
	);
	assert.equal(several.kind, 'api');
	assert.deepEqual(several.apiErrors, [
		'Argument title must be a non-empty string',
		'Argument url must be a valid URI',
		'Argument events must be an array of allowed event names',
		'Domain 999 not found',
	]);
	assert.ok(several.message.includes(several.apiErrors.join('; ')), several.message);

	await client.createWebhook(hook(1));
	const duplicate = await failure(client.createWebhook({ ...hook(1), title: 'again' }));
	assert.deepEqual(duplicate.apiErrors, ['Web hook with such URL is already registered for selected domain']);

	const missing = await failure(client.removeWebhook('42'));
	assert.equal(missing.kind, 'api');
	assert.deepEqual(missing.apiErrors, ['Web hook config 42 not found in your account']);

	const notNumeric = await failure(client.removeWebhook('abc'));
	assert.deepEqual(notNumeric.apiErrors, ['Argument id must be a positive integer']);
});

test(
	'auth failures are kind auth, name WOOXY_API_TOKEN and never carry the token',
	TEST_TIMEOUT,
	async (t) => {
		const { double } = await setup(t);
		const wrongToken = 'wrong-token-9d8c7b6a5f4e';
		const wrong = createWooxyClient({ apiUrl: double.url, token: wrongToken });
		const right = createWooxyClient({ apiUrl: double.url, token: double.token });
		t.after(() => Promise.all([wrong.close(), right.close()]));

		const invalid = await failure(wrong.listWebhooks());
		assert.equal(invalid.kind, 'auth');
		assert.deepEqual(invalid.apiErrors, ['Invalid authorization token!']);
		assert.match(invalid.message, /Invalid authorization token!/);
		assert.match(invalid.message, /WOOXY_API_TOKEN/);
		assert.equal(
			double.requests.at(-1)?.headers['access-token'],
			wrongToken,
			'the token is sent in Access-Token',
		);
		assertNoToken(invalid, wrongToken);

		// Wooxy's "no matches found for access token {accessToken}" echoes the key: it is redacted.
		double.failNext({
			body: { result: false, errors: [`no matches found for access token ${double.token}`] },
		});
		const echoed = await failure(right.listWebhooks());
		assert.equal(echoed.kind, 'auth');
		assert.deepEqual(echoed.apiErrors, ['no matches found for access token [token]']);
		assert.match(echoed.message, /no matches found for access token \[token\]/);
		assert.match(echoed.message, /WOOXY_API_TOKEN/);
		assertNoToken(echoed, double.token);

		// Even a differently spelled echo (Wooxy may trim or re-case it) does not get through.
		double.failNext({
			body: { result: false, errors: [`no matches found for access token ${double.token.toUpperCase()}`] },
		});
		const upper = await failure(right.listWebhooks());
		assert.equal(upper.message.includes(double.token.toUpperCase()), false, upper.message);

		double.failNext({
			body: { result: false, errors: [`access token check failed for key/secret abc/${double.token}`] },
		});
		const checkFailed = await failure(right.listWebhooks());
		assert.equal(checkFailed.kind, 'auth');
		assertNoToken(checkFailed, double.token);

		for (const status of [401, 403]) {
			double.failNext({ status, body: '<html>Forbidden</html>' });
			const http = await failure(right.createWebhook(hook(status)));
			assert.equal(http.kind, 'auth');
			assert.match(http.message, new RegExp(`HTTP ${status}`));
			assert.match(http.message, /WOOXY_API_TOKEN/);
			assertNoToken(http, double.token);
		}

		// An api error that happens to quote the token (never documented, but cheap to guard).
		double.failNext({
			body: { result: false, errors: [`Argument title must be a string (${double.token})`] },
		});
		const quoted = await failure(right.createWebhook(hook(7)));
		assert.equal(quoted.kind, 'api');
		assertNoToken(quoted, double.token);

		// Timeouts, protocol and network errors do not carry it either.
		double.failNext({ body: 'not json' });
		assertNoToken(await failure(right.listWebhooks()), double.token);
	},
);

test('30 simultaneous creates: all succeed, never more than 10 in flight', TEST_TIMEOUT, async (t) => {
	const { double, client } = await setup(t, { delayMs: 50 });
	let clientMax = 0;
	const sampler = setInterval(() => {
		clientMax = Math.max(clientMax, client.inFlight);
	}, 1);
	t.after(() => clearInterval(sampler));

	const calls = Array.from({ length: 30 }, (_, i) => client.createWebhook(hook(i)));
	await new Promise((resolve) => setImmediate(resolve));
	clientMax = Math.max(clientMax, client.inFlight);
	const created = await rejectAfter(Promise.all(calls), 8000, '30 creates');
	clearInterval(sampler);

	assert.equal(created.length, 30);
	assert.equal(new Set(created.map((w) => w.id)).size, 30);
	assert.equal(double.webhooks.length, 30);
	assert.ok(double.maxInFlight <= 10, `double saw ${double.maxInFlight} at once`);
	assert.ok(double.maxInFlight > 1, `double saw ${double.maxInFlight} at once: not concurrent`);
	assert.ok(clientMax <= 10, `client had ${clientMax} in flight`);
	assert.ok(clientMax > 1, `client had ${clientMax} in flight`);
	assert.equal(client.inFlight, 0);
});

test('maxConcurrent is honoured and queued calls run in order', TEST_TIMEOUT, async (t) => {
	const { double, client } = await setup(t, { delayMs: 20 }, { maxConcurrent: 3 });
	const calls = Array.from({ length: 9 }, (_, i) => client.createWebhook(hook(i)));
	const created = await rejectAfter(Promise.all(calls), 5000, '9 creates');
	assert.ok(double.maxInFlight <= 3 && double.maxInFlight > 1, `double saw ${double.maxInFlight}`);
	assert.deepEqual(
		created.map((w) => w.title),
		Array.from({ length: 9 }, (_, i) => `Hookcord ${i}`),
	);
});

test('a hanging Wooxy times out and the slot is released', TEST_TIMEOUT, async (t) => {
	const { double, client } = await setup(t, {}, { timeoutMs: 200, maxConcurrent: 1 });
	double.failNext({ hang: true });
	const started = Date.now();
	const error = await failure(client.listWebhooks());
	const took = Date.now() - started;
	assert.equal(error.kind, 'timeout');
	assert.equal(error.message, 'Wooxy did not answer within 200 ms');
	assert.ok(took >= 150 && took < 3000, `timed out after ${took} ms`);
	assert.equal(client.inFlight, 0);
	assertNoToken(error, double.token);

	// With one slot, this would wait forever if the timed-out call had kept it.
	const created = await rejectAfter(client.createWebhook(hook(1)), 3000, 'the call after the timeout');
	assert.equal(created.id, '1');
});

test('timeout messages switch to seconds from 1 s up', TEST_TIMEOUT, async (t) => {
	// Checked through a short timeout: the message is built from timeoutMs.
	const { double, client } = await setup(t, {}, { timeoutMs: 1000 });
	double.failNext({ hang: true });
	const error = await failure(client.listWebhooks());
	assert.equal(error.message, 'Wooxy did not answer within 1 s');
});

test('connection refused is kind network', TEST_TIMEOUT, async (t) => {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise<void>((resolve) => server.close(() => resolve()));

	const token = 'network-token-0a1b2c3d';
	const client = createWooxyClient({ apiUrl: `http://127.0.0.1:${port}`, token });
	t.after(() => client.close());
	const error = await failure(client.listWebhooks());
	assert.equal(error.kind, 'network');
	assert.equal(error.message, 'Could not reach Wooxy (ECONNREFUSED)');
	assertNoToken(error, token);
	assert.equal(client.inFlight, 0);
});

test(
	'malformed or wrong-shape answers are kind protocol; other HTTP errors kind api',
	TEST_TIMEOUT,
	async (t) => {
		const { double, client } = await setup(t);

		double.failNext({ body: '{"result": true, "data": [' });
		const truncated = await failure(client.listWebhooks());
		assert.equal(truncated.kind, 'protocol');
		assert.match(truncated.message, /not JSON/);

		double.failNext({ body: { result: true, config: { id: 1, title: 'x' } } });
		const shape = await failure(client.createWebhook(hook(1)));
		assert.equal(shape.kind, 'protocol');
		assert.match(shape.message, /config\.url/);

		double.failNext({ body: { ok: true } });
		assert.equal((await failure(client.removeWebhook('1'))).kind, 'protocol');

		double.failNext({ status: 502, body: '<html>Bad gateway</html>' });
		const gateway = await failure(client.listWebhooks());
		assert.equal(gateway.kind, 'api');
		assert.equal(gateway.message, 'Wooxy answered HTTP 502 Bad Gateway');

		double.failNext({ status: 500, body: { result: false, errors: ['Internal server error'] } });
		const internal = await failure(client.listWebhooks());
		assert.equal(internal.kind, 'api');
		assert.deepEqual(internal.apiErrors, ['Internal server error']);

		// String ids and a missing domain are accepted.
		double.failNext({
			body: { result: true, data: [{ id: '77', title: 't', url: 'https://x.example/h', events: ['read'] }] },
		});
		assert.deepEqual(await client.listWebhooks(), [
			{ id: '77', title: 't', url: 'https://x.example/h', events: ['read'] },
		]);
	},
);

test('no token: kind config, and no request is made', TEST_TIMEOUT, async (t) => {
	const { double } = await setup(t);
	for (const token of [undefined, '', '   ']) {
		const client = createWooxyClient({ apiUrl: double.url, ...(token !== undefined && { token }) });
		t.after(() => client.close());
		const error = await failure(client.listWebhooks());
		assert.equal(error.kind, 'config');
		assert.equal(error.message, 'WOOXY_API_TOKEN is not set');
		assert.equal((await failure(client.createWebhook(hook(1)))).kind, 'config');
		assert.equal((await failure(client.removeWebhook('1'))).kind, 'config');
	}
	assert.equal(double.requests.length, 0);
});

test('createWebhook needs exactly one of domain and domainId', TEST_TIMEOUT, async (t) => {
	const { double, client } = await setup(t);
	const both = await failure(client.createWebhook({ ...hook(1), domain: 'mail.example.com' }));
	assert.equal(both.kind, 'config');
	const neither = await failure(client.createWebhook({ ...hook(1), domainId: undefined }));
	assert.equal(neither.kind, 'config');
	assert.equal(double.requests.length, 0);
});

test('a closed client rejects queued and new calls', TEST_TIMEOUT, async (t) => {
	const { client } = await setup(t, { delayMs: 50 }, { maxConcurrent: 1 });
	const first = client.listWebhooks();
	const queued = client.listWebhooks();
	await new Promise((resolve) => setImmediate(resolve));
	const closing = client.close();
	assert.equal((await failure(queued, 'queued call')).kind, 'config');
	assert.deepEqual(await rejectAfter(first, 3000, 'in-flight call'), [], 'the in-flight call finishes');
	await rejectAfter(closing, 3000, 'close');
	assert.equal((await failure(client.listWebhooks(), 'call after close')).kind, 'config');
});

test('Semaphore: FIFO, bounded, abortable while queued', TEST_TIMEOUT, async () => {
	const semaphore = new Semaphore(2);
	const order: number[] = [];
	const releases: (() => void)[] = [];
	const waits = [0, 1, 2, 3, 4].map((n) =>
		semaphore.acquire().then((release) => {
			order.push(n);
			releases.push(release);
		}),
	);
	await new Promise((resolve) => setImmediate(resolve));
	assert.deepEqual(order, [0, 1]);
	assert.equal(semaphore.active, 2);
	assert.equal(semaphore.waiting, 3);

	const controller = new AbortController();
	const aborted = semaphore.acquire(controller.signal);
	controller.abort(new Error('gone'));
	await assert.rejects(aborted, /gone/);
	assert.equal(semaphore.waiting, 3);

	releases[0]?.();
	releases[0]?.(); // twice is harmless
	await new Promise((resolve) => setImmediate(resolve));
	assert.deepEqual(order, [0, 1, 2]);
	assert.equal(semaphore.active, 2);
	for (let i = 1; i < 5; i++) {
		releases[i]?.();
		await new Promise((resolve) => setImmediate(resolve));
	}
	await rejectAfter(Promise.all(waits), 1000, 'all acquires');
	assert.deepEqual(order, [0, 1, 2, 3, 4]);
	assert.equal(semaphore.active, 0);
	assert.equal(await semaphore.run(async () => 'done'), 'done');
	assert.equal(semaphore.active, 0);
});

test(
	'an error text that echoes the webhook URL reaches staff and the log without the hook secret',
	TEST_TIMEOUT,
	async (t) => {
		const secret = 'hook-secret_0123456789abcdef';
		const { double, client } = await setup(t, {}, { secrets: [secret] });
		const url = `https://hooks.example.com/hooks/wooxy/${secret}`;
		double.failNext({
			body: {
				result: false,
				errors: [`Url ${url} is not reachable`, { url: `${url}?x=1`, encoded: encodeURIComponent(url) }],
			},
		});
		const error = await failure(client.createWebhook({ ...hook(1), url }));
		assert.match(
			error.message,
			/Url https:\/\/hooks\.example\.com\/hooks\/wooxy\/\[secret\] is not reachable/,
		);
		assert.equal(error.kind, 'api');
		for (const shown of [
			error.message,
			inspect(error, { depth: 10, showHidden: true }),
			...error.apiErrors,
		]) {
			assert.ok(!shown.includes(secret), `secret in ${shown}`);
		}
	},
);
