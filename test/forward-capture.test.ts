import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { composeForward } from '../src/delivery/forward/request.js';
import { sendForward } from '../src/delivery/forward/send.js';
import { accountOf, forwardDestination, orderKey } from '../src/state/forwards.js';
import type { OutboxEntry } from '../src/state/outbox.js';
import { startPanel } from './doubles/panel.js';
import { buildTestApp, form, multipart, SECRET } from './helpers.js';

const PANEL = 'https://panel.example.com/c/mofh?key=k1';

/** The receiver with forward targets, and what it stored for them. */
async function receiver(t: TestContext, env: Record<string, string>) {
	const built = await buildTestApp(env);
	t.after(() => built.app.close());
	// Nothing to send them to here (the targets do not exist): stopped, so what was stored stays.
	await built.worker.stop();
	const stored = async (): Promise<OutboxEntry[]> => {
		const all: OutboxEntry[] = [];
		for (const target of built.config.forward.targets)
			all.push(...(await built.outbox.page(forwardDestination(target.key), 1000)));
		return all;
	};
	return { ...built, stored };
}

/** Sends a stored entry to the panel double as the forwarder would, and returns what the panel received. */
async function throughPanel(t: TestContext, entry: OutboxEntry, targetPath = '/c/mofh?key=k1') {
	const panel = await startPanel();
	t.after(() => panel.close());
	assert.ok(entry.request, 'stored with the request as it arrived');
	const request = composeForward(
		`${panel.url}${targetPath}`,
		{ event: entry.event, request: entry.request },
		'9.9.9',
	);
	const outcome = await sendForward(request, 5_000);
	assert.deepEqual(outcome, { answered: true, status: 200 });
	assert.equal(panel.requests.length, 1);
	return panel.requests[0] as NonNullable<(typeof panel.requests)[0]>;
}

