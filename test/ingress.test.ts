import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createLogger, hideInLog } from '../src/log.js';
import { clientKey } from '../src/net/allowlist.js';
import { createRefusals } from '../src/net/refusals.js';
import { openStore } from '../src/store/store.js';
import { buildTestApp, form, rejectAfter, SECRET, type TestAppOptions } from './helpers.js';

/**
 * What an attacker does at the HTTP edge, on a real listening server on 127.0.0.1: slow bodies, many
 * connections, wrong secrets, bad signatures, odd request targets; and what a provider's sweep needs.
 */

const urlencoded = { 'content-type': 'application/x-www-form-urlencoded' };

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const PUBLIC_HEX = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');

function signed(body: string) {
	const timestamp = String(Math.floor(Date.now() / 1000));
	const signature = sign(null, Buffer.from(timestamp + body), privateKey).toString('hex');
	return {
		'content-type': 'application/json',
		'x-signature-ed25519': signature,
		'x-signature-timestamp': timestamp,
	};
}

/** The receiver with `POST /interactions` enabled (a dispatcher that answers every command at once). */
async function setup(t: TestContext, env: Record<string, string> = {}, options: TestAppOptions = {}) {
	const harness = await buildTestApp(
		{ DISCORD_PUBLIC_KEY: PUBLIC_HEX, ...env },
		{
			...options,
			dispatch: async (_interaction, answer) => {
				await answer({ type: 4, data: { content: 'ok', flags: 64 } });
			},
		},
	);
	t.after(() => harness.app.close());
	return harness;
}

async function listening(t: TestContext, env: Record<string, string> = {}, options: TestAppOptions = {}) {
	const harness = await setup(t, env, options);
	await harness.app.listen({ host: '127.0.0.1', port: 0 });
	const { port } = harness.app.server.address() as { port: number };
	return { ...harness, port };
}

interface SlowResult {
	/** What the server wrote back before closing. */
	answer: string;
	/** Body bytes sent before the server closed the connection. */
	sent: number;
	closed: boolean;
}

/**
 * A slow client: sends `head` (request line and headers announcing a 1000-byte body), then one body byte
 * every `everyMs`, and stops after `maxBytes` bytes or when the server closes the connection, whichever
 * comes first. Bounded: it never runs longer than maxBytes × everyMs plus a second.
 */
function slowClient(port: number, head: string, everyMs = 100, maxBytes = 40): Promise<SlowResult> {
	return new Promise((resolve) => {
		const socket = connect({ host: '127.0.0.1', port });
		let answer = '';
		let sent = 0;
		let timer: NodeJS.Timeout | undefined;
		const finish = (closed: boolean) => {
			clearInterval(timer);
			socket.destroy();
			resolve({ answer, sent, closed });
		};
		socket.on('data', (chunk) => {
			answer += chunk;
		});
		socket.on('error', () => {});
		socket.on('close', () => finish(true));
		socket.on('connect', () => {
			socket.write(head);
			timer = setInterval(() => {
				if (sent >= maxBytes) {
					// The server kept the connection open for the whole run: give up, bounded.
					setTimeout(() => finish(false), 1000);
					clearInterval(timer);
					return;
				}
				sent++;
				socket.write('a');
			}, everyMs);
		});
	});
}

/** Opens a connection from `localAddress` and resolves once connected, or when the server refuses it. */
function openConnection(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
	return new Promise((resolve, reject) => {
		const socket = connect({ host: '127.0.0.1', port, localAddress });
		socket.once('connect', () => resolve(socket));
		socket.once('error', reject);
	});
}

/** True when the server closes `socket` within `ms` (what it writes first is read and dropped). */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
	if (socket.destroyed) return Promise.resolve(true);
	socket.resume();
	return new Promise((resolve) => {
		const timer = setTimeout(() => resolve(false), ms);
		socket.once('close', () => {
			clearTimeout(timer);
			resolve(true);
		});
		socket.on('error', () => {});
	});
}

