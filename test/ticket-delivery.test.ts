import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { parseConfig } from '../src/config.js';
import { composeServices } from '../src/service.js';
import type { OutboxEntry } from '../src/state/outbox.js';
import { ticketThreads } from '../src/state/ticket-threads.js';
import { openStore, type Store } from '../src/store/store.js';
import { ManualClock } from './clock.js';
import { type DiscordDouble, startDiscordDouble } from './doubles/discord.js';
import { silent } from './helpers.js';

/**
 * MOFH ticket callbacks through the whole flow (route ─▶ ingest ─▶ outbox ─▶ worker ─▶ the ticket kind ─▶
 * the Discord double that enforces the thread rules): a thread per ticket in a text channel, a post per
 * ticket in a forum and through a forum's webhook, copies of a callback at once, a thread creation rate
 * limited for minutes across a restart.
 */

const TEXT = '100000000000000001';
const FORUM = '100000000000000002';
const SECRET = 'ticket-delivery-secret-0123456789';
const HOOK = { id: '200000000000000001', token: 'forum-hook-token', channelId: FORUM };

async function setup(t: TestContext, tickets: (discord: DiscordDouble) => string) {
	const discord = await startDiscordDouble({
		channels: [TEXT],
		forums: [FORUM],
		webhooks: [HOOK],
		channelRate: false,
	});
	const store = await openStore('memory://');
	const clock = new ManualClock(Date.now());
	const processes: Awaited<ReturnType<typeof composeServices>>[] = [];
	t.after(async () => {
		for (const process of processes) await process.close();
		await store.close();
		await discord.close();
	});
	/** One hookcord process on the shared store and clock; a second call stands for a restart. */
	async function start() {
		const services = await composeServices(
			parseConfig({
				HOST: '127.0.0.1',
				PORT: '0',
				STORE_URL: 'memory://',
				HOOK_SECRET: SECRET,
				DISCORD_TOKEN: discord.token,
				DISCORD_API_URL: discord.apiUrl,
				ALERTS_CHANNEL: TEXT,
				ALERTS_CHANNEL_TICKETS: tickets(discord),
				MOFH_ALLOWED_IPS: '*',
			}),
			{
				logger: silent,
				store,
				gateway: false,
				lease: false,
				now: clock.now,
				after: clock.after,
				delivery: { retrySchedule: [1000, 2000], retryBudget: 3_600_000 },
			},
		);
		processes.push(services);
		await services.worker.start();
		return services;
	}
	const first = await start();
	/** A ticket callback as MOFH posts it. */
	async function callback(process: typeof first, ticketId: string, status: 'S' | 'C', reply: string) {
		const res = await process.app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}`,
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			payload: new URLSearchParams({
				callback_type: 'ticket',
				ticket_id: ticketId,
				ticket_status: status,
				support_reply: reply,
			}).toString(),
		});
		assert.equal(res.statusCode, 200, res.body);
	}
	return { discord, store, clock, first, start, callback };
}

const titles = (discord: DiscordDouble, channelId: string) =>
	discord.threadMessages(channelId).map((message) => message.embeds[0]?.title);

async function outbox(store: Store): Promise<OutboxEntry[]> {
	const entries: OutboxEntry[] = [];
	if (store.outbox.iterator)
		for await (const [, value] of store.outbox.iterator(undefined)) entries.push(value as OutboxEntry);
	return entries;
}

describe('ticket callbacks become one Discord conversation per ticket', () => {
	it('a text channel: the first callback starts a thread on its alert; replies, the close and a re-opening go into it', async (t) => {
		const { discord, first, callback } = await setup(t, () => TEXT);
		await callback(first, '123456', 'S', 'Hello,<br><br>we are looking into it &amp; will update you.');
		const alert = await discord.waitFor((d) => d.channelMessages(TEXT)[0], 5000, 'the alert');
		const thread = await discord.waitFor((d) => d.threads.get(alert.id), 5000, 'its thread');
		assert.equal(thread.name, 'Ticket #123456 · Hello, we are looking into it & will');
		assert.match(alert.embeds[0]?.description ?? '', /we are looking into it & will update you\./);
		await callback(first, '123456', 'S', 'Fixed.');
		await callback(
			first,
			'123456',
			'C',
			'Ticket status changed to Closed at 2026-12-02, 10:00<br><br>Please do reply to this ticket if you have any further queries and we will happily assist.',
		);
		await discord.waitFor((d) => d.threads.get(alert.id)?.archived, 5000, 'archived after the close');
		assert.equal(discord.threads.get(alert.id)?.locked, false);
		await callback(first, '123456', 'S', 'One more thing.');
		await discord.waitFor((d) => d.threadMessages(alert.id).length === 3, 5000, 'the re-opening post');
		assert.equal(discord.threads.get(alert.id)?.archived, false, 'posting re-opened it');
		assert.deepEqual(titles(discord, alert.id), [
			'Support replied to ticket #123456',
			'Ticket #123456 closed',
			'Support replied to ticket #123456',
		]);
		assert.equal(discord.channelMessages(TEXT).length, 1, 'the channel holds only the first alert');
		assert.equal(discord.threads.size, 1);
	});

	it('copies of one callback at once: one alert, one thread', async (t) => {
		const { discord, first, callback } = await setup(t, () => TEXT);
		await Promise.all(Array.from({ length: 6 }, () => callback(first, '000042', 'S', 'We need your logs.')));
		await discord.waitFor((d) => d.threads.size === 1, 5000, 'the thread');
		await first.worker.sweep();
		await discord.waitFor((d) => d.requests.length > 0 && first.worker.status().pending === 0, 5000);
		assert.equal(discord.channelMessages(TEXT).length, 1);
		assert.equal(discord.threads.size, 1);
	});

	it('thread creation rate limited for minutes: the event waits in the store; after a restart the thread is started once', async (t) => {
		const { discord, store, clock, first, start, callback } = await setup(t, () => TEXT);
		discord.threadRateLimitSeconds = 240;
		await callback(first, '777777', 'S', 'Please send logs.');
		await discord.waitFor((d) => d.threadRefusals.some((r) => r.code === 'rate_limited'), 5000, 'the 429');
		// The alert went out; the thread waits, in the store, for Discord's four minutes.
		let waiting: OutboxEntry | undefined;
		for (let i = 0; i < 200 && !waiting; i++) {
			waiting = (await outbox(store)).find(
				(entry) => entry.event.kind === 'ticket.replied' && entry.attempts > 0,
			);
			if (!waiting) await new Promise((resolve) => setTimeout(resolve, 10));
		}
		assert.ok(waiting, 'the entry is in the outbox with its attempt counted');
		assert.ok(waiting.notBefore - clock.now() >= 239_000, `waits ${waiting.notBefore - clock.now()} ms`);
		assert.equal(discord.channelMessages(TEXT).length, 1);
		assert.equal((await ticketThreads(store, '777777'))['ticket:channel-100000000000000001']?.started, false);
		assert.equal(discord.threads.size, 0);

		// A restart in between changes nothing: the next process starts it once, on the same alert.
		await first.close();
		discord.threadRateLimitSeconds = null;
		const second = await start();
		await clock.advance(241_000);
		const alert = discord.channelMessages(TEXT)[0];
		await discord.waitFor((d) => d.threads.get(alert?.id as string), 5000, 'the thread, once');
		await discord.waitFor(() => second.worker.status().pending === 0, 5000);
		assert.equal(discord.channelMessages(TEXT).length, 1, 'no second alert');
		assert.equal(discord.threads.size, 1);
	});

	it('a forum channel: one post per ticket, later callbacks into it', async (t) => {
		const { discord, first, callback } = await setup(t, () => FORUM);
		await callback(first, '000303', 'S', 'Mail is back.');
		await callback(first, '000304', 'S', 'Other ticket.');
		await callback(first, '000303', 'C', 'Ticket status changed to Closed.');
		await discord.waitFor((d) => d.threads.size === 2, 5000, 'two posts');
		const post = [...discord.threads.values()].find((thread) => thread.name.startsWith('Ticket #000303'));
		assert.equal(post?.origin, 'forum');
		await discord.waitFor((d) => d.threads.get(post?.id as string)?.archived, 5000, 'the close archives it');
		assert.deepEqual(titles(discord, post?.id as string), [
			'Support replied to ticket #000303',
			'Ticket #000303 closed',
		]);
	});

	it("a forum's webhook: the first message makes the post (thread_name), later ones go into it (thread_id)", async (t) => {
		const { discord, store, first, callback } = await setup(
			t,
			(d) => `${d.apiUrl}/webhooks/${HOOK.id}/${HOOK.token}`,
		);
		await callback(first, '000505', 'S', 'First answer.');
		await discord.waitFor((d) => d.threads.size === 1, 5000, 'the post');
		await callback(first, '000505', 'S', 'Second answer.');
		const [post] = [...discord.threads.values()];
		await discord.waitFor((d) => d.threadMessages(post?.id as string).length === 2, 5000, 'into the post');
		assert.equal(post?.origin, 'webhook');
		const sent = discord.webhookMessages.filter((message) => message.threadId === post?.id);
		assert.equal(sent.length, 2);
		assert.equal((await ticketThreads(store, '000505'))[`ticket:webhook-${HOOK.id}`]?.threadId, post?.id);
	});
});
