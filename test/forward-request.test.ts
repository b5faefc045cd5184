import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { classifyForward, type Outcome, retryAfterMs } from '../src/delivery/forward/outcome.js';
import { composeForward } from '../src/delivery/forward/request.js';
import { sendForward } from '../src/delivery/forward/send.js';
import type { Arrival } from '../src/state/forwards.js';
import { closedPort, type PanelAnswer, startPanel } from './doubles/panel.js';

const entry = (request: Partial<Arrival> = {}) => ({
	event: { id: '00000000000000000001' },
	request: {
		method: 'POST',
		contentType: 'application/x-www-form-urlencoded',
		query: 'username=a',
		body: Buffer.from('status=ACTIVATED').toString('base64'),
		address: '198.51.100.7',
		...request,
	},
});

describe('composeForward (pure)', () => {
	it('the target’s path and query first, then the callback’s; Basic auth from user info', () => {
		const request = composeForward(
			'https://u%40x:p%3Aw@panel.example.com:8443/c/mofh?k=1#frag',
			entry(),
			'1.2.3',
		);
		assert.equal(request.url.host, 'panel.example.com:8443');
		assert.equal(request.path, '/c/mofh?k=1&username=a');
		assert.equal(request.method, 'POST');
		assert.equal(request.body.toString(), 'status=ACTIVATED');
		assert.deepEqual(request.headers, {
			'user-agent': 'hookcord/1.2.3',
			'x-forwarded-for': '198.51.100.7',
			'x-hookcord-event': '00000000000000000001',
			connection: 'close',
			'content-type': 'application/x-www-form-urlencoded',
			'content-length': '16',
			authorization: `Basic ${Buffer.from('u@x:p:w').toString('base64')}`,
		});
	});

	it('a GET without a body has no Content-Length; a target without a query takes the callback’s alone', () => {
		const request = composeForward(
			'http://billing.example/x',
			entry({ method: 'GET', body: '', query: 'RequestId=1' }),
			'1',
		);
		assert.equal(request.path, '/x?RequestId=1');
		assert.equal(request.headers['content-length'], undefined);
		assert.equal(composeForward('http://b.example/x?k=1', entry({ query: '' }), '1').path, '/x?k=1');
	});
});

describe('classifyForward (pure): retried only when the target cannot have acted', () => {
	const classify = (outcome: Outcome) =>
		classifyForward(outcome, 30_000, 1_000_000, 'https://panel.example/c');
	const sent = (status: number, extra: Partial<Extract<Outcome, { answered: true }>> = {}): Outcome => ({
		answered: true,
		status,
		...extra,
	});

	it('2xx is delivered', () => {
		for (const status of [200, 201, 204]) assert.equal(classify(sent(status)).verdict, 'delivered');
	});

	it('429, 502, 503, 504 and anything not sent whole are retried; Retry-After is honoured', () => {
		for (const status of [429, 502, 503, 504]) assert.equal(classify(sent(status)).verdict, 'retry');
		assert.deepEqual(classify(sent(429, { retryAfter: '7' })), {
			verdict: 'retry',
			reason: 'answered 429',
			retryAfterMs: 7000,
		});
		for (const error of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET'])
			assert.equal(classify({ answered: false, written: false, timedOut: false, error }).verdict, 'retry');
		assert.equal(
			classify({ answered: false, written: false, timedOut: true, error: 'timeout' }).verdict,
			'retry',
		);
	});

	it('everything that may have been acted on pauses, saying what happened', () => {
		assert.deepEqual(classify({ answered: false, written: true, timedOut: true, error: 'timeout' }), {
			verdict: 'pause',
			reason: 'no answer within 30 s (the request was sent)',
		});
		assert.match(
			(
				classify({ answered: false, written: true, timedOut: false, error: 'ECONNRESET' }) as {
					reason: string;
				}
			).reason,
			/cut after the request was sent \(ECONNRESET\)/,
		);
		assert.deepEqual(classify(sent(301, { location: 'https://panel.example/c?token=secret' })), {
			verdict: 'pause',
			reason: 'answered 301, a redirect to https://panel.example/c (not followed)',
		});
		assert.match(
			(classify(sent(302, { location: '/login' })) as { reason: string }).reason,
			/panel\.example\/login/,
		);
		for (const status of [400, 401, 403, 404, 408, 409, 500, 501, 505])
			assert.deepEqual(classify(sent(status)), { verdict: 'pause', reason: `answered ${status}` });
	});

	it('Retry-After as an HTTP date, in the past, unreadable, or absurdly far', () => {
		const now = Date.parse('2026-12-02T10:00:00Z');
		assert.equal(retryAfterMs('Wed, 02 Dec 2026 10:00:30 GMT', now), 30_000);
		assert.equal(retryAfterMs('Wed, 02 Dec 2026 09:00:00 GMT', now), 0);
		assert.equal(retryAfterMs('soon', now), undefined);
		assert.equal(retryAfterMs('99999999', now), 86_400_000);
	});
});

describe('sendForward on loopback: what the sender sees of each failure', () => {
	const panelWith = async (t: TestContext, answer: (index: number) => PanelAnswer) => {
		const panel = await startPanel((_request, index) => answer(index));
		t.after(() => panel.close());
		return panel;
	};
	const send = (url: string, timeoutMs = 5_000) =>
		sendForward(composeForward(`${url}/c/mofh`, entry(), '1'), timeoutMs);

	it('a refused connection was not written', async () => {
		const outcome = await send(await closedPort());
		assert.deepEqual(outcome, { answered: false, written: false, timedOut: false, error: 'ECONNREFUSED' });
	});

	it('a DNS failure was not written', async () => {
		const outcome = await send('http://hookcord-test.invalid');
		assert.equal(outcome.answered, false);
		assert.equal((outcome as { written: boolean }).written, false);
	});

	it('a connection reset as it opens was not written; the panel saw nothing', async (t) => {
		const panel = await panelWith(t, () => ({ status: 200 }));
		panel.resetOnConnect = true;
		const outcome = await send(panel.url);
		assert.equal(outcome.answered, false);
		assert.equal((outcome as { written: boolean }).written, false);
		assert.equal(panel.requests.length, 0);
	});

	it('a connection cut after the panel read the request was written', async (t) => {
		const panel = await panelWith(t, () => 'cut');
		const outcome = await send(panel.url);
		assert.equal(panel.requests.length, 1);
		assert.deepEqual(outcome, { answered: false, written: true, timedOut: false, error: 'ECONNRESET' });
	});

	it('no answer within the timeout, after the request was written', async (t) => {
		const panel = await panelWith(t, () => 'hang');
		const outcome = await send(panel.url, 300);
		assert.deepEqual(outcome, { answered: false, written: true, timedOut: true, error: 'timeout' });
	});

	it('a redirect is reported with its Location, never followed', async (t) => {
		const panel = await panelWith(t, () => ({
			status: 301,
			headers: { location: 'https://elsewhere.example/c' },
		}));
		const outcome = await send(panel.url);
		assert.deepEqual(outcome, { answered: true, status: 301, location: 'https://elsewhere.example/c' });
		assert.equal(panel.requests.length, 1);
	});

	it('429 with Retry-After', async (t) => {
		const panel = await panelWith(t, () => ({ status: 429, headers: { 'retry-after': '3' } }));
		assert.deepEqual(await send(panel.url), { answered: true, status: 429, retryAfter: '3' });
	});
});
