import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { REST } from '@discordjs/rest';
import { ChannelType } from 'discord-api-types/v10';
import { DeliveryError } from '../src/delivery/errors.js';
import { createTicketThreads, type TicketPost } from '../src/delivery/ticket-thread.js';
import type { TicketEvent } from '../src/events/event.js';
import { newEventId } from '../src/events/id.js';
import { ticketMessages } from '../src/render/ticket.js';
import { ticketThreads } from '../src/state/ticket-threads.js';
import { openStore } from '../src/store/store.js';
import { type DiscordDouble, startDiscordDouble } from './doubles/discord.js';

/**
 * One thread per MOFH ticket in a bot channel, against the Discord double that enforces the thread rules:
 * started once under duplicates and across a restart, later events into it, a close archives it and a
 * later event re-opens it, a forum post per ticket, a thread creation rate limited for minutes.
 */

const TEXT = '100000000000000001';
const FORUM = '100000000000000002';

let clock = Date.parse('2026-12-02T10:00:00Z');
function ticketEvent(
	kind: TicketEvent['kind'],
	ticketId: string,
	text: string,
	extra: Partial<TicketEvent> = {},
): TicketEvent {
	clock += 1000;
	const base = { id: newEventId(clock), receivedAt: clock, provider: 'mofh' as const, ticketId, text };
	if (kind === 'ticket.opened' || kind === 'ticket.reply_sent')
		return {
			...base,
			kind,
			username: 'hname_12345678',
			by: { id: '123456789012345678', name: 'oncall' },
			submitId: '123456789012345679',
			...extra,
		} as TicketEvent;
	return { ...base, kind, ...extra } as TicketEvent;
}

const post = (event: TicketEvent, lookBack = false): TicketPost => {
	const parts = ticketMessages(event);
	return { event, parts, content: parts[0]?.title ?? '', lookBack };
};

async function setup(t: TestContext) {
	const discord = await startDiscordDouble({ channels: [TEXT], forums: [FORUM], channelRate: false });
	const store = await openStore('memory://');
	t.after(async () => {
		await store.close();
		await discord.close();
	});
	/** One process's delivery side: its own REST client and channel cache, over the shared store. */
	const process = () =>
		createTicketThreads({
			rest: new REST({
				api: discord.apiUrl,
				retries: 0,
				rejectOnRateLimit: (info) => info.timeToReset > 30_000,
			}).setToken(discord.token),
			store,
			now: () => clock,
		});
	return { discord, store, process };
}

const contents = (discord: DiscordDouble, threadId: string) =>
	discord.threadMessages(threadId).map((message) => message.embeds[0]?.title);

