/**
 * `npm run bench -- --forward [--count 2000 --delay 200 --rate 200 --seconds 10]`: forwarding to a panel.
 *
 *  1. drain: COUNT callbacks (four per account) wait for a panel that refused every connection, so none
 *     can have acted; hookcord is stopped, the panel comes up answering after DELAY ms, hookcord starts
 *     again: the seconds until the panel has every callback, the requests it got per callback (1.00: none
 *     twice), and whether every account's callbacks arrived in stored order;
 *  2. ingest p99 at a fixed rate (open loop) with forwarding on (a panel answering in 2 s) and off, in
 *     the same run, each against its own process and SQLite store.
 * Every hookcord is the compiled process (`npm start`'s), on loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const ROOT = resolve(import.meta.dirname, '..');
const SECRET = 'bench-secret-0123456789';
const { values } = parseArgs({
	options: {
		forward: { type: 'boolean' },
		count: { type: 'string', default: '2000' },
		delay: { type: 'string', default: '200' },
		rate: { type: 'string', default: '200' },
		seconds: { type: 'string', default: '10' },
	},
	strict: false,
});
const COUNT = Number(values.count);
const DELAY = Number(values.delay);
const out = (line: string) => process.stdout.write(`${line}\n`);

interface Panel {
	url: string;
	/** Event ids in the order the panel received them. */
	received: string[];
	/** Each received callback's username and status, in the same order. */
	bodies: { username: string; status: string }[];
	close(): Promise<void>;
}

