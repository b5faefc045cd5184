import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { createMetrics } from '../src/metrics/metrics.js';
import { parseExposition } from './exposition.js';
import { buildTestApp, form, SECRET } from './helpers.js';
import { startInteractions } from './interactions.js';

const STAFF_ROLE = '223456789012345678';
const urlencoded = { 'content-type': 'application/x-www-form-urlencoded' };

async function scrape(address: string) {
	const res = await request(`${address}/metrics`);
	assert.equal(res.statusCode, 200);
	assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
	return parseExposition(await res.body.text());
}

describe('Prometheus metrics on METRICS_PORT', () => {
	it('count real callbacks and commands, start every known series at 0, and stay off the public port', async (t) => {
		const f = await startInteractions(
			(discord) => ({
				HOOK_SECRET: SECRET,
				DISCORD_GUILD_ID: discord.guildId,
				STAFF_ROLE_IDS: STAFF_ROLE,
				ALERTS_CHANNEL: 'off',
				METRICS_PORT: '0',
			}),
			{ gateway: false, who: { roles: [STAFF_ROLE] } },
		);
		t.after(() => f.close());
		const metricsAddress = f.service.metricsAddress as string;
		assert.match(metricsAddress, /^http:\/\/127\.0\.0\.1:\d+$/, 'loopback by default');
		assert.notEqual(metricsAddress, f.service.address);

		const before = await scrape(metricsAddress);
		assert.equal(before.types.get('hookcord_callbacks_total'), 'counter');
		const stored = { provider: 'mofh', kind: 'account.suspended', outcome: 'stored' };
		assert.equal(before.value('hookcord_callbacks_total', stored), 0, 'present at 0 from the start');
		assert.equal(
			before.value('hookcord_notifications_failed_total', {
				destination_kind: 'channel',
				reason: 'serverError',
			}),
			0,
		);
		assert.equal(before.value('hookcord_commands_total', { command: 'cert', outcome: 'ok' }), 0);
		assert.equal(
			before.value('hookcord_build_info', { version: '0.1.0', nodejs_version: process.versions.node }),
			1,
		);
		assert.ok(before.series('process_cpu_user_seconds_total').length === 1, 'process metrics');
		assert.ok(before.series('nodejs_eventloop_lag_seconds').length === 1, 'event-loop metrics');
		assert.equal(before.value('hookcord_leader'), 1, 'one process delivering leads');

		const suspend = form({
			username: 'host_10000001',
			status: 'SUSPENDED',
			comments: 'ADMIN_CLOSE : PHISHING',
		});
		const post = (url: string, payload: string) =>
			f.service.app.inject({ method: 'POST', url, headers: urlencoded, payload });
		assert.equal((await post(`/hooks/mofh/${SECRET}`, suspend)).statusCode, 200);
		assert.equal((await post(`/hooks/mofh/${SECRET}`, suspend)).statusCode, 200, 'a provider retry');
		assert.equal((await post('/hooks/mofh/wrong-secret-0123456789', suspend)).statusCode, 404);
		assert.equal((await post(`/hooks/mofh/${SECRET}`, form({ status: 'ACTIVATED' }))).statusCode, 400);

		const ok = await f.run('http', f.command('cert', 'status', { request: '42' }));
		assert.match(ok.content ?? '', /No Xolphin webhooks/);
		await f.run('http', f.command('cert', 'status', { request: '42' }, { guildId: '999999999999999999' }));

		const after = await scrape(metricsAddress);
		assert.equal(after.value('hookcord_callbacks_total', stored), 1);
		assert.equal(after.value('hookcord_callbacks_total', { ...stored, outcome: 'duplicate' }), 1);
		assert.equal(
			after.value('hookcord_callbacks_total', { provider: 'mofh', kind: 'none', outcome: 'not_found' }),
			1,
		);
		assert.equal(
			after.value('hookcord_callbacks_total', { provider: 'mofh', kind: 'none', outcome: 'malformed' }),
			1,
		);
		assert.equal(after.value('hookcord_ingest_duration_seconds_count'), 2);
		assert.equal(after.value('hookcord_commands_total', { command: 'cert', outcome: 'ok' }), 1);
		assert.equal(after.value('hookcord_commands_total', { command: 'cert', outcome: 'refused' }), 1);
		assert.equal(after.value('hookcord_command_duration_seconds_count', { command: 'cert' }), 2);
		// The suspension is muted (ALERTS_CHANNEL=off): nothing waits in the outbox.
		assert.equal(after.value('hookcord_outbox_alerts'), 0);
		assert.equal(after.value('hookcord_dead_letters'), 0);

		const onPublic = await request(`${f.service.address}/metrics`);
		assert.equal(onPublic.statusCode, 404, 'never on the receiver port');
		await onPublic.body.dump();
	});

	it('keep the same series after thousands of distinct accounts, reasons and e-mail events', async (t) => {
		const metrics = createMetrics({ version: 'test', defaults: false });
		const harness = await buildTestApp({ ALERTS_CHANNEL: 'off' }, { metrics });
		t.after(() => harness.app.close());
		const seriesOf = async () =>
			parseExposition((await metrics.exposition()).body).samples.map(
				(sample) => `${sample.name}${JSON.stringify(sample.labels)}`,
			);
		const first = await seriesOf();
		for (let i = 0; i < 2000; i++) {
			const res = await harness.app.inject({
				method: 'POST',
				url: `/hooks/mofh/${SECRET}`,
				headers: urlencoded,
				payload: form({
					username: `host_${20000000 + i}`,
					status: 'SUSPENDED',
					comments: `ADMIN_CLOSE : MADE_UP_REASON_${i}`,
				}),
			});
			assert.equal(res.statusCode, 200);
		}
		for (let i = 0; i < 200; i++) {
			const res = await harness.app.inject({
				method: 'POST',
				url: `/hooks/wooxy/${SECRET}`,
				headers: { 'content-type': 'application/json' },
				payload: { event: `made-up-${i}`, email: `user${i}@example.com`, message_id: `m${i}` },
			});
			assert.ok(res.statusCode === 200 || res.statusCode === 400, res.body);
		}
		const last = await seriesOf();
		assert.deepEqual(last.sort(), first.sort(), 'no series appeared');
		const exposition = parseExposition((await metrics.exposition()).body);
		assert.equal(
			exposition.value('hookcord_callbacks_total', {
				provider: 'mofh',
				kind: 'account.suspended',
				outcome: 'stored',
			}),
			2000,
		);
	});

	it('read the outbox gauges from the store: backlog, oldest age and dead letters', async (t) => {
		let now = Date.UTC(2026, 0, 1, 12);
		const metrics = createMetrics({ version: 'test', defaults: false, cacheMs: 0, now: () => now });
		// A webhook that is never tried: the worker is stopped, so alerts wait in the outbox.
		const harness = await buildTestApp({}, { metrics, now: () => now });
		await harness.worker.stop();
		t.after(() => harness.app.close());
		for (const username of ['host_30000001', 'host_30000002'])
			await harness.app.inject({
				method: 'POST',
				url: `/hooks/mofh/${SECRET}`,
				headers: urlencoded,
				payload: form({ username, status: 'ACTIVATED' }),
			});
		now += 90_000;
		const [oldest] = await harness.outbox.page('stdout', 1);
		assert.ok(oldest);
		await harness.outbox.fail(oldest, 'stdout', now);
		const exposition = parseExposition((await metrics.exposition()).body);
		assert.equal(exposition.value('hookcord_outbox_alerts'), 1);
		assert.equal(exposition.value('hookcord_dead_letters'), 1);
		assert.equal(exposition.value('hookcord_outbox_oldest_age_seconds'), 90);
	});

	it('show each configured forward target, its backlog and whether it is held for staff', async (t) => {
		const metrics = createMetrics({ version: 'test', defaults: false, cacheMs: 0 });
		const harness = await buildTestApp(
			{ ALERTS_CHANNEL: 'off', MOFH_FORWARD_TO: 'http://127.0.0.1:9/panel/callback' },
			{ metrics },
		);
		// Nothing delivers: the forwards wait in the outbox.
		await harness.worker.stop();
		t.after(() => harness.app.close());
		for (const username of ['host_50000001', 'host_50000002'])
			await harness.app.inject({
				method: 'POST',
				url: `/hooks/mofh/${SECRET}`,
				headers: urlencoded,
				payload: form({ username, status: 'ACTIVATED' }),
			});
		const [target] = harness.config.forward.targets;
		assert.ok(target);
		const exposition = parseExposition((await metrics.exposition()).body);
		const labels = { target: target.key, provider: 'mofh' };
		assert.equal(exposition.value('hookcord_forward_backlog', labels), 2);
		assert.equal(exposition.value('hookcord_forward_target_paused', labels), 0);
		assert.ok(
			!JSON.stringify(exposition.series('hookcord_forward_backlog')).includes('127.0.0.1'),
			'never the URL',
		);
	});
});
