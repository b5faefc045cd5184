import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { APIEmbed } from 'discord-api-types/v10';
import { request } from 'undici';
import { until } from './poll.js';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');

export interface RunningProcess {
	child: ChildProcess;
	stdout: () => string;
	stderr: () => string;
	/** Resolves with the exit code (or signal name). */
	exited: Promise<number | string>;
	kill(signal: NodeJS.Signals): Promise<number | string>;
}

export interface RunningHookcord extends RunningProcess {
	/** `http://127.0.0.1:PORT` */
	url: string;
}

/** A scratch directory removed when the test ends. */
export function scratchDir(): { path: string; remove: () => void } {
	const path = mkdtempSync(join(tmpdir(), 'hookcord-'));
	return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * The one process spawner: `node --import tsx <script> …args` from the repository (e.g. `src/main.ts`,
 * `scripts/alerts.ts`) with only PATH and `env` (never the developer's own DISCORD_TOKEN or .env), in
 * `cwd`. `preload` modules are imported first (test fixtures that act inside the process).
 */
export function spawnScript(
	script: string,
	{
		args = [],
		env = {},
		cwd,
		preload = [],
	}: { args?: string[]; env?: Record<string, string>; cwd: string; preload?: string[] },
): RunningProcess {
	const imports = [TSX, ...preload].flatMap((module) => ['--import', module]);
	const child = spawn(process.execPath, [...imports, join(ROOT, script), ...args], {
		cwd,
		env: { PATH: process.env.PATH ?? '', ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let out = '';
	let err = '';
	child.stdout?.on('data', (chunk) => {
		out += chunk;
	});
	child.stderr?.on('data', (chunk) => {
		err += chunk;
	});
	const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string);
	return {
		child,
		stdout: () => out,
		stderr: () => err,
		exited,
		async kill(signal) {
			if (child.exitCode === null && child.signalCode === null) child.kill(signal);
			return exited;
		},
	};
}

/** Runs a script to its end (killed after `timeoutMs`): its exit code and output. */
export async function runScript(
	script: string,
	options: Parameters<typeof spawnScript>[1] & { timeoutMs?: number },
): Promise<{ code: number | string; stdout: string; stderr: string }> {
	const running = spawnScript(script, options);
	const timer = setTimeout(() => running.child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
	const code = await running.exited;
	clearTimeout(timer);
	return { code, stdout: running.stdout(), stderr: running.stderr() };
}

/** The real process (`src/main.ts`) on an ephemeral loopback port, once its start-up banner is printed. */
export async function startHookcord(
	env: Record<string, string>,
	cwd: string,
	timeoutMs = 60_000,
	preload: string[] = [],
): Promise<RunningHookcord> {
	const running = spawnScript('src/main.ts', {
		env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
		cwd,
		preload,
	});
	const output = () => `${running.stdout()}\n${running.stderr()}`;
	try {
		// The banner ends with the "Alerts:" line; wait for all of it, so callers can read the URLs.
		const url = await until(
			() => {
				if (running.child.exitCode !== null)
					throw new Error(`hookcord exited early (${running.child.exitCode}):\n${output()}`);
				return /listening on (http:\/\/[\d.]+:\d+)[\s\S]*\nAlerts: /.exec(running.stdout())?.[1];
			},
			'the start-up banner',
			{ timeoutMs, everyMs: 20, detail: output },
		);
		return { ...running, url };
	} catch (error) {
		running.child.kill('SIGKILL');
		throw error;
	}
}

/**
 * What every process on the Discord double starts with: its store, hook secret, the bot's token and the
 * double's API, and MOFH callbacks from any address (the tests post from loopback).
 */
export function onDiscordDouble(
	discord: { token: string; apiUrl: string },
	storeUrl: string,
	secret: string,
): Record<string, string> {
	return {
		STORE_URL: storeUrl,
		HOOK_SECRET: secret,
		DISCORD_TOKEN: discord.token,
		DISCORD_API_URL: discord.apiUrl,
		MOFH_ALLOWED_IPS: '*',
	};
}

/** One MOFH callback to the process; resolves with the event id of its 200 answer (throws on another). */
export async function postMofh(
	hookcord: { url: string },
	secret: string,
	fields: Record<string, string>,
): Promise<string> {
	const res = await request(`${hookcord.url}/hooks/mofh/${secret}`, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(fields).toString(),
	});
	const text = await res.body.text();
	if (res.statusCode !== 200) throw new Error(`callback answered ${res.statusCode}: ${text}`);
	return (JSON.parse(text) as { id: string }).id;
}

/** The event id in the footer of every embed of `messages` (`… · event <id>`), repeats kept. */
export function footerIds(messages: { body: { embeds?: unknown } }[]): string[] {
	return messages.flatMap((message) =>
		((message.body.embeds ?? []) as APIEmbed[]).map(
			(embed) => /event (\w+)/.exec(embed.footer?.text ?? '')?.[1] ?? `(no id: ${embed.footer?.text})`,
		),
	);
}

export interface Readiness {
	problems: string[];
	delivery: { pending: number; halted?: string; paused: { destination: string; reason: string }[] };
}

/** The process's `GET /readyz`, whatever its status code. */
export async function readyz(hookcord: { url: string }): Promise<{ statusCode: number; body: Readiness }> {
	const res = await request(`${hookcord.url}/readyz`);
	return { statusCode: res.statusCode, body: (await res.body.json()) as Readiness };
}

/**
 * Waits (bounded) until the process's delivery worker holds exactly `count` alerts (per /readyz): the
 * positive sign that it has decided about every alert, e.g. that nothing is left that could still post.
 */
export async function waitForPending(
	hookcord: { url: string },
	count: number,
	what: string,
	timeoutMs = 15_000,
): Promise<void> {
	let last: Readiness['delivery'] | undefined;
	await until(
		async () => {
			last = (await readyz(hookcord)).body.delivery;
			return last.pending === count;
		},
		what,
		{ timeoutMs, everyMs: 50, detail: () => JSON.stringify(last) },
	);
}
