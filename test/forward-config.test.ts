import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../src/config.js';
import { runScript, scratchDir } from './process.js';

/** A credential-looking marker inside every refused value: it must never be echoed. */
const MARK = 'hunter2secret';

const refused: [string, Record<string, string>, RegExp][] = [
	[
		'not http(s)',
		{ MOFH_FORWARD_TO: `ftp://u:${MARK}@panel.example/c` },
		/MOFH_FORWARD_TO: expected an http\(s\) URL/,
	],
	['unparsable', { XOLPHIN_FORWARD_TO: `panel ${MARK}` }, /XOLPHIN_FORWARD_TO: expected an http\(s\) URL/],
	[
		'the second entry of a list',
		{ WOOXY_FORWARD_TO: `https://ok.example/a, javascript:${MARK}` },
		/WOOXY_FORWARD_TO: .*\(entry 2\)/,
	],
	[
		"hookcord's own hook route on PUBLIC_URL",
		{
			PUBLIC_URL: 'https://hooks.example.com',
			MOFH_FORWARD_TO: `https://hooks.example.com/hooks/mofh/${MARK}`,
		},
		/MOFH_FORWARD_TO: is hookcord's own hook route/,
	],
	[
		"hookcord's own hook route on loopback and PORT",
		{ PORT: '3100', MOFH_FORWARD_TO: `http://127.0.0.1:3100/hooks/mofh/${MARK}` },
		/MOFH_FORWARD_TO: is hookcord's own hook route/,
	],
	[
		'a URL holding the hook secret',
		{ HOOK_SECRET: `${MARK}0123456789`, MOFH_FORWARD_TO: `https://panel.example/c?s=${MARK}0123456789` },
		/MOFH_FORWARD_TO: is hookcord's own hook route/,
	],
	[
		'the same target twice',
		{ MOFH_FORWARD_TO: `https://p.example/${MARK},https://p.example/${MARK}` },
		/twice/,
	],
	[
		'concurrency 0',
		{ FORWARD_CONCURRENCY: '0' },
		/FORWARD_CONCURRENCY: expected a number of requests from 1 to 64/,
	],
	[
		'concurrency 65',
		{ FORWARD_CONCURRENCY: '65' },
		/FORWARD_CONCURRENCY: expected a number of requests from 1 to 64/,
	],
	['concurrency 2.5', { FORWARD_CONCURRENCY: '2.5' }, /FORWARD_CONCURRENCY: expected a whole number/],
	['a timeout that is not a duration', { FORWARD_TIMEOUT: 'long' }, /FORWARD_TIMEOUT: expected a duration/],
	[
		'an OPS destination that is not one',
		{ ALERTS_CHANNEL_OPS: `#ops-${MARK}` },
		/ALERTS_CHANNEL_OPS: expected a channel id/,
	],
];

describe('forwarding configuration', () => {
	for (const [what, env, message] of refused) {
		it(`refuses ${what}, naming the variable and never echoing the value`, () => {
			assert.throws(
				() => parseConfig({ STORE_URL: 'memory://', ...env }),
				(error: unknown) => {
					assert.ok(error instanceof ConfigError);
					assert.match(error.message, message);
					assert.ok(!error.message.includes(MARK), error.message);
					return true;
				},
			);
		});
	}

	it('targets per provider, shown as scheme, host and path; defaults 30 s and 4', () => {
		const config = parseConfig({
			MOFH_FORWARD_TO: 'https://user:pass@panel.example.com/c/mofh?key=k, http://second.example:8080/cb',
			WOOXY_FORWARD_TO: 'https://panel.example.com/c/mofh?key=k',
			ALERTS_CHANNEL_OPS: '123456789012345678',
		});
		assert.deepEqual(
			config.forward.targets.map(({ provider, shown }) => [provider, shown]),
			[
				['mofh', 'https://panel.example.com/c/mofh'],
				['mofh', 'http://second.example:8080/cb'],
				['wooxy', 'https://panel.example.com/c/mofh'],
			],
		);
		const keys = config.forward.targets.map((target) => target.key);
		assert.equal(new Set(keys).size, 3, 'one URL for two providers is two targets');
		assert.ok(keys.every((key) => /^[0-9a-z]{12}$/.test(key)));
		assert.equal(config.forward.timeoutMs, 30_000);
		assert.equal(config.forward.concurrency, 4);
		assert.equal(config.alerts.topics.OPS, '123456789012345678');
	});

	it('the process exits 78 at start, naming the variable, without the value', async () => {
		const dir = scratchDir();
		try {
			const { code, stderr, stdout } = await runScript('src/main.ts', {
				env: { STORE_URL: 'memory://', MOFH_FORWARD_TO: `gopher://u:${MARK}@panel.example/` },
				cwd: dir.path,
			});
			assert.equal(code, 78, stderr);
			assert.match(stderr, /MOFH_FORWARD_TO: expected an http\(s\) URL/);
			assert.ok(!`${stdout}${stderr}`.includes(MARK));
		} finally {
			dir.remove();
		}
	});
});
