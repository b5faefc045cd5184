import assert from 'node:assert/strict';
import { it } from 'node:test';
import pino from 'pino';
import { startGateway } from '../src/interactions/gateway.js';
import { within } from '../src/within.js';
import { startDiscordDouble } from './doubles/discord.js';
import { until } from './poll.js';

/**
 * The gateway session ends when the instance stops or hands leadership over. discord.js's destroy() during
 * the handshake reconnects and never returns: it held a stop until its 20 s force timeout, and left a
 * second session beside the new leader's. A session closed while connecting is ended once it is ready.
 */
it('closing during the handshake returns at once; the session is ended when it completes', async (t) => {
	const discord = await startDiscordDouble();
	t.after(() => discord.close());
	discord.holdReady = true;
	const lines: string[] = [];
	const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
	const gateway = startGateway({
		token: discord.token,
		apiUrl: discord.apiUrl,
		dispatch: async () => {},
		track: () => {},
		log,
	});
	await until(() => discord.identifies.length === 1, 'the client identified');

	const began = performance.now();
	const returned = await within(
		gateway.close().then(() => true),
		5000,
	);
	assert.equal(returned, true, 'close() returned');
	const took = performance.now() - began;
	assert.ok(took < 1000, `close() returned after ${took.toFixed(0)} ms`);
	assert.equal(discord.identifies.length, 1, 'no second handshake: destroy() mid-handshake would reconnect');

	// Discord completes the handshake after all: the client ends that session at once.
	discord.releaseReady();
	await until(() => discord.openGatewaySockets === 0, 'the late session was closed', { timeoutMs: 10_000 });
	assert.equal(gateway.isReady(), false);
	assert.ok(!lines.some((line) => line.includes('Discord gateway ready')), 'never reported ready');
});
