import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import type { Event } from '../src/events/event.js';
import { parseMofh } from '../src/providers/mofh/parse.js';
import { createOutbox, outboxKey } from '../src/state/outbox.js';
import { openStore } from '../src/store/store.js';
import { scratchDir } from './process.js';

/** `npm run alerts -- failed` prints provider text to a terminal: no control character may reach it. */

const ROOT = resolve(import.meta.dirname, '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const CONTROLS = /(?!\n)[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

test('npm run alerts -- failed strips ESC sequences, C1 controls and bidi overrides, also decoded ones', {
	timeout: 30_000,
}, async (t) => {
	const dir = scratchDir();
	t.after(dir.remove);
	const storeUrl = `sqlite://${dir.path}/store.sqlite`;
	const store = await openStore(storeUrl);
	const outbox = createOutbox(store);
	const ticket = parseMofh({
		callback_type: 'ticket',
		ticket_id: '81',
		ticket_status: 'S',
		support_reply: '&#27;[2J&#x1b;]0;pwned&#7;\u009b31m\u202eevil',
	});
	const event = { ...ticket, id: 'evt000000000000000081', receivedAt: Date.now() } as Event;
	await outbox.fail(
		{ event, destination: 'channel 1\u001b[31m', attempts: 9, notBefore: 0, budgetFrom: 0 },
		'channel 1\u001b[31m',
		Date.now(),
	);
	// The failure text Discord or the network gave, which the CLI shows too.
	const [failed] = await outbox.listFailed();
	assert.ok(failed);
	await store.failed.set(outboxKey(failed.destination, event.id), {
		...failed,
		lastError: 'HTTP 400\u001b]8;;https://evil\u0007link\u001b]8;;\u0007',
	});
	await store.close();

	const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'scripts', 'alerts.ts'), 'failed'], {
		cwd: dir.path,
		env: { PATH: process.env.PATH ?? '', STORE_URL: storeUrl },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let stdout = '';
	child.stdout.on('data', (chunk) => {
		stdout += chunk;
	});
	const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
	const [code] = await once(child, 'exit');
	clearTimeout(timer);
	assert.equal(code, 0, stdout);
	assert.match(stdout, /Failed deliveries \(1\)/);
	assert.match(stdout, /evt000000000000000081/);
	assert.doesNotMatch(stdout.replace(/\n/g, ''), CONTROLS, JSON.stringify(stdout));
});
