/**
 * `npm run bench:trend`: what metrics, /stats and the chart cost, on this machine.
 *
 *  1. A/B: two hookcord processes (compiled, SQLite), one with METRICS_PORT and one without, flooded in
 *     turn (A B A B …) with the same callbacks; the server CPU per callback of each, and their ratio.
 *  2. A scrape of `GET /metrics` on the process with metrics, after its floods.
 *  3. /stats for 30 days at 100k events a day: the per-hour counts of 60 days (the period and the one
 *     before) read from SQLite, summarised and charted, as the command does after its defer.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool, request } from 'undici';
import { statsMessage } from '../commands/stats.js';
import { chartPng } from '../src/render/chart.js';
import { hourKey } from '../src/state/counts.js';
import { buckets, CHART_GROUPS, summarizeHours } from '../src/stats/summary.js';
import { openStore } from '../src/store/store.js';

const ROOT = resolve(import.meta.dirname, '..');
const SECRET = 'bench-secret-0123456789';
const { values } = parseArgs({
	options: {
		requests: { type: 'string', default: '10000' },
		rounds: { type: 'string', default: '4' },
		connections: { type: 'string', default: '50' },
	},
});
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const CONNECTIONS = Number(values.connections);
const out = (line: string) => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)] as number;

async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
	const { port } = server.address() as { port: number };
	await new Promise((done) => server.close(done));
	return port;
}

interface Child {
	child: ChildProcess;
	url: string;
	cpu(): number;
	stop(): Promise<void>;
}

async function start(env: Record<string, string>): Promise<Child> {
	const dir = mkdtempSync(join(tmpdir(), 'hookcord-trend-'));
	const child = spawn(process.execPath, ['dist/src/main.js'], {
		cwd: ROOT,
		env: {
			PATH: process.env.PATH ?? '',
			HOST: '127.0.0.1',
			PORT: '0',
			HOOK_SECRET: SECRET,
			STORE_URL: `sqlite://${dir}/hookcord.sqlite`,
			ALERTS_CHANNEL: 'off',
			LOG_LEVEL: 'warn',
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
				child,
				url: match[1] as string,
				cpu: () => {
					const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
					return (Number(fields[11]) + Number(fields[12])) / 100;
				},
				stop: async () => {
					child.kill('SIGTERM');
					if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
					rmSync(dir, { recursive: true, force: true });
				},
			};
		if (Date.now() > deadline || child.exitCode !== null) throw new Error(`hookcord did not start:\n${text}`);
		await new Promise((r) => setTimeout(r, 20));
	}
}

/** Server CPU µs per callback over `count` callbacks (a mix of kinds, distinct accounts). */
async function flood(server: Child, offset: number, count: number): Promise<number> {
	const pool = new Pool(server.url, { connections: CONNECTIONS, pipelining: 1 });
	const statuses = ['ACTIVATED', 'SUSPENDED', 'REACTIVATE', 'CLIENTDOMADD'];
	const before = server.cpu();
	let next = 0;
	await Promise.all(
		Array.from({ length: CONNECTIONS }, async () => {
			while (next < count) {
				const i = offset + next++;
				const res = await pool.request({
					method: 'POST',
					path: `/hooks/mofh/${SECRET}`,
					headers: { 'content-type': 'application/x-www-form-urlencoded' },
					body: `username=trend_${i}&status=${statuses[i % 4]}&comments=ADMIN_CLOSE+%3A+PHISHING`,
				});
				await res.body.dump();
				if (res.statusCode !== 200) throw new Error(`callback answered ${res.statusCode}`);
			}
		}),
	);
	await pool.close();
	return ((server.cpu() - before) * 1e6) / count;
}

