import assert from 'node:assert/strict';
import { it } from 'node:test';
import { openStore } from '../src/store/store.js';
import { DiscordDouble } from './doubles/discord.js';
import { botSender, deliveryHarness, discordSender } from './helpers.js';
import { idle } from './poll.js';

/**
 * A flood against the Discord double's per-channel limit (scaled down to 5 messages per 2 s so the
 * test is short): the worker keeps the pace, Discord never answers 429, every username arrives once in
 * a handful of messages. Speed is measured by `npm run bench -- --storm`, not here.
 */
it('a flood into one channel: no 429, every username once, a handful of messages', async (t) => {
	const rate = { messages: 5, perMs: 2_000 };
	const discord = await new DiscordDouble({ channelRate: rate }).listen();
	t.after(() => discord.close());
	const sender = botSender(discord);
	const channel = '100000000000000001';
	const store = await openStore('memory://');
	const harness = await deliveryHarness(
		store,
		(message) => sender({ kind: 'channel', key: `channel:${channel}`, channelId: channel }, message),
		{ rate },
	);
	await harness.worker.start();
	t.after(() => harness.worker.stop());
	const names = Array.from({ length: 300 }, (_, i) => `flood_${String(i).padStart(4, '0')}`);
	// Arriving over about a second, as a sweep's callbacks do: without the pace, each would leave at once.
	for (const username of names) {
		await new Promise((resolve) => setTimeout(resolve, 2));
		await harness.ingest({
			provider: 'mofh',
			kind: 'account.suspended',
			username,
			reason: { raw: 'DAILY_HIT', code: 'DAILY_HIT', category: 'temporary' },
		});
	}
	await idle(harness.worker, 10_000);
	const posted = discord.messages.map((message) => JSON.stringify(message.body).match(/flood_\d{4}/g) ?? []);
	const all = posted.flatMap((found) => [...new Set(found)]);
	assert.deepEqual([...all].sort(), names, 'every username, once');
	assert.equal(discord.rateLimited, 0, 'no 429');
	assert.ok(discord.messages.length <= 8, `${discord.messages.length} messages`);
});

it('a webhook destination folds the same way', async (t) => {
	const hook = { id: '200000000000000001', token: 'hooktoken' };
	const discord = await new DiscordDouble({ webhooks: [hook] }).listen();
	t.after(() => discord.close());
	const url = `${discord.apiUrl}/webhooks/${hook.id}/${hook.token}`;
	const sender = discordSender();
	const store = await openStore('memory://');
	const receiver = await deliveryHarness(store);
	const names = Array.from({ length: 60 }, (_, i) => `hooked_${String(i).padStart(3, '0')}`);
	for (const username of names)
		await receiver.ingest({ provider: 'mofh', kind: 'account.activated', username });
	const destination = { kind: 'webhook', key: `webhook:${hook.id}`, url, webhookId: hook.id } as const;
	const harness = await deliveryHarness(store, (message) => sender(destination, message), {
		route: () => [destination],
	});
	await harness.worker.start();
	t.after(() => harness.worker.stop());
	await idle(harness.worker, 10_000);
	assert.equal(discord.webhookMessages.length, 1);
	const [embed] = (discord.webhookMessages[0]?.body.embeds ?? []) as { title?: string }[];
	assert.equal(embed?.title, '60 accounts activated');
	const found = JSON.stringify(discord.webhookMessages[0]?.body).match(/hooked_\d{3}/g) ?? [];
	assert.deepEqual([...new Set(found)].sort(), names);
});
