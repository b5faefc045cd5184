import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { openStore } from '../src/store/store.js';
import { ManualClock } from './clock.js';
import { DiscordDouble } from './doubles/discord.js';
import { botSender, deliveryHarness, pendingEntries } from './helpers.js';

/**
 * Discord drops a repeated nonce only for a few minutes. A message whose first attempt is older than
 * that is looked for in the channel before it is posted again, so a lost answer never posts it twice.
 */

const CHANNEL = '100000000000000001';

async function setup(t: TestContext, nonceWindowMs?: number, retryMs = 130_000) {
	const discord = await new DiscordDouble(nonceWindowMs === undefined ? {} : { nonceWindowMs }).listen();
	t.after(() => discord.close());
	const sender = botSender(discord);
	const store = await openStore('memory://');
	const clock = new ManualClock();
	const harness = await deliveryHarness(
		store,
		(message) => sender({ kind: 'channel', key: `channel:${CHANNEL}`, channelId: CHANNEL }, message),
		{
			now: clock.now,
			after: clock.after,
			retrySchedule: [retryMs],
			sweepMs: 600_000,
			nonceWindowMs: 120_000,
		},
	);
	await harness.worker.start();
	t.after(() => harness.worker.stop());
	const lookups = () =>
		discord.requests.filter((request) => request.method === 'GET' && /\/messages$/.test(request.path));
	/** Real time passes for the HTTP round trips (polled); the worker's clock only when advanced. */
	const settled = async () => {
		for (let i = 0; (await pendingEntries(harness.outbox))[0]?.attempts !== 1; i++) {
			assert.ok(i < 400, 'the first attempt failed and was recorded');
			await new Promise((resolve) => setTimeout(resolve, 5));
		}
	};
	return { discord, clock, lookups, settled, ...harness };
}

const alert = { provider: 'mofh', kind: 'account.activated', username: 'host_nw' } as const;

/** Real HTTP to the double: polls (without moving the worker's clock) until delivered. */
async function delivered(worker: { status(): { pending: number } }) {
	for (let i = 0; worker.status().pending > 0; i++) {
		assert.ok(i < 400, 'delivered');
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
}

describe('beyond the nonce window', () => {
	it('finds the message a lost answer posted, and does not post it again', async (t) => {
		const { discord, clock, lookups, settled, ingest, worker } = await setup(t, 0);
		discord.fail({ method: 'POST', path: /\/messages$/, createThenFail: 500 });
		await ingest(alert);
		await settled();
		assert.equal(discord.messages.length, 1, 'the first attempt posted it');
		await clock.advance(130_000); // the retry comes after Discord has forgotten the nonce
		await delivered(worker);
		assert.equal(lookups().length, 1, 'the channel was searched');
		assert.equal(discord.messages.length, 1, 'and the message was not posted twice');
	});

	it('posts when the channel does not have it', async (t) => {
		const { discord, clock, lookups, settled, ingest, worker } = await setup(t, 0);
		discord.fail({ method: 'POST', path: /\/messages$/, status: 503 });
		await ingest(alert);
		await settled();
		await clock.advance(130_000);
		await delivered(worker);
		assert.equal(lookups().length, 1);
		assert.equal(discord.messages.length, 1);
	});

	it("a copy someone else posted is not taken for the bot's message: it is posted", async (t) => {
		const { discord, clock, lookups, settled, ingest, worker, attempts } = await setup(t, 0);
		discord.fail({ method: 'POST', path: /\/messages$/, status: 503 });
		await ingest(alert);
		await settled();
		// A member who saw the alert's text (or guessed it) posts the same content and embeds before the
		// retry: were any author's copy enough, they could keep an alert out of the channel.
		const tried = attempts[0];
		assert.ok(tried);
		const member = {
			id: '300000000000000001',
			username: 'mallory',
			discriminator: '0',
			global_name: null,
			avatar: null,
		};
		discord.postAsMember(CHANNEL, { content: tried.content, embeds: tried.embeds }, member);
		await clock.advance(130_000);
		await delivered(worker);
		assert.equal(lookups().length, 1, 'the channel was searched');
		assert.equal(discord.messages.length, 1, 'and the bot posted the alert itself');
	});

	it('within the window the nonce is enough: no search', async (t) => {
		const { discord, clock, lookups, settled, ingest, worker } = await setup(t, undefined, 5_000);
		discord.fail({ method: 'POST', path: /\/messages$/, createThenFail: 500 });
		await ingest(alert);
		await settled();
		await clock.advance(6_000);
		await delivered(worker);
		assert.equal(lookups().length, 0);
		assert.equal(discord.messages.length, 1, 'Discord answered the repeat with the message it had');
	});
});
