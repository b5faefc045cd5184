/**
 * `npm run bench`: the receiver's speed and footprint on this machine, as the README's Benchmarks table
 * reports them. Every server runs in a child process (compiled JavaScript, as `npm start` runs it); the
 * load comes from this process over loopback, with a bounded number of requests.
 *
 *  1. throughput: bare Fastify, then hookcord (SQLite store, every callback fingerprinted, written to the
 *     outbox and projected in one commit before its 200), 50 connections; the ratio of the two. During
 *     the hookcord flood, signed `/account status` interactions measure how long a command waits.
 *  2. latency at a fixed rate (open loop: each request's latency counts from when it was due).
 *  3. resident memory after the run.
 *  4. accounts: a store seeded with 100k accounts (`--million` adds a 1M run): memory, and the latency of
 *     `/account status` and of its autocomplete.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Pool } from 'undici';

const ROOT = resolve(import.meta.dirname, '..');
const SECRET = 'bench-secret-0123456789';
const GUILD = '100000000000000009';

const { values } = parseArgs({
	options: {
		requests: { type: 'string', default: '30000' },
		connections: { type: 'string', default: '50' },
		rate: { type: 'string', default: '1000' },
		seconds: { type: 'string', default: '10' },
		accounts: { type: 'string', default: '100000' },
		million: { type: 'boolean', default: false },
		store: { type: 'string' },
		// `npm run bench -- --storm [--count N --outage S --queued N]`: floods against the Discord double.
		storm: { type: 'boolean' },
		count: { type: 'string' },
		outage: { type: 'string' },
		queued: { type: 'string' },
		profile: { type: 'string' },
		// `npm run bench -- --drain [--count N]`: the delivery worker's reads of a backlog (drain.ts).
		drain: { type: 'boolean' },
		// `npm run bench -- --forward [--count N --delay MS]`: forwarding to a panel double (forward.ts).
		forward: { type: 'boolean' },
		delay: { type: 'string' },
	},
});
const REQUESTS = Number(values.requests);
/** Requests each server answers before it is measured, so the JIT has compiled the hot path. */
const WARM_UP = 5000;
const CONNECTIONS = Number(values.connections);
const out = (line: string) => process.stdout.write(`${line}\n`);
const ms = (value: number) => `${value.toFixed(1)} ms`;