/** A panel answering after `delayMs`, listening on `port` (0: any), or not yet when `listen` is false. */
async function startPanel(delayMs: number, port = 0): Promise<Panel> {
	const sockets = new Set<Socket>();
	const panel: Panel = { url: '', received: [], bodies: [], close: async () => {} };
	const server: Server = createServer((req, res) => {
		let body = '';
		req.on('data', (chunk) => {
			body += chunk;
		});
		req.on('end', () => {
			panel.received.push(String(req.headers['x-hookcord-event']));
			const fields = new URLSearchParams(body);
			panel.bodies.push({ username: fields.get('username') ?? '', status: fields.get('status') ?? '' });
			setTimeout(() => res.end(), delayMs);
		});
	});
	server.on('connection', (socket: Socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	await new Promise<void>((ready) => server.listen(port, '127.0.0.1', ready));
	panel.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
	panel.close = async () => {
		for (const socket of sockets) socket.destroy();
		await new Promise((closed) => server.close(closed));
	};
	return panel;
}

interface Hookcord {
	url: string;
	child: ChildProcess;
	stop(): Promise<void>;
}

async function startHookcord(env: Record<string, string>): Promise<Hookcord> {
	const child = spawn(process.execPath, ['dist/src/main.js'], {
		cwd: ROOT,
		env: {
			PATH: process.env.PATH ?? '',
			HOST: '127.0.0.1',
			PORT: '0',
			HOOK_SECRET: SECRET,
			MOFH_ALLOWED_IPS: '*',
			LOG_LEVEL: 'warn',
			ALERTS_CHANNEL_ACCOUNTS: 'off',
			ALERTS_CHANNEL_SUSPENSIONS: 'off',
			...env,
		},
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	let text = '';
	child.stdout?.on('data', (chunk) => {
		text += chunk;
	});
	for (const deadline = Date.now() + 60_000; ; ) {
		const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(text);
		if (match)
			return {
				url: match[1] as string,
				child,
				stop: async () => {
					child.kill('SIGTERM');
					if (child.exitCode === null) await new Promise((exit) => child.once('exit', exit));
				},
			};
		if (Date.now() > deadline || child.exitCode !== null) throw new Error(`hookcord did not start:\n${text}`);
		await new Promise((wait) => setTimeout(wait, 20));
	}
}

const STATUSES = ['ACTIVATED', 'SUSPENDED', 'REACTIVATE', 'DELETE'];
const body = (i: number) => {
	const account = Math.floor(i / STATUSES.length);
	const status = STATUSES[i % STATUSES.length] as string;
	return `username=fwd_${account}&status=${status}&comments=${status === 'SUSPENDED' ? 'DAILY_HIT' : 'bench'}`;
};

async function post(pool: Pool, i: number): Promise<number> {
	const t0 = performance.now();
	const res = await pool.request({
		method: 'POST',
		path: `/hooks/mofh/${SECRET}`,
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: body(i),
	});
	await res.body.text();
	if (res.statusCode !== 200) throw new Error(`callback ${i} answered ${res.statusCode}`);
	return performance.now() - t0;
}

async function drain(): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'hookcord-forward-'));
	// The panel's port, closed while the backlog builds: every connection is refused, before anything is
	// written (a reset after accepting could follow a written request, which pauses the target).
	const probe = await startPanel(DELAY);
	await probe.close();
	const port = new URL(probe.url).port;
	let panel = probe;
	try {
		const env = {
			STORE_URL: `sqlite://${dir}/hookcord.sqlite`,
			MOFH_FORWARD_TO: `${probe.url}/c/mofh`,
			RETRY_SCHEDULE: '50ms',
		};
		let hookcord = await startHookcord(env);
		const pool = new Pool(hookcord.url, { connections: 10 });
		// Interleaved as they would arrive: every account's first callback, then every account's second...
		const accounts = COUNT / STATUSES.length;
		const order = Array.from(
			{ length: COUNT },
			(_, n) => (n % accounts) * STATUSES.length + Math.floor(n / accounts),
		);
		for (let i = 0; i < COUNT; i += 10) await Promise.all(order.slice(i, i + 10).map((n) => post(pool, n)));
		await pool.close();
		await hookcord.stop();
		panel = await startPanel(DELAY, Number(port));
		const t0 = performance.now();
		hookcord = await startHookcord(env);
		while (panel.received.length < COUNT) {
			if (performance.now() - t0 > 600_000) throw new Error(`drained only ${panel.received.length}`);
			await new Promise((wait) => setTimeout(wait, 20));
		}
		const seconds = (performance.now() - t0) / 1000;
		await new Promise((wait) => setTimeout(wait, 1000));
		await hookcord.stop();
		const unique = new Set(panel.received).size;
		// Each account's callbacks were stored ACTIVATED, SUSPENDED, REACTIVATE, DELETE.
		const byAccount = new Map<string, string[]>();
		for (const { username, status } of panel.bodies)
			byAccount.set(username, [...(byAccount.get(username) ?? []), status]);
		const inOrder = [...byAccount.values()].every((statuses) => statuses.join() === STATUSES.join());
		out(
			`drain: ${COUNT} callbacks (${accounts} accounts) to a panel answering in ${DELAY} ms, FORWARD_CONCURRENCY 4: ` +
				`${seconds.toFixed(1)} s, ${(panel.received.length / unique).toFixed(2)} requests per callback, ` +
				`${unique} distinct, every account's callbacks in stored order: ${inOrder}`,
		);
	} finally {
		await panel.close();
		rmSync(dir, { recursive: true, force: true });
	}
}

/** Open loop at RATE per second for SECONDS: each latency counts from when its request was due. */
async function ingestP99(env: Record<string, string>, label: string): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'hookcord-forward-'));
	const hookcord = await startHookcord({ STORE_URL: `sqlite://${dir}/hookcord.sqlite`, ...env });
	const pool = new Pool(hookcord.url, { connections: 50 });
	try {
		const rate = Number(values.rate);
		const total = rate * Number(values.seconds);
		for (let i = 0; i < 500; i++) await post(pool, 1_000_000 + i);
		const latencies: number[] = [];
		const start = performance.now();
		const sends: Promise<void>[] = [];
		for (let i = 0; i < total; i++) {
			const due = start + (i * 1000) / rate;
			const wait = due - performance.now();
			if (wait > 0) await new Promise((r) => setTimeout(r, wait));
			sends.push(post(pool, 2_000_000 + i).then(() => void latencies.push(performance.now() - due)));
		}
		await Promise.all(sends);
		latencies.sort((a, b) => a - b);
		const p = (q: number) =>
			latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] as number;
		out(
			`ingest ${label}: ${total} callbacks at ${rate}/s: p50 ${p(0.5).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms`,
		);
	} finally {
		await pool.close();
		await hookcord.stop();
		rmSync(dir, { recursive: true, force: true });
	}
}

out(`node ${process.version}; forwarding`);
await drain();
const slow = await startPanel(2000);
try {
	await ingestP99({}, 'forwarding off');
	await ingestP99({ MOFH_FORWARD_TO: `${slow.url}/c/mofh` }, 'forwarding on (panel answering in 2 s)');
} finally {
	await slow.close();
}
