import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');

export interface RunningHookcord {
	child: ChildProcess;
	/** `http://127.0.0.1:PORT` */
	url: string;
	stdout: () => string;
	stderr: () => string;
	/** Resolves with the exit code (or signal name). */
	exited: Promise<number | string>;
	kill(signal: NodeJS.Signals): Promise<number | string>;
}

/** A scratch directory removed when the test ends. */
export function scratchDir(): { path: string; remove: () => void } {
	const path = mkdtempSync(join(tmpdir(), 'hookcord-'));
	return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Starts the real process (`node --import tsx src/main.ts`) with only the given environment (never the
 * developer's own DISCORD_TOKEN or .env), in `cwd`, and waits for its start-up banner.
 */
export async function startHookcord(
	env: Record<string, string>,
	cwd: string,
	timeoutMs = 15_000,
): Promise<RunningHookcord> {
	const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'src', 'main.ts')], {
		cwd,
		env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
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
	const deadline = Date.now() + timeoutMs;
	let url: string | undefined;
	while (!url) {
		// The banner ends with the "Alerts:" line; wait for all of it, so callers can read the URLs.
		const match = /listening on (http:\/\/[\d.]+:\d+)[\s\S]*\nAlerts: /.exec(out);
		if (match) url = match[1];
		else if (child.exitCode !== null)
			throw new Error(`hookcord exited early (${child.exitCode}):\n${out}\n${err}`);
		else if (Date.now() > deadline) {
			child.kill('SIGKILL');
			throw new Error(`hookcord did not start in ${timeoutMs} ms:\n${out}\n${err}`);
		} else await new Promise((resolve) => setTimeout(resolve, 20));
	}
	return {
		child,
		url,
		stdout: () => out,
		stderr: () => err,
		exited,
		async kill(signal) {
			if (child.exitCode === null && child.signalCode === null) child.kill(signal);
			return exited;
		},
	};
}
