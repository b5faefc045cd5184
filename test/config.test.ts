import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig, parseDuration } from '../src/config.js';
import { createAllowlist } from '../src/net/allowlist.js';
import { runScript, scratchDir, startHookcord } from './process.js';
import { privateStore, unavailable } from './stores.js';

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
		assert.equal(config.delivery.leaderLease, 15_000);
		assert.equal(config.delivery.sweep, 15_000);
		assert.equal(config.instanceId, undefined, 'the service names it hostname:pid');
		assert.deepEqual(config.mofh, { apiUrl: 'https://panel.myownfreehost.net' });
	});

	it('reads the leadership settings', () => {
		const config = parseConfig({
			LEADER_LEASE: '3s',
			OUTBOX_SWEEP: '300ms',
			INSTANCE_ID: 'hookcord-2',
			DELIVERY: 'off',
		});
		assert.equal(config.delivery.leaderLease, 3000);
		assert.equal(config.delivery.sweep, 300);
		assert.equal(config.instanceId, 'hookcord-2');
		assert.equal(config.delivery.enabled, false);
	});

	it('reads the MOFH reseller API settings, and never echoes the API password', () => {
		const config = parseConfig({
			MOFH_API_URL: 'https://panel.example.net/',
			MOFH_API_USERNAME: 'reseller_api',
			MOFH_API_PASSWORD: 'p@ss word:with#all',
		});
		assert.deepEqual(config.mofh, {
			apiUrl: 'https://panel.example.net',
			username: 'reseller_api',
			password: 'p@ss word:with#all',
		});
		assert.throws(
			() => parseConfig({ MOFH_API_URL: 'ftp://x', MOFH_API_PASSWORD: 'line one\nline two' }),
			(error: unknown) =>
				error instanceof ConfigError &&
				/MOFH_API_URL: expected an http\(s\) URL/.test(error.message) &&
				/MOFH_API_PASSWORD: expected the MOFH API password$/m.test(error.message) &&
				!error.message.includes('line one'),
		);
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
		assert.deepEqual(config.discord.guildIds, []);
		const guilds = parseConfig({ DISCORD_GUILD_ID: '123456789012345678, 223456789012345678,' });
		assert.deepEqual(guilds.discord.guildIds, ['123456789012345678', '223456789012345678']);
		assert.deepEqual(config.trustProxy, ['10.0.0.0/8', '::1']);
		assert.deepEqual(config.delivery.retrySchedule, [1000, 500, 120_000]);
		assert.equal(config.publicUrl, 'https://hooks.example.com');
		assert.equal(parseDuration('48h'), 172_800_000);
		assert.equal(parseDuration('soon'), undefined);
	});

	it('reads the delivery pace and digest threshold, with defaults that match Discord', () => {
		const defaults = parseConfig({}).delivery;
		assert.deepEqual(defaults.rate, { messages: 5, perMs: 5_000 });
		assert.equal(defaults.digestThreshold, 50);
		const set = parseConfig({ DELIVERY_RATE: '3/2.5s', DIGEST_THRESHOLD: '20' }).delivery;
		assert.deepEqual(set.rate, { messages: 3, perMs: 2_500 });
		assert.equal(set.digestThreshold, 20);
		for (const [name, value] of [
			['DELIVERY_RATE', '5'],
			['DELIVERY_RATE', '0/5s'],
			['DELIVERY_RATE', '5/soon'],
			['DIGEST_THRESHOLD', '1'],
		] as const) {
			assert.throws(() => parseConfig({ [name]: value }), new RegExp(`${name}: expected`));
		}
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
		[{ LEADER_LEASE: '500ms' }, /LEADER_LEASE: expected a duration from 1s to 10m/],
		[{ INSTANCE_ID: 'two words' }, /INSTANCE_ID: expected up to 64 characters/],
		[{ REQUEST_TIMEOUT: '0s' }, /REQUEST_TIMEOUT: expected at least 100ms/],
		[{ MAX_CONNECTIONS_PER_ADDRESS: '0' }, /MAX_CONNECTIONS_PER_ADDRESS/],
		[{ DISCORD_GUILD_ID: '123456789012345678,my-server' }, /DISCORD_GUILD_ID: expected a guild id/],
		[{ DISCORD_GUILD_ID: '1234567890123456789012' }, /DISCORD_GUILD_ID: expected a guild id/],
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

	it('never echoes STORE_URL or an *_API_URL in a config error: they may carry a password', () => {
		for (const [name, value] of [
			['STORE_URL', 'mysql://admin:hunter2@db.example.com/hookcord'],
			['STORE_URL', 'postgres:/db.example.com/x?password=hunter2'],
			['DISCORD_API_URL', 'ftp://user:hunter2@proxy.example.com/api'],
			['WOOXY_API_URL', 'gopher://user:hunter2@wooxy.example.com'],
		] as const) {
			assert.throws(
				() => parseConfig({ [name]: value }),
				(error: unknown) =>
					error instanceof ConfigError &&
					error.message.includes(name) &&
					!error.message.includes('hunter2') &&
					!error.message.includes('example.com'),
				`${name}=${value}`,
			);
		}
	});

	it('validates every entry of every address list the way the lists use them', () => {
		const refused: Record<string, string>[] = [
			{ TRUST_PROXY: '127.0.0.1,bogus' },
			{ TRUST_PROXY: '10.0.0.0/8, 10.0.0.300' },
			{ MOFH_ALLOWED_IPS: '203.0.113.5,not-an-address' },
			{ XOLPHIN_ALLOWED_IPS: '185.93.12.91/24/1' },
			{ WOOXY_ALLOWED_IPS: '::ffff:188.226.196.117/129' },
		];
		for (const env of refused) {
			const [name] = Object.keys(env);
			assert.throws(
				() => parseConfig(env),
				(error: unknown) => error instanceof ConfigError && error.message.includes(`${name}: expected`),
				JSON.stringify(env),
			);
		}
		// An IPv4-mapped IPv6 entry is the IPv4 address it carries, so it matches IPv4 clients.
		const config = parseConfig({
			WOOXY_ALLOWED_IPS: '::ffff:188.226.196.117',
			MOFH_ALLOWED_IPS: '::ffff:10.0.0.0/104',
			TRUST_PROXY: '::ffff:127.0.0.1,10.1.0.0/16',
		});
		const wooxy = createAllowlist(config.allowedIps.wooxy);
		assert.ok(wooxy('188.226.196.117'));
		assert.ok(wooxy('::ffff:188.226.196.117'));
		assert.ok(!wooxy('188.226.196.118'));
		const mofh = createAllowlist(config.allowedIps.mofh);
		assert.ok(mofh('10.200.3.4'));
		assert.ok(!mofh('11.0.0.1'));
		assert.ok(createAllowlist(config.trustProxy)('127.0.0.1'));
	});

	it('refuses TRUST_PROXY=true (any client could choose its address), naming CIDR ranges as the fix', () => {
		for (const value of ['true', 'TRUE', '*', '0.0.0.0/0', '10.0.0.1,::/0']) {
			assert.throws(
				() => parseConfig({ TRUST_PROXY: value }),
				(error: unknown) =>
					error instanceof ConfigError &&
					/TRUST_PROXY: trusting every address lets any client choose its address/.test(error.message) &&
					/CIDR ranges instead, e\.g\. 127\.0\.0\.1 or 10\.0\.0\.0\/8/.test(error.message),
				value,
			);
		}
		assert.deepEqual(parseConfig({ TRUST_PROXY: 'false' }).trustProxy, []);
		assert.deepEqual(parseConfig({}).trustProxy, []);
	});

	it('refuses TRUST_PROXY entries that together trust every IPv4 or every IPv6 address', () => {
		for (const value of [
			'0.0.0.0/1,128.0.0.0/1',
			'128.0.0.0/1, 0.0.0.0/2, 64.0.0.0/2',
			'::ffff:0.0.0.0/97,::ffff:128.0.0.0/97',
			'::/1,8000::/1',
			'10.0.0.1,0.0.0.0/1,127.0.0.1,128.0.0.0/1',
		]) {
			assert.throws(
				() => parseConfig({ TRUST_PROXY: value }),
				(error: unknown) =>
					error instanceof ConfigError &&
					/TRUST_PROXY: trusting every address lets any client choose its address/.test(error.message),
				value,
			);
		}
		// Half the addresses, or every private range, is a choice the operator may make.
		assert.deepEqual(parseConfig({ TRUST_PROXY: '0.0.0.0/1' }).trustProxy, ['0.0.0.0/1']);
		assert.equal(
			parseConfig({ TRUST_PROXY: '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7' }).trustProxy.length,
			4,
		);
	});

	const refusedAtStart: [Record<string, string>, RegExp][] = [
		[
			{ TRUST_PROXY: '127.0.0.1,bogus' },
			/TRUST_PROXY: expected comma-separated IP addresses or CIDR ranges.*entry 2/,
		],
		[{ TRUST_PROXY: 'true' }, /TRUST_PROXY: trusting every address/],
		[{ MOFH_ALLOWED_IPS: '::ffff:188.226.196.117/200' }, /MOFH_ALLOWED_IPS: expected comma-separated/],
		[{ STORE_URL: 'mysql://admin:hunter2@db.example.com/x' }, /STORE_URL: expected sqlite/],
	];
	for (const [env, message] of refusedAtStart) {
		const [name, value] = Object.entries(env)[0] as [string, string];
		const shown = name === 'STORE_URL' ? 'a URL with a password' : value;
		it(`the process refuses ${name}=${shown} with exit 78 and no stack trace`, async (t) => {
			const dir = scratchDir();
			t.after(dir.remove);
			await assert.rejects(startHookcord(env, dir.path, 10_000), (error: Error) => {
				assert.match(error.message, /exited early \(78\)/);
				assert.match(error.message, message);
				assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
				assert.ok(!error.message.includes('hunter2'));
				return true;
			});
		});
	}

	it('the process takes an IPv4-mapped allowlist entry and lets that IPv4 address in', async (t) => {
		const dir = scratchDir();
		t.after(dir.remove);
		const running = await startHookcord(
			{
				STORE_URL: 'memory://',
				HOOK_SECRET: 'mapped-test-secret-0123',
				WOOXY_ALLOWED_IPS: '::ffff:127.0.0.1',
			},
			dir.path,
		);
		t.after(() => running.kill('SIGKILL'));
		const res = await fetch(`${running.url}/hooks/wooxy/mapped-test-secret-0123`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ event: 'read', email: 'a@example.com', id: 'm1' }),
		});
		assert.equal(res.status, 200, await res.text());
		await running.kill('SIGTERM');
	});

	it('the start-up banner shows a store as scheme, host, port and path, without its password', async (t) => {
		const reason = unavailable('postgres');
		if (reason) return t.skip(reason);
		const dir = scratchDir();
		t.after(dir.remove);
		const { url, drop } = privateStore('postgres');
		t.after(drop);
		// Trust authentication on the test server: any password is accepted, so both forms reach the banner.
		const withPassword = new URL(url);
		withPassword.password = 'hun@ter2';
		withPassword.searchParams.set('password', 'hunter3');
		const running = await startHookcord({ STORE_URL: withPassword.href }, dir.path);
		t.after(() => running.kill('SIGKILL'));
		const shown = /\(store: ([^)]*)\)/.exec(running.stdout())?.[1];
		assert.equal(shown, `postgres://${withPassword.host}${withPassword.pathname}`);
		for (const leak of ['hun', 'ter2', 'hunter3', 'password'])
			assert.ok(!`${running.stdout()}${running.stderr()}`.includes(leak), `${leak} is not shown`);
		const ready = await (await fetch(`${running.url}/readyz`)).text();
		assert.ok(!ready.includes(withPassword.host), '/readyz does not say where the store is');
		assert.equal(await running.kill('SIGTERM'), 0);
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

	it('prints the callback URLs in full only on the start that generated the secret; npm run urls on demand', async (t) => {
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
		assert.ok(!second.stdout().includes(secret), 'a later start does not print the secret');
		assert.match(second.stdout(), /https:\/\/hooks\.example\.com\/hooks\/mofh\/\[secret\]/);
		assert.match(second.stdout(), /npm run urls/);
		assert.ok(!second.stderr().includes(secret), 'logs never carry it');

		const urls = await runScript('scripts/urls.ts', { env, cwd: dir.path });
		assert.equal(urls.code, 0, urls.stderr);
		assert.ok(
			urls.stdout.includes(`https://hooks.example.com/hooks/mofh/${secret}`),
			'the same secret, in full',
		);
		assert.ok(urls.stdout.includes(`https://hooks.example.com/hooks/wooxy/${secret}`));
		await second.kill('SIGTERM');
	});

	it('never prints a configured HOOK_SECRET at start-up', async (t) => {
		const dir = scratchDir();
		t.after(dir.remove);
		const secret = 'configured-secret-0123456789';
		const env = { STORE_URL: `sqlite://${dir.path}/store.sqlite`, HOOK_SECRET: secret };
		const running = await startHookcord(env, dir.path);
		t.after(() => running.kill('SIGKILL'));
		assert.ok(!running.stdout().includes(secret));
		assert.match(running.stdout(), /\/hooks\/xolphin\/\[secret\]/);
		await running.kill('SIGTERM');
		const urls = await runScript('scripts/urls.ts', { env, cwd: dir.path });
		assert.ok(urls.stdout.includes(`/hooks/xolphin/${secret}`));
	});
});
