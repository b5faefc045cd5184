/**
 * `npm run bench`: callbacks per second and latency of the real receiver (SQLite store, every callback
 * written to the outbox and projected before its 200) against bare Fastify on this machine, plus the
 * time to drain the alerts and the process's memory. Both servers run in child processes; the load comes
 * from this one over loopback, with a bounded number of requests.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const SECRET = 'bench-secret-0123456789';

const { values } = parseArgs({
	options: {
		requests: { type: 'string', default: '20000' },
		connections: { type: 'string', default: '50' },
		store: { type: 'string' },
	},
});
const REQUESTS = Number(values.requests);
const CONNECTIONS = Number(values.connections);

async function start(script: string, env: Record<string, string>) {
	const child = spawn(process.execPath, ['--import', TSX, script], {
		cwd: ROOT,
		env: { PATH: process.env.PATH ?? '', ...env },
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	let out = '';
	child.stdout.on('data', (chunk) => {
		out += chunk;
	});
	const deadline = Date.now() + 20_000;
	for (;;) {
		const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
		if (match) return { child, url: match[1] as string };
		if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${script} did not start:\n${out}`);
		await new Promise((r) => setTimeout(r, 20));
	}
}

function percentile(sorted: number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function load(url: string, label: string) {
	const pool = new Pool(url, { connections: CONNECTIONS, pipelining: 1 });
	const latencies: number[] = [];
	let next = 0;
	let failures = 0;
	const started = performance.now();
	await Promise.all(
		Array.from({ length: CONNECTIONS }, async () => {
			while (next < REQUESTS) {
				const i = next++;
				const body = `username=bench_${i}&status=ACTIVATED&comments=GENERIC+ACTIVATION`;
				const t0 = performance.now();
				const res = await pool.request({
					method: 'POST',
					path: `/hooks/mofh/${SECRET}`,
					headers: { 'content-type': 'application/x-www-form-urlencoded' },
					body,
				});
				await res.body.dump();
				latencies.push(performance.now() - t0);
				if (res.statusCode !== 200) failures++;
			}
		}),
	);
	const seconds = (performance.now() - started) / 1000;
	await pool.close();
	latencies.sort((a, b) => a - b);
	const result = {
		label,
		requests: REQUESTS,
		failures,
		perSecond: Math.round(REQUESTS / seconds),
		p50: percentile(latencies, 50),
		p95: percentile(latencies, 95),
		p99: percentile(latencies, 99),
	};
	process.stdout.write(
		`${label.padEnd(34)} ${String(result.perSecond).padStart(6)} req/s   p50 ${result.p50.toFixed(2)} ms   p95 ${result.p95.toFixed(2)} ms   p99 ${result.p99.toFixed(2)} ms   non-200: ${failures}\n`,
	);
	return result;
}

async function main(): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'hookcord-bench-'));
	const storeUrl = values.store ?? `sqlite://${dir}/bench.sqlite`;
	process.stdout.write(
		`node ${process.version}, ${REQUESTS} requests over ${CONNECTIONS} connections, store ${storeUrl.replace(/\/\/[^@]*@/, '//')}\n`,
	);
	const bare = await start(join(ROOT, 'bench', 'bare.ts'), {});
	const baseline = await load(bare.url, 'bare Fastify (same route shape)');
	bare.child.kill('SIGTERM');

	const hookcord = await start(join(ROOT, 'src', 'main.ts'), {
		HOST: '127.0.0.1',
		PORT: '0',
		STORE_URL: storeUrl,
		HOOK_SECRET: SECRET,
		LOG_LEVEL: 'warn',
		HOOK_RATE_LIMIT: String(REQUESTS * 10),
		// A webhook-less, token-less run would print every alert; muting keeps the bench about the receiver.
		ALERTS_CHANNEL: 'off',
	});
	const receiver = await load(hookcord.url, 'hookcord MOFH callback (stored)');
	const ready = (await (await fetch(`${hookcord.url}/readyz`)).json()) as { delivery: { pending: number } };
	process.stdout.write(
		`receiver/bare throughput ratio: ${(receiver.perSecond / baseline.perSecond).toFixed(2)}\n`,
	);
	process.stdout.write(`pending alerts right after the load: ${ready.delivery.pending}\n`);
	const rss = Number(
		(await import('node:fs'))
			.readFileSync(`/proc/${hookcord.child.pid}/status`, 'utf8')
			.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0,
	);
	process.stdout.write(
		`hookcord resident memory after ${REQUESTS} callbacks: ${(rss / 1024).toFixed(0)} MiB\n`,
	);
	hookcord.child.kill('SIGTERM');
	await new Promise((r) => hookcord.child.once('exit', r));
	rmSync(dir, { recursive: true, force: true });
}

main().catch((error) => {
	process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
	process.exit(1);
});