/** Sends `request` raw on a fresh connection and resolves with the status line's code. */
function raw(port: number, request: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const socket = connect({ host: '127.0.0.1', port });
		let answer = '';
		socket.on('data', (chunk) => {
			answer += chunk;
		});
		socket.on('error', reject);
		socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
		socket.on('connect', () => socket.write(request));
	});
}

/** Runs `count` requests, `concurrency` at a time, collecting the status codes in order. */
async function inParallel(count: number, concurrency: number, run: (i: number) => Promise<number>) {
	const statuses: number[] = new Array(count);
	let next = 0;
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (next < count) {
				const i = next++;
				statuses[i] = await run(i);
			}
		}),
	);
	return statuses;
}

describe('slow requests and connection bounds', () => {
	const slowTargets: [string, string][] = [
		['/interactions', 'POST /interactions HTTP/1.1\r\ncontent-type: application/json\r\n'],
		['an unknown path', 'POST /nowhere HTTP/1.1\r\ncontent-type: application/json\r\n'],
		[
			'a hook route with the right secret',
			`POST /hooks/mofh/${SECRET} HTTP/1.1\r\ncontent-type: application/x-www-form-urlencoded\r\n`,
		],
		[
			'a hook route with a wrong secret',
			'POST /hooks/wooxy/not-the-secret-at-all HTTP/1.1\r\ncontent-type: application/json\r\n',
		],
	];
	for (const [what, start] of slowTargets) {
		it(`a body dribbled to ${what} is cut off at REQUEST_TIMEOUT (408 or a closed socket)`, async (t) => {
			const { port } = await listening(t, { REQUEST_TIMEOUT: '500ms' });
			const began = Date.now();
			const result = await slowClient(port, `${start}host: 127.0.0.1\r\ncontent-length: 1000\r\n\r\n`);
			assert.ok(
				result.closed,
				`the server kept the connection open for ${result.sent} bytes: ${result.answer}`,
			);
			// 500 ms timeout, checked every 125 ms: closed well before the client's 4 s run ends.
			assert.ok(Date.now() - began < 2500, `closed after ${Date.now() - began} ms`);
			assert.ok(result.sent < 25, `closed after ${result.sent} bytes`);
			if (what.includes('right secret') || what === '/interactions')
				assert.match(result.answer, /^HTTP\/1\.1 408 /, 'a request still being read gets 408');
		});
	}

	it('a connection that sends nothing is closed at REQUEST_TIMEOUT', async (t) => {
		const { port } = await listening(t, { REQUEST_TIMEOUT: '500ms' });
		const socket = await openConnection(port);
		t.after(() => socket.destroy());
		assert.ok(await closedWithin(socket, 2000), 'an idle connection does not hold a slot');
	});

	it('bounds open connections per client address and in total', async (t) => {
		const { port } = await listening(t, { MAX_CONNECTIONS_PER_ADDRESS: '3', MAX_CONNECTIONS: '4' });
		const sockets: Socket[] = [];
		t.after(() => {
			for (const socket of sockets) socket.destroy();
		});
		for (let i = 0; i < 3; i++) sockets.push(await openConnection(port));
		const fourth = await openConnection(port);
		sockets.push(fourth);
		assert.ok(await closedWithin(fourth, 2000), 'a fourth connection from 127.0.0.1 is closed');
		const other = await openConnection(port, '127.0.0.2');
		sockets.push(other);
		assert.equal(await closedWithin(other, 300), false, 'another address still gets a connection');
		const fifth = await openConnection(port, '127.0.0.3').catch(() => undefined);
		if (fifth) {
			sockets.push(fifth);
			assert.ok(await closedWithin(fifth, 2000), 'past MAX_CONNECTIONS in total, connections are closed');
		}
		// The connections that were kept still work.
		const answer = await new Promise<string>((resolve) => {
			let text = '';
			sockets[0]?.on('data', (chunk) => {
				text += chunk;
				if (text.includes('\r\n\r\n')) resolve(text);
			});
			sockets[0]?.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
		});
		assert.match(answer, /^HTTP\/1\.1 200 /);
	});
});