function percentile(values: number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

interface Child {
	child: ChildProcess;
	url: string;
	rss(): number;
	/** CPU seconds the process has used (user + system). */
	cpu(): number;
	stop(): Promise<void>;
}

async function start(args: string[], env: Record<string, string>): Promise<Child> {
	const child = spawn(process.execPath, args, {
		cwd: ROOT,
		env: { PATH: process.env.PATH ?? '', ...env },
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	let text = '';
	child.stdout?.on('data', (chunk) => {
		text += chunk;
	});
	const deadline = Date.now() + 120_000;
	for (;;) {
		const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(text);
		if (match)
			return {
				child,
				url: match[1] as string,
				rss: () =>
					Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024,
				cpu: () => {
					const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
					return (Number(fields[11]) + Number(fields[12])) / 100;
				},
				stop: async () => {
					child.kill('SIGTERM');
					if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
				},
			};
		if (Date.now() > deadline || child.exitCode !== null)
			throw new Error(`${args.join(' ')} did not start:\n${text}`);
		await new Promise((r) => setTimeout(r, 20));
	}
}

const callback = (i: number) => ({
	method: 'POST' as const,
	path: `/hooks/mofh/${SECRET}`,
	headers: { 'content-type': 'application/x-www-form-urlencoded' },
	body: `username=bench_${i}&status=ACTIVATED&comments=GENERIC+ACTIVATION`,
});

/** Closed loop: CONNECTIONS clients each send their next request when the last one is answered. */
async function flood(
	server: Child,
	label: string,
	requests: number,
	offset = 0,
	during?: (stopped: () => boolean) => Promise<void>,
) {
	const pool = new Pool(server.url, { connections: CONNECTIONS, pipelining: 1 });
	const latencies: number[] = [];
	const cpu = server.cpu();
	let next = 0;
	let failures = 0;
	let done = false;
	const started = performance.now();
	const side = during?.(() => done);
	await Promise.all(
		Array.from({ length: CONNECTIONS }, async () => {
			while (next < requests) {
				const i = next++;
				const t0 = performance.now();
				const res = await pool.request(callback(offset + i));
				await res.body.dump();
				latencies.push(performance.now() - t0);
				if (res.statusCode !== 200) failures++;
			}
		}),
	);
	const seconds = (performance.now() - started) / 1000;
	done = true;
	await side;
	await pool.close();
	const perSecond = Math.round(requests / seconds);
	const cpuEach = ((server.cpu() - cpu) * 1e6) / requests;
	out(
		`${label.padEnd(40)} ${String(perSecond).padStart(6)} req/s   p50 ${ms(percentile(latencies, 50))}   p99 ${ms(percentile(latencies, 99))}   server CPU ${cpuEach.toFixed(0)} µs/request   non-200: ${failures}`,
	);
	return { perSecond, failures };
}

/** Open loop at a fixed rate: a request's latency counts from when it was due, so queueing shows. */
async function fixedRate(url: string, rate: number, seconds: number, offset: number) {
	const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
	const total = rate * seconds;
	const latencies: number[] = [];
	const pending: Promise<void>[] = [];
	let failures = 0;
	const started = performance.now();
	let sent = 0;
	while (sent < total) {
		const due = started + (sent * 1000) / rate;
		const wait = due - performance.now();
		// Always yield, so answers are read while the next requests wait for their time.
		await new Promise((r) => (wait > 0 ? setTimeout(r, wait) : setImmediate(r)));
		const now = performance.now();
		while (sent < total && started + (sent * 1000) / rate <= now) {
			const dueAt = started + (sent * 1000) / rate;
			const i = offset + sent++;
			pending.push(
				pool.request(callback(i)).then(async (res) => {
					await res.body.dump();
					latencies.push(performance.now() - dueAt);
					if (res.statusCode !== 200) failures++;
				}),
			);
		}
	}
	await Promise.all(pending);
	await pool.close();
	out(
		`hookcord at a fixed ${rate}/s for ${seconds} s: p50 ${ms(percentile(latencies, 50))}   p99 ${ms(percentile(latencies, 99))}   max ${ms(Math.max(...latencies))}   non-200: ${failures}`,
	);
	return percentile(latencies, 99);
}

/** A stand-in for Discord's REST API: records when each interaction's deferred reply is edited. */
async function discordStub(): Promise<{ server: Server; url: string; edited: Map<string, number> }> {
	const edited = new Map<string, number>();
	const server = createServer((req, res) => {
		const token = /\/webhooks\/\d+\/([^/]+)\/messages/.exec(req.url ?? '')?.[1];
		req.resume();
		req.on('end', () => {
			if (token) edited.set(token, performance.now());
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ id: '1', channel_id: '1', content: '' }));
		});
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	const { port } = server.address() as { port: number };
	return { server, url: `http://127.0.0.1:${port}/api`, edited };
}

const keys = generateKeyPairSync('ed25519');
const publicHex = keys.publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');

/** Interaction ids are snowflakes: the time, then a sequence (hookcord answers a repeated id 409). */
let sequence = 0n;
function interaction(type: 2 | 4, user: string) {
	const token = randomBytes(24).toString('base64url');
	const body = JSON.stringify({
		id: String((BigInt(Date.now()) << 22n) | (sequence++ & 0x3fffffn)),
		application_id: '100000000000000001',
		type,
		token,
		version: 1,
		guild_id: GUILD,
		channel_id: '100000000000000002',
		member: {
			user: {
				id: '100000000000000003',
				username: 'oncall',
				discriminator: '0',
				global_name: null,
				avatar: null,
			},
			roles: [],
			permissions: '8',
			joined_at: new Date().toISOString(),
			deaf: false,
			mute: false,
			flags: 0,
		},
		locale: 'en-US',
		data: {
			id: '100000000000000004',
			name: 'account',
			type: 1,
			options: [
				{
					type: 1,
					name: 'status',
					options: [{ type: 3, name: 'user', value: user, ...(type === 4 && { focused: true }) }],
				},
			],
		},
	});
	const timestamp = String(Math.floor(Date.now() / 1000));
	const signature = sign(null, Buffer.from(timestamp + body), keys.privateKey).toString('hex');
	return {
		token,
		request: {
			method: 'POST' as const,
			path: '/interactions',
			headers: {
				'content-type': 'application/json',
				'x-signature-ed25519': signature,
				'x-signature-timestamp': timestamp,
			},
			body,
		},
	};
}

/**
 * `count` interactions one after another (`gapMs` apart): time to the first answer (the HTTP response:
 * a deferral, or the autocomplete choices) and, for `/account status`, to the full answer (the edit).
 */
async function interactions(
	url: string,
	discord: Awaited<ReturnType<typeof discordStub>>,
	kind: 'status' | 'autocomplete',
	users: () => string,
	count: number,
	gapMs: number,
	until?: () => boolean,
) {
	const pool = new Pool(url, { connections: 1 });
	const first: number[] = [];
	const full: number[] = [];
	for (let n = 0; n < count && !until?.(); n++) {
		const { token, request } = interaction(kind === 'status' ? 2 : 4, users());
		const t0 = performance.now();
		const res = await pool.request(request);
		const text = await res.body.text();
		first.push(performance.now() - t0);
		if (res.statusCode !== 200) throw new Error(`interaction answered ${res.statusCode}: ${text}`);
		if (kind === 'status') {
			const deadline = Date.now() + 5000;
			while (!discord.edited.has(token) && Date.now() < deadline) await new Promise((r) => setImmediate(r));
			full.push((discord.edited.get(token) ?? Number.NaN) - t0);
		}
		if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
	}
	await pool.close();
	return { first, full };
}

function describe(label: string, { first, full }: { first: number[]; full: number[] }) {
	const firsts = `first answer p50 ${ms(percentile(first, 50))} p99 ${ms(percentile(first, 99))} max ${ms(Math.max(...first))}`;
	const fulls = full.length
		? `   full answer p50 ${ms(percentile(full, 50))} p99 ${ms(percentile(full, 99))} max ${ms(Math.max(...full))}`
		: '';
	out(`  ${label.padEnd(38)} ${firsts}${fulls}   (${first.length})`);
}

function hookcordEnv(storeUrl: string, discordApi: string): Record<string, string> {
	return {
		HOST: '127.0.0.1',
		PORT: '0',
		STORE_URL: storeUrl,
		HOOK_SECRET: SECRET,
		LOG_LEVEL: 'warn',
		HOOK_RATE_LIMIT: String(10_000_000),
		// Dry run with alerts muted: the bench is about the receiver, not about printing alerts.
		ALERTS_CHANNEL: 'off',
		DISCORD_PUBLIC_KEY: publicHex,
		DISCORD_GUILD_ID: GUILD,
		DISCORD_API_URL: discordApi,
	};
}

/** `npm start`'s own command line (its V8 flags included), optionally profiled. */
const START = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string)
	.split(/\s+/)
	.slice(1);
const nodeArgs = (label: string) => [
	...(values.profile
		? ['--cpu-prof', `--cpu-prof-dir=${values.profile}`, `--cpu-prof-name=${label}.cpuprofile`]
		: []),
	...START,
];

/** Seeds `count` accounts straight into a SQLite store file, in Keyv's stored form. */
function seedAccounts(path: string, count: number) {
	const db = new Database(path);
	db.pragma('journal_mode = WAL');
	db.exec('CREATE TABLE IF NOT EXISTS hookcord_accounts(key VARCHAR(255) PRIMARY KEY, value TEXT)');
	const insert = db.prepare('INSERT OR REPLACE INTO hookcord_accounts (key, value) VALUES (?, ?)');
	const at = Date.now() - 86_400_000;
	db.transaction(() => {
		for (let i = 0; i < count; i++) {
			const username = `host_${String(10_000_000 + i)}`;
			const state = {
				username,
				status: 'active',
				statusAt: at,
				domains: [`site${i}.example.com`],
				firstSeen: at,
				updatedAt: at,
				history: [{ id: `seed${i}`, at, kind: 'account.activated', summary: 'Account activated' }],
			};
			insert.run(`accounts:${username}`, JSON.stringify({ value: state }));
		}
	})();
	db.close();
}

async function accountsRun(dir: string, count: number, discord: Awaited<ReturnType<typeof discordStub>>) {
	const path = join(dir, `accounts-${count}.sqlite`);
	const seeded = performance.now();
	seedAccounts(path, count);
	out(`accounts run: ${count} accounts seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);
	const { DISCORD_PUBLIC_KEY: _, ...receiverEnv } = hookcordEnv(`sqlite://${path}`, discord.url);
	let t0 = performance.now();
	const receiver = await start(nodeArgs(`receiver-${count}`), receiverEnv);
	out(
		`  receiver (no Discord configured): started in ${((performance.now() - t0) / 1000).toFixed(1)} s, resident memory ${receiver.rss().toFixed(0)} MiB`,
	);
	await receiver.stop();
	t0 = performance.now();
	const hookcord = await start(nodeArgs(`accounts-${count}`), hookcordEnv(`sqlite://${path}`, discord.url));
	out(
		`  with HTTP interactions (commands loaded): started in ${((performance.now() - t0) / 1000).toFixed(1)} s, resident memory ${hookcord.rss().toFixed(0)} MiB`,
	);
	const random = () => `host_${String(10_000_000 + Math.floor(Math.random() * count))}`;
	// 25 ms apart: discord.js REST keeps under Discord's global 50 requests/s, which would queue the edits.
	describe(
		'/account status (existing account)',
		await interactions(hookcord.url, discord, 'status', random, 300, 25),
	);
	const prefixes = () => random().slice(0, 6 + Math.floor(Math.random() * 8));
	describe(
		'autocomplete (prefix)',
		await interactions(hookcord.url, discord, 'autocomplete', prefixes, 300, 0),
	);
	const inside = () => random().slice(-3 - Math.floor(Math.random() * 4));
	describe(
		'autocomplete (substring)',
		await interactions(hookcord.url, discord, 'autocomplete', inside, 300, 0),
	);
	out(`  resident memory after the queries: ${hookcord.rss().toFixed(0)} MiB`);
	await hookcord.stop();
}

async function main(): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'hookcord-bench-'));
	const storeUrl = values.store ?? `sqlite://${dir}/bench.sqlite`;
	const discord = await discordStub();
	out(
		`node ${process.version}, ${REQUESTS} requests over ${CONNECTIONS} connections, store ${storeUrl.replace(/\/\/[^@]*@/, '//')}`,
	);
	try {
		const bare = await start([join(ROOT, 'dist', 'bench', 'bare.js')], {});
		await flood(bare, 'warm-up', WARM_UP, 0);
		const baseline = await flood(bare, 'bare Fastify (same route shape)', REQUESTS);
		await bare.stop();

		const hookcord = await start(nodeArgs('ingest'), hookcordEnv(storeUrl, discord.url));
		await flood(hookcord, 'warm-up', WARM_UP, 10_000_000);
		let during: Awaited<ReturnType<typeof interactions>> | undefined;
		const stored = await flood(hookcord, 'hookcord MOFH callback (stored)', REQUESTS, 0, async (stopped) => {
			during = await interactions(hookcord.url, discord, 'status', () => 'bench_1', 10_000, 50, stopped);
		});
		out(
			`receiver/bare throughput ratio (commands loaded, interactions running): ${(stored.perSecond / baseline.perSecond).toFixed(2)}`,
		);
		if (during) describe('/account status during the flood', during);
		await hookcord.stop();

		// Memory and fixed-rate latency on a receiver configured like most deployments' defaults (no Discord
		// key here, so discord.js is not loaded): the figures the table compares.
		const { DISCORD_PUBLIC_KEY: _, ...receiverEnv } = hookcordEnv(
			`sqlite://${dir}/receiver.sqlite`,
			discord.url,
		);
		const plain = await start(nodeArgs('receiver'), receiverEnv);
		await flood(plain, 'warm-up', WARM_UP, 30_000_000);
		await fixedRate(plain.url, Number(values.rate), Number(values.seconds), 40_000_000);
		const fixed = Number(values.rate) * Number(values.seconds);
		const rest = Math.max(1000, REQUESTS - WARM_UP - fixed);
		const plainRun = await flood(plain, 'receiver only (no Discord configured)', rest, 50_000_000);
		out(`receiver-only/bare throughput ratio: ${(plainRun.perSecond / baseline.perSecond).toFixed(2)}`);
		const total = WARM_UP + fixed + rest;
		out(`hookcord resident memory after ${total} callbacks: ${plain.rss().toFixed(0)} MiB`);
		await plain.stop();

		await accountsRun(dir, Number(values.accounts), discord);
		if (values.million) await accountsRun(dir, 1_000_000, discord);
	} finally {
		discord.server.close();
		rmSync(dir, { recursive: true, force: true });
	}
}

if (values.storm) await import('./storm.js');
else if (values.drain) await import('./drain.js');
else if (values.forward) await import('./forward.js');
else
	main().catch((error) => {
		process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
		process.exit(1);
	});