async function main() {
	const metricsPort = await freePort();
	const plain = await start({});
	const metered = await start({ METRICS_PORT: String(metricsPort) });
	try {
		// Warm-up: the JIT compiles the hot path of both.
		await flood(plain, 0, 3000);
		await flood(metered, 0, 3000);
		const a: number[] = [];
		const b: number[] = [];
		for (let round = 0; round < ROUNDS; round++) {
			const offset = 10_000 + round * REQUESTS;
			a.push(await flood(plain, offset, REQUESTS));
			b.push(await flood(metered, offset, REQUESTS));
		}
		const ratios = a.map((value, i) => (b[i] as number) / value);
		out(`ingest CPU per callback, ${ROUNDS} rounds of ${REQUESTS}, A B A B …`);
		out(`  without metrics   median ${median(a).toFixed(0)} µs   (${a.map((x) => x.toFixed(0)).join(', ')})`);
		out(`  with metrics      median ${median(b).toFixed(0)} µs   (${b.map((x) => x.toFixed(0)).join(', ')})`);
		out(
			`  with / without    median ${median(ratios).toFixed(3)}   (${ratios.map((x) => x.toFixed(3)).join(', ')})`,
		);
		const scrapes: number[] = [];
		let size = 0;
		for (let i = 0; i < 100; i++) {
			const t0 = performance.now();
			const res = await request(`http://127.0.0.1:${metricsPort}/metrics`);
			size = (await res.body.text()).length;
			scrapes.push(performance.now() - t0);
		}
		out(
			`GET /metrics (${size} bytes), 100 scrapes: median ${median(scrapes).toFixed(1)} ms, p99 ${p99(scrapes).toFixed(1)} ms`,
		);
	} finally {
		await Promise.all([plain.stop(), metered.stop()]);
	}
	await statsBench();
}

/** 60 days of per-hour counts at 100k events a day, in SQLite; /stats 30d read, summarised and charted. */
async function statsBench() {
	const dir = mkdtempSync(join(tmpdir(), 'hookcord-trend-'));
	const store = await openStore(`sqlite://${dir}/hookcord.sqlite`);
	try {
		const HOUR = 3_600_000;
		const to = Math.ceil(Date.now() / HOUR) * HOUR;
		const perHour = Math.round(100_000 / 24);
		const writes = [];
		for (let hour = to - 60 * 24 * HOUR; hour < to; hour += HOUR) {
			const share = (n: number) => Math.round(perHour * n);
			writes.push({
				collection: 'counts' as const,
				key: hourKey(hour),
				value: {
					'k:email.event': share(0.6),
					'e:delivered': share(0.4),
					'e:read': share(0.15),
					'e:hard': share(0.03),
					'e:soft': share(0.02),
					'k:account.activated': share(0.15),
					'k:account.suspended': share(0.1),
					'c:permanent': share(0.04),
					'c:temporary': share(0.05),
					'c:inactivity': share(0.01),
					'r:PHISHING': share(0.02),
					'r:DAILY_IO': share(0.03),
					'r:DAILY_HIT': share(0.02),
					'r:AUTO_IDLE': share(0.01),
					'r:OTHER': share(0.02),
					'k:domain.added': share(0.08),
					'k:ticket.replied': share(0.04),
					'k:cert.issued': share(0.03),
				},
			});
		}
		await store.commit(writes);
		const whole: number[] = [];
		const charts: number[] = [];
		for (let run = 0; run < 7; run++) {
			const t0 = performance.now();
			await statsMessage(store, { from: to - 30 * 24 * HOUR, to, title: 'Last 30 days', timeZone: 'UTC' });
			whole.push(performance.now() - t0);
		}
		const hours = await (await import('../src/state/counts.js')).readCounts(store, to - 60 * 24 * HOUR, to);
		const from = to - 30 * 24 * HOUR;
		summarizeHours(hours, from, to);
		const input = {
			title: 'Events per day',
			groups: CHART_GROUPS.map((group) => group.name),
			buckets: buckets(
				hours.filter(({ hour }) => hour >= from),
				from,
				to,
				'day',
				'UTC',
			),
		};
		for (let run = 0; run < 7; run++) {
			const t0 = performance.now();
			await chartPng(input);
			charts.push(performance.now() - t0);
		}
		out(`/stats 30d at 100k events/day (1,440 hourly records read, summarised, charted), 7 runs:`);
		out(
			`  whole answer after the defer  median ${median(whole).toFixed(0)} ms, max ${Math.max(...whole).toFixed(0)} ms`,
		);
		out(
			`  the chart alone (960×480 PNG)  median ${median(charts).toFixed(0)} ms, max ${Math.max(...charts).toFixed(0)} ms`,
		);
	} finally {
		await store.close();
		rmSync(dir, { recursive: true, force: true });
	}
}

void main().catch((error) => {
	process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
	process.exit(1);
});