describe('refused requests are limited per address; a provider with the right secret never is', () => {
	it('2,000 MOFH callbacks from one address with the right secret all get 200 and are stored', async (t) => {
		const { app, store } = await setup(t);
		const statuses = await inParallel(2000, 20, async (i) => {
			const res = await app.inject({
				method: 'POST',
				url: `/hooks/mofh/${SECRET}`,
				headers: urlencoded,
				payload: form({ username: `sweep_${i}`, status: 'ACTIVATED' }),
				remoteAddress: '203.0.113.50',
			});
			return res.statusCode;
		});
		assert.deepEqual(
			statuses.filter((status) => status !== 200),
			[],
			'every callback of the sweep is accepted',
		);
		for (let i = 0; i < 2000; i++)
			assert.equal((await store.accounts.get(`sweep_${i}`))?.status, 'active', `sweep_${i} is stored`);
	});

	it('wrong-secret guesses from one address get 429 past HOOK_RATE_LIMIT; the right secret still goes through', async (t) => {
		const { app } = await setup(t, { HOOK_RATE_LIMIT: '5' });
		const post = (secret: string, remoteAddress = '198.51.100.1', username = 'host_1') =>
			app.inject({
				method: 'POST',
				url: `/hooks/mofh/${secret}`,
				headers: urlencoded,
				payload: form({ username, status: 'ACTIVATED' }),
				remoteAddress,
			});
		const guesses = [];
		for (let i = 0; i < 8; i++) guesses.push((await post(`wrong-guess-number-${i}`)).statusCode);
		assert.deepEqual(guesses, [404, 404, 404, 404, 404, 429, 429, 429]);
		const limited = await post('wrong-guess-number-9');
		assert.match(limited.json().error, /too many refused requests/);
		assert.ok(Number(limited.headers['retry-after']) > 0);
		assert.equal((await post(SECRET)).statusCode, 200, 'the right secret from the same address is taken');
		assert.equal(
			(await post('wrong-guess-again', '198.51.100.2')).statusCode,
			404,
			'other addresses unaffected',
		);
		const probe = (await app.inject({ method: 'GET', url: '/wp-login.php', remoteAddress: '198.51.100.1' }))
			.statusCode;
		assert.equal(probe, 429, 'unknown paths from a limited address get 429 too');
	});

	it('counts unknown paths and addresses outside an allowlist, and shows the counts in /readyz', async (t) => {
		const { app } = await setup(t, { HOOK_RATE_LIMIT: '2', WOOXY_ALLOWED_IPS: '188.226.196.117' });
		const probes = [];
		for (let i = 0; i < 3; i++)
			probes.push(
				(await app.inject({ method: 'GET', url: `/probe-${i}`, remoteAddress: '198.51.100.9' })).statusCode,
			);
		assert.deepEqual(probes, [404, 404, 429]);
		const outside = [];
		for (let i = 0; i < 3; i++)
			outside.push(
				(
					await app.inject({
						method: 'POST',
						url: `/hooks/wooxy/${SECRET}`,
						headers: { 'content-type': 'application/json' },
						payload: { event: 'read', email: `a${i}@example.com` },
						remoteAddress: '198.51.100.10',
					})
				).statusCode,
			);
		assert.deepEqual(outside, [403, 403, 429]);
		const ready = (await app.inject('/readyz')).json();
		assert.deepEqual(ready.refused, {
			notFound: 2,
			forbidden: 2,
			badSignature: 0,
			malformedUrl: 0,
			rateLimited: 2,
		});
	});

	it('counts an IPv6 client by its /64, so fresh addresses from one prefix share a limit', async (t) => {
		const { app } = await setup(t, { HOOK_RATE_LIMIT: '2' });
		const probe = async (remoteAddress: string) =>
			(await app.inject({ method: 'GET', url: '/probe', remoteAddress })).statusCode;
		assert.deepEqual(
			[await probe('2001:db8:1:2::1'), await probe('2001:db8:1:2:ffff::2'), await probe('2001:db8:1:2::3')],
			[404, 404, 429],
		);
		assert.equal(await probe('2001:db8:1:3::1'), 404, 'the next /64 is another client');
		assert.equal(clientKey('2001:0db8:0001:0002:0:0:0:9'), '2001:db8:1:2::/64');
		assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7');
		assert.equal(clientKey('::1'), '0:0:0:0::/64');
	});

	it('keeps at most maxAddresses windows, dropping the oldest', () => {
		let clock = 0;
		const refusals = createRefusals({ max: 1, maxAddresses: 3, now: () => clock });
		const sent: number[] = [];
		const request = (ip: string) => ({ ip }) as FastifyRequest;
		const reply = {
			code(status: number) {
				sent.push(status);
				return this;
			},
			header() {
				return this;
			},
			send() {
				return this;
			},
		} as unknown as FastifyReply;
		for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
			refusals.refuse(request(ip), reply, 'notFound', 404, {});
		refusals.refuse(request('10.0.0.2'), reply, 'notFound', 404, {});
		assert.equal(sent.at(-1), 429, '10.0.0.2 is limited');
		refusals.refuse(request('10.0.0.4'), reply, 'notFound', 404, {}); // drops 10.0.0.1, the oldest
		refusals.refuse(request('10.0.0.1'), reply, 'notFound', 404, {}); // a fresh window again (drops 10.0.0.2)
		assert.deepEqual(sent.slice(-2), [404, 404]);
		clock = 61_000;
		refusals.refuse(request('10.0.0.3'), reply, 'notFound', 404, {});
		assert.equal(sent.at(-1), 404, 'a window ends after a minute');
	});

	it('answers 503 with Retry-After only when more callbacks wait on the store than INGEST_MAX_PENDING', async (t) => {
		const store = await openStore('memory://');
		let release!: () => void;
		const gate = new Promise<void>((resolve) => {
			release = resolve;
		});
		t.after(() => release()); // before the app closes, which waits for the held requests
		let held = 0;
		const set = store.outbox.set.bind(store.outbox);
		store.outbox.set = (async (...args: Parameters<typeof set>) => {
			held++;
			await gate;
			return set(...args);
		}) as typeof store.outbox.set;
		const { app } = await setup(t, { INGEST_MAX_PENDING: '2' }, { store });
		const post = (username: string) =>
			app.inject({
				method: 'POST',
				url: `/hooks/mofh/${SECRET}`,
				headers: urlencoded,
				payload: form({ username, status: 'ACTIVATED' }),
			});
		const waiting = [post('host_a'), post('host_b')];
		for (let i = 0; held < 2 && i < 200; i++) await new Promise((resolve) => setTimeout(resolve, 10));
		assert.equal(held, 2, 'two callbacks are waiting on the store');
		const third = await rejectAfter(post('host_c'), 3000, 'the answer to a callback past the bound');
		assert.equal(third.statusCode, 503);
		assert.equal(third.headers['retry-after'], '5');
		release();
		assert.deepEqual(
			(await Promise.all(waiting)).map((res) => res.statusCode),
			[200, 200],
		);
		assert.equal((await post('host_d')).statusCode, 200, 'taken again once the store keeps up');
	});
});