describe('a callback is kept as it arrived, in its unit, for each target of its provider', () => {
	it('multipart: the body byte for byte with its boundary, and the query after the target’s own', async (t) => {
		const { app, stored } = await receiver(t, { MOFH_FORWARD_TO: PANEL });
		const { body, contentType } = multipart(
			{ username: 'abcd_123', status: 'ACTIVATED', comments: 'é ü' },
			{ boundary: '----mofhXyZ' },
		);
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}?from=mofh&x=%20y`,
			headers: { 'content-type': contentType },
			payload: body,
		});
		assert.equal(res.statusCode, 200, res.body);
		const [entry] = await stored();
		assert.ok(entry);
		assert.equal(entry.event.kind, 'account.activated');
		assert.equal(accountOf(entry.event), 'abcd_123');
		assert.equal(orderKey(entry.event), 'mofh:abcd_123');
		const got = await throughPanel(t, entry);
		assert.equal(got.method, 'POST');
		assert.equal(got.url, '/c/mofh?key=k1&from=mofh&x=%20y');
		assert.equal(got.headers['content-type'], 'multipart/form-data; boundary=----mofhXyZ');
		assert.deepEqual(got.body, Buffer.from(body));
		assert.equal(got.headers['x-hookcord-event'], entry.event.id);
		assert.equal(got.headers['x-forwarded-for'], '127.0.0.1');
		assert.equal(got.headers['user-agent'], 'hookcord/9.9.9');
		assert.ok(!JSON.stringify(got).includes(SECRET), 'the hook secret never reaches the panel');
	});

	it('urlencoded with a query string (MOFH-R reads the username from the query)', async (t) => {
		const { app, stored } = await receiver(t, { MOFH_FORWARD_TO: PANEL });
		const payload = 'status=sql200&comments=sql200.example.com&x=a+b%26c';
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}?username=abcd_123`,
			headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
			payload,
		});
		assert.equal(res.statusCode, 200, res.body);
		const [entry] = await stored();
		assert.ok(entry);
		assert.equal(entry.event.kind, 'account.sql_cluster');
		const got = await throughPanel(t, entry, '/c.php');
		assert.equal(got.url, '/c.php?username=abcd_123');
		assert.equal(got.headers['content-type'], 'application/x-www-form-urlencoded; charset=UTF-8');
		assert.equal(got.body.toString(), payload);
	});

	it('Xolphin’s GET stays a GET with its query, and no body', async (t) => {
		const { app, stored } = await receiver(t, { XOLPHIN_FORWARD_TO: 'http://billing.example/xolphin' });
		const query = 'RequestId=960000031&Status=Updated&State=DCV&Domain=example.com&At=10%3A00';
		const res = await app.inject({ method: 'GET', url: `/hooks/xolphin/${SECRET}?${query}` });
		assert.equal(res.statusCode, 200, res.body);
		const [entry] = await stored();
		assert.ok(entry);
		assert.equal(orderKey(entry.event), 'xolphin:960000031');
		const got = await throughPanel(t, entry, '/xolphin');
		assert.equal(got.method, 'GET');
		assert.equal(got.url, `/xolphin?${query}`);
		assert.equal(got.body.length, 0);
		assert.equal(got.headers['content-length'], undefined);
	});

	it('Wooxy’s JSON goes byte for byte (spacing and key order kept)', async (t) => {
		const { app, stored } = await receiver(t, { WOOXY_FORWARD_TO: 'http://mail.example/hook' });
		const payload =
			'{ "datetime":1234567890,  "event":"read","email":"user@example.com", "id":"5537ab2a08d241dc69326b19","userId":"u-1","headers":{} }';
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/wooxy/${SECRET}`,
			headers: { 'content-type': 'application/json' },
			payload,
		});
		assert.equal(res.statusCode, 200, res.body);
		const [entry] = await stored();
		assert.ok(entry, 'stored for the Wooxy target');
		assert.equal(orderKey(entry.event), 'wooxy:5537ab2a08d241dc69326b19');
		const got = await throughPanel(t, entry, '/hook');
		assert.equal(got.body.toString(), payload);
		assert.equal(got.headers['content-type'], 'application/json');
	});

	it('two targets: one entry each; a provider retry collapsed as a duplicate is not queued again', async (t) => {
		const { app, stored, config } = await receiver(t, {
			MOFH_FORWARD_TO: `${PANEL}, http://second.example/cb`,
		});
		const post = () =>
			app.inject({
				method: 'POST',
				url: `/hooks/mofh/${SECRET}`,
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
				payload: form({ username: 'abcd_123', status: 'SUSPENDED', comments: 'DAILY_HIT' }),
			});
		const first = await post();
		const again = await post();
		assert.equal(first.statusCode, 200);
		assert.equal(again.json().duplicate, true);
		const entries = await stored();
		assert.equal(entries.length, 2);
		assert.deepEqual(
			entries.map((entry) => entry.destination).sort(),
			config.forward.targets.map((target) => forwardDestination(target.key)).sort(),
		);
		assert.ok(entries.every((entry) => entry.event.id === first.json().id));
	});

	it('nothing is kept for a provider without targets, and the body limit still holds', async (t) => {
		const { app, stored } = await receiver(t, { XOLPHIN_FORWARD_TO: 'http://billing.example/xolphin' });
		const res = await app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			payload: form({ username: 'abcd_123', status: 'ACTIVATED' }),
		});
		assert.equal(res.statusCode, 200);
		assert.equal((await stored()).length, 0);

		const mofh = await receiver(t, { MOFH_FORWARD_TO: PANEL });
		const big = multipart({ username: 'abcd_123', status: 'ACTIVATED', comments: 'x'.repeat(60_000) });
		const huge = `${big.body}${'e'.repeat(8_000)}`;
		const over = await mofh.app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: { 'content-type': big.contentType },
			payload: huge,
		});
		assert.equal(over.statusCode, 413, over.body);
		assert.equal((await mofh.stored()).length, 0);
	});
});
