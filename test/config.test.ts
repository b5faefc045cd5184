import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig, parseDuration } from '../src/config.js';
import { scratchDir, startHookcord } from './process.js';

describe('configuration', () => {
	it('has working defaults for a first start', () => {
		const config = parseConfig({});
		assert.equal(config.port, 3000);
		assert.equal(config.publicUrl, 'http://localhost:3000');
		assert.equal(config.storeUrl, 'sqlite://data/hookcord.sqlite');
		assert.equal(config.discord.apiUrl, 'https://discord.com/api');
		assert.deepEqual(config.allowedIps.xolphin, [
			'185.93.12.91',
			'185.93.12.111',
			'2a03:8de0:1:1::91',
			'2a03:8de0:1:1::111',
		]);
		assert.deepEqual(config.allowedIps.wooxy, ['188.226.196.117']);
		assert.deepEqual(config.allowedIps.mofh, ['*']);
		assert.equal(config.hookSecret, undefined);
		assert.equal(config.delivery.enabled, true);
	});

	it('treats an empty variable as unset', () => {
		assert.equal(parseConfig({ PORT: '', XOLPHIN_ALLOWED_IPS: ' ' }).port, 3000);
		assert.equal(parseConfig({ XOLPHIN_ALLOWED_IPS: '' }).allowedIps.xolphin.length, 4);
	});

	it('reads destinations, topics, lists and durations', () => {
		const config = parseConfig({
			ALERTS_CHANNEL: '123456789012345678',
			ALERTS_CHANNEL_CERTS: 'off',
			ALERTS_CHANNEL_EMAIL: 'https://discord.com/api/webhooks/123456789012345678/abcDEF_-123',
			STAFF_ROLE_IDS: '1, 2,3',
			TRUST_PROXY: '10.0.0.0/8,::1',
			RETRY_SCHEDULE: '1s,500ms,2m',
			PUBLIC_URL: 'https://hooks.example.com/',
		});
		assert.equal(config.alerts.default, '123456789012345678');
		assert.equal(config.alerts.topics.CERTS, 'off');
		assert.match(config.alerts.topics.EMAIL ?? '', /webhooks/);
		assert.deepEqual(config.staffRoleIds, ['1', '2', '3']);
		assert.deepEqual(config.trustProxy, ['10.0.0.0/8', '::1']);
		assert.deepEqual(config.delivery.retrySchedule, [1000, 500, 120_000]);
		assert.equal(config.publicUrl, 'https://hooks.example.com');
		assert.equal(parseDuration('48h'), 172_800_000);
		assert.equal(parseDuration('soon'), undefined);
	});

	it('takes Discord webhook URLs on any host, with or without /api, keeping a thread query', () => {
		for (const url of [
			'https://discord.com/api/webhooks/123456789012345678/abc-DEF_123',
			'https://discord.com/api/v10/webhooks/123/abc?thread_id=42',
			'http://127.0.0.1:8080/webhooks/1/token',
		]) {
			assert.equal(parseConfig({ ALERTS_CHANNEL: url }).alerts.default, url);
		}
		assert.throws(
			() => parseConfig({ ALERTS_CHANNEL: 'https://discord.com/api/channels/1/messages' }),
			ConfigError,
		);
	});

	const wrong: [Record<string, string>, RegExp][] = [
		[{ PORT: 'abc' }, /PORT: expected a port number.*\(got "abc"\)/],
		[{ PORT: '70000' }, /PORT/],
		[{ HOOK_SECRET: 'short' }, /HOOK_SECRET: expected 16 to 128 characters/],
		[{ STORE_URL: 'mysql://x' }, /STORE_URL: expected sqlite:\/\/path/],
		[{ ALERTS_CHANNEL: '#alerts' }, /ALERTS_CHANNEL: expected a channel id/],
		[{ ALERTS_CHANNEL_SUSPENSIONS: 'https://example.com/hook' }, /ALERTS_CHANNEL_SUSPENSIONS/],
		[{ XOLPHIN_ALLOWED_IPS: '185.93.12.300' }, /XOLPHIN_ALLOWED_IPS: expected comma-separated IP addresses/],
		[{ MOFH_ALLOWED_IPS: '10.0.0.0/33' }, /MOFH_ALLOWED_IPS/],
		[{ DISCORD_PUBLIC_KEY: 'xyz' }, /DISCORD_PUBLIC_KEY: expected the 64-hex-digit public key/],
		[{ RETRY_BUDGET: 'forever' }, /RETRY_BUDGET: expected a duration/],
		[{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
		[{ DELIVERY: 'maybe' }, /DELIVERY: expected on or off/],
	];
	for (const [env, message] of wrong) {
		it(`refuses ${JSON.stringify(env)} naming the variable`, () => {
			assert.throws(
				() => parseConfig(env),
				(error: unknown) => error instanceof ConfigError && message.test(error.message),
			);
		});
	}

	it('lists every wrong variable at once and never echoes a secret', () => {
		try {
			parseConfig({
				PORT: 'x',
				DISCORD_TOKEN: 'has spaces in it',
				HOOK_SECRET: 'tiny!',
				ALERTS_CHANNEL_EMAIL: 'https://discord.com/api/webhooks/1/tok en-with-a-space',
			});
			assert.fail('expected a ConfigError');
		} catch (error) {
			assert.ok(error instanceof ConfigError);
			assert.match(error.message, /PORT/);
			assert.match(error.message, /DISCORD_TOKEN/);
			assert.match(error.message, /HOOK_SECRET/);
			assert.ok(!error.message.includes('has spaces in it'));
			assert.ok(!error.message.includes('tiny!'));
			assert.match(error.message, /ALERTS_CHANNEL_EMAIL/);
			assert.ok(!error.message.includes('tok en'));
		}
	});

	it('the process stops with exit code 78 and names the variable from .env', async (t) => {
		const dir = scratchDir();
		t.after(dir.remove);
		writeFileSync(join(dir.path, '.env'), 'PORT=3000\nRETRY_BUDGET=forever\n');
		await assert.rejects(
			startHookcord({}, dir.path, 10_000),
			/exited early \(78\)[\s\S]*RETRY_BUDGET: expected a duration/,
		);
	});

	it('generates the hook secret once, keeps it in the store and prints the callback URLs with it', async (t) => {
		const dir = scratchDir();
		t.after(dir.remove);
		const env = { STORE_URL: `sqlite://${dir.path}/store.sqlite`, PUBLIC_URL: 'https://hooks.example.com' };
		const first = await startHookcord(env, dir.path);
		t.after(() => first.kill('SIGKILL'));
		const secret = /hooks\/mofh\/([\w-]+)/.exec(first.stdout())?.[1];
		assert.ok(secret && secret.length >= 16);
		assert.match(first.stdout(), new RegExp(`https://hooks\\.example\\.com/hooks/xolphin/${secret}`));
		assert.match(first.stdout(), new RegExp(`https://hooks\\.example\\.com/hooks/wooxy/${secret}`));
		assert.equal(await first.kill('SIGTERM'), 0);
		const second = await startHookcord(env, dir.path);
		t.after(() => second.kill('SIGKILL'));
		assert.ok(second.stdout().includes(`/hooks/mofh/${secret}`), 'the same secret after a restart');
		assert.ok(!second.stderr().includes(secret), 'logs never carry it');
		await second.kill('SIGTERM');
	});
});