describe('/interactions', () => {
	it('bad signatures get 429 past HOOK_RATE_LIMIT, logged at debug only and counted', async (t) => {
		const lines: string[] = [];
		const logger = createLogger('info', { write: (line: string) => lines.push(line) });
		const { app } = await setup(t, { HOOK_RATE_LIMIT: '3' }, { logger });
		const body = JSON.stringify({ type: 1 });
		const statuses = [];
		for (let i = 0; i < 5; i++) {
			const res = await app.inject({
				method: 'POST',
				url: '/interactions',
				headers: {
					'content-type': 'application/json',
					'x-signature-ed25519': 'ab'.repeat(64),
					'x-signature-timestamp': '1',
				},
				payload: body,
				remoteAddress: '198.51.100.20',
			});
			statuses.push(res.statusCode);
		}
		assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
		const ping = await app.inject({
			method: 'POST',
			url: '/interactions',
			headers: signed(body),
			payload: body,
			remoteAddress: '198.51.100.21',
		});
		assert.equal(ping.statusCode, 200, 'a signed request from Discord is answered');
		assert.deepEqual(ping.json(), { type: 1 });
		const refusedLines = lines.filter((line) => line.includes('198.51.100.20'));
		assert.deepEqual(refusedLines, [], 'refusals write nothing at info level');
		assert.equal(
			lines.filter((line) => line.includes('198.51.100.21')).length,
			1,
			'an answered request writes one line',
		);
		const ready = (await app.inject('/readyz')).json();
		assert.equal(ready.refused.badSignature, 3);
		assert.equal(ready.refused.rateLimited, 2);
	});

	it('at debug level each refusal is one line', async (t) => {
		const lines: string[] = [];
		const logger = createLogger('debug', { write: (line: string) => lines.push(line) });
		const { app } = await setup(t, {}, { logger });
		await app.inject({ method: 'POST', url: '/interactions', payload: '{}', remoteAddress: '198.51.100.22' });
		const refused = lines.filter((line) => line.includes('198.51.100.22'));
		assert.equal(refused.length, 1);
		assert.equal(JSON.parse(refused[0] as string).level, 20);
	});
});