describe('ticket threads in a bot channel', () => {
	it('starts a thread on the first alert; later events go into it; a close archives it; a later reply re-opens it', async (t) => {
		const { discord, store, process } = await setup(t);
		const threads = process();
		await threads.deliver(
			`channel:${TEXT}`,
			TEXT,
			post(ticketEvent('ticket.replied', '123456', 'Hello, we are looking.')),
		);
		const alert = discord.channelMessages(TEXT)[0];
		assert.ok(alert, 'the alert is in the channel');
		const thread = discord.threads.get(alert.id);
		assert.equal(thread?.name, 'Ticket #123456 · Hello, we are looking.');
		assert.equal(thread?.type, ChannelType.PublicThread);
		assert.equal(thread?.origin, 'message');
		assert.deepEqual((await ticketThreads(store, '123456'))[`channel:${TEXT}`]?.threadId, alert.id);

		await threads.deliver(
			`channel:${TEXT}`,
			TEXT,
			post(ticketEvent('ticket.replied', '123456', 'Fixed now.')),
		);
		await threads.deliver(
			`channel:${TEXT}`,
			TEXT,
			post(ticketEvent('ticket.closed', '123456', 'Ticket status changed to Closed.\n\nPlease do reply.')),
		);
		assert.deepEqual(contents(discord, alert.id), [
			'Support replied to ticket #123456',
			'Ticket #123456 closed',
		]);
		assert.equal(discord.threads.get(alert.id)?.archived, true);
		assert.equal(discord.threads.get(alert.id)?.locked, false, 'archived, never locked');
		assert.equal(discord.channelMessages(TEXT).length, 1, 'only the first alert is in the channel');

		await threads.deliver(
			`channel:${TEXT}`,
			TEXT,
			post(ticketEvent('ticket.replied', '123456', 'One more thing')),
		);
		assert.equal(discord.threads.get(alert.id)?.archived, false);
		assert.equal(discord.threads.get(alert.id)?.unarchivedByPost, 1);
		assert.equal(discord.threads.size, 1);
		// Every ticket message carries the Reply button.
		for (const message of [alert, ...discord.threadMessages(alert.id)])
			assert.match(JSON.stringify(message.components), /ticket:reply:123456/);
	});

	it('starts one thread however many copies are delivered at once, on one instance or two', async (t) => {
		const { discord, process } = await setup(t);
		const event = ticketEvent('ticket.opened', '000042', 'The site is down', { subject: 'Site down' });
		const [a, b] = [process(), process()];
		const settled = await Promise.allSettled([
			a.deliver(`channel:${TEXT}`, TEXT, post(event)),
			b.deliver(`channel:${TEXT}`, TEXT, post(event)),
			a.deliver(`channel:${TEXT}`, TEXT, post(event)),
		]);
		assert.deepEqual(
			settled.map((result) => result.status),
			['fulfilled', 'fulfilled', 'fulfilled'],
		);
		assert.equal(discord.channelMessages(TEXT).length, 1, 'one alert (the nonce)');
		assert.equal(discord.threads.size, 1, 'one thread');
		assert.ok(
			discord.threadRefusals.some((refusal) => refusal.code === 160004),
			'Discord refused the second',
		);
		assert.equal([...discord.threads.values()][0]?.name, 'Ticket #000042 · Site down');
	});

	it('thread creation rate limited for minutes: the alert waits with its thread-to-be in the store; a restart starts it once', async (t) => {
		const { discord, store, process } = await setup(t);
		discord.threadRateLimitSeconds = 240;
		const event = ticketEvent('ticket.replied', '777777', 'Please send logs');
		await assert.rejects(process().deliver(`channel:${TEXT}`, TEXT, post(event)), (error: unknown) => {
			// A retry for the outbox, with Discord's wait: the entry waits in the store, not in memory.
			assert.ok(error instanceof DeliveryError, String(error));
			assert.equal(error.kind, 'retry');
			assert.ok((error.retryAfterMs ?? 0) >= 239_000, String(error.retryAfterMs));
			return true;
		});
		const recorded = (await ticketThreads(store, '777777'))[`channel:${TEXT}`];
		assert.deepEqual([recorded?.started, typeof recorded?.threadId], [false, 'string']);
		// Minutes later, in a process started afresh (past the nonce window: it looks back too).
		discord.threadRateLimitSeconds = null;
		await process().deliver(`channel:${TEXT}`, TEXT, post(event, true));
		assert.equal(discord.channelMessages(TEXT).length, 1, 'the alert was not posted again');
		assert.equal(discord.threads.size, 1);
		assert.equal([...discord.threads.keys()][0], recorded?.threadId);
		assert.equal((await ticketThreads(store, '777777'))[`channel:${TEXT}`]?.started, true);
	});

	it('a forum gets one post per ticket; an answer lost at creation does not make a second post', async (t) => {
		const { discord, store, process } = await setup(t);
		const threads = process();
		// The post is made, but the answer is lost.
		discord.fail({ method: 'POST', path: `/channels/${FORUM}/threads`, createThenFail: 500 });
		const first = ticketEvent('ticket.opened', '000303', 'Mail bounces', { subject: 'Mail' });
		await assert.rejects(threads.deliver(`channel:${FORUM}`, FORUM, post(first)));
		await threads.deliver(`channel:${FORUM}`, FORUM, post(first));
		assert.equal(discord.threads.size, 1, 'one post');
		const [forumPost] = [...discord.threads.values()];
		assert.equal(forumPost?.origin, 'forum');
		assert.equal(forumPost?.name, 'Ticket #000303 · Mail');
		await threads.deliver(
			`channel:${FORUM}`,
			FORUM,
			post(ticketEvent('ticket.replied', '000303', 'Try again')),
		);
		await threads.deliver(`channel:${FORUM}`, FORUM, post(ticketEvent('ticket.opened', '000304', 'Other')));
		assert.equal(discord.threads.size, 2, 'one post per ticket');
		assert.deepEqual(contents(discord, forumPost?.id as string), [
			'Ticket #000303 opened · Mail',
			'Support replied to ticket #000303',
		]);
		assert.equal((await ticketThreads(store, '000303'))[`channel:${FORUM}`]?.threadId, forumPost?.id);
	});

	it('a text longer than one message is split across messages in the thread, as data', async (t) => {
		const { discord, process } = await setup(t);
		const long = `${'A *long* line with <@123> and @everyone.\n'.repeat(300)}The end.`;
		await process().deliver(`channel:${TEXT}`, TEXT, post(ticketEvent('ticket.replied', '888888', long)));
		const [alert] = discord.channelMessages(TEXT);
		const inThread = discord.threadMessages(alert?.id as string);
		const parts = [alert, ...inThread].map((message) => message?.embeds[0]?.description ?? '');
		assert.ok(parts.length >= 3, `${parts.length} parts`);
		assert.ok(parts.every((part) => [...part].length <= 4096));
		assert.ok(parts.at(-1)?.includes('The end.'));
		assert.ok(
			parts.every((part) => !part.includes('<@123>') && !/(?<!\\)\*long/.test(part)),
			'escaped',
		);
		assert.match(inThread[0]?.embeds[0]?.title ?? '', /\(2\/\d\)$/);
	});

	it('a deleted or locked thread: the next event starts another instead of failing', async (t) => {
		const { discord, process } = await setup(t);
		const threads = process();
		await threads.deliver(`channel:${TEXT}`, TEXT, post(ticketEvent('ticket.replied', '999999', 'first')));
		const [firstThread] = [...discord.threads.keys()];
		discord.threads.delete(firstThread as string);
		await threads.deliver(`channel:${TEXT}`, TEXT, post(ticketEvent('ticket.replied', '999999', 'second')));
		assert.equal(discord.threads.size, 1);
		const [secondThread] = [...discord.threads.keys()];
		assert.notEqual(secondThread, firstThread);
		// Locked by a moderator: the bot cannot post there (160005), so the conversation moves on too.
		discord.setThread(secondThread as string, { archived: true, locked: true });
		await threads.deliver(`channel:${TEXT}`, TEXT, post(ticketEvent('ticket.replied', '999999', 'third')));
		assert.equal(discord.threads.size, 2);
		assert.equal(discord.threads.get(secondThread as string)?.locked, true, 'left as the moderator set it');
	});
});