describe('the hook secret in logged request targets', () => {
	it('is scrubbed from any line the logger or its children write once the logger knows it', () => {
		const lines: string[] = [];
		const logger = createLogger('info', { write: (line: string) => lines.push(line) });
		hideInLog(logger, SECRET);
		const child = logger.child({ component: 'commands' });
		child.info(`Wooxy said: webhook https://h.example/hooks/wooxy/${SECRET} exists`);
		child.error(
			{ err: new Error(`fetch /x/${encodeURIComponent(SECRET).replace('t', '%74')} failed`) },
			'failed',
		);
		assert.equal(lines.length, 2);
		assert.ok(!lines.join('').includes(SECRET));
		assert.ok(!lines.join('').includes('%74est'));
		assert.match(lines.join(''), /\[secret\]/);
	});

	it('is redacted from absolute-form targets, path variants that 404 and percent-encoded forms', async (t) => {
		const lines: string[] = [];
		const logger = createLogger('debug', { write: (line: string) => lines.push(line) });
		const { port } = await listening(t, {}, { logger });
		const encoded = [...SECRET].map((char) => `%${char.charCodeAt(0).toString(16)}`).join('');
		const targets = [
			`http://127.0.0.1:${port}/hooks/mofh/${SECRET}`,
			`http://127.0.0.1:${port}/hooks/mofh/${SECRET}?username=host_1&status=ACTIVATED`,
			`//hooks/mofh/${SECRET}`,
			`/HOOKS/mofh/${SECRET}`,
			`/hooks%2Fmofh/${SECRET}`,
			`/hooks%2fmofh%2f${SECRET}`,
			`/hooks/mofh/${encoded}`,
			`/hooks/mofh/${encoded.toUpperCase()}`,
			`/hooks/mofh/%25${SECRET.charCodeAt(0).toString(16)}${SECRET.slice(1)}`,
			`/elsewhere?next=/hooks/mofh/${SECRET}`,
			`/${SECRET}`,
		];
		for (const target of targets) {
			const status = await raw(
				port,
				`POST ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
			);
			assert.ok(status > 0, `${target} was answered`);
		}
		const logged = lines.map((line) => JSON.parse(line) as { req?: { url: string } });
		const urls = logged.flatMap((line) => (line.req ? [line.req.url] : []));
		assert.equal(urls.length, targets.length, `one request line per target: ${urls.join(' ')}`);
		for (const url of urls) {
			let decoded = url;
			for (let i = 0; i < 3; i++) decoded = decodeURIComponent(decoded);
			assert.ok(!decoded.includes(SECRET), `the secret is not in ${url}`);
		}
		assert.ok(!lines.join('').includes(SECRET));
		assert.ok(!lines.join('').includes(SECRET.slice(1)), 'not even after an encoded first character');
	});
});
