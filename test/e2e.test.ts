import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { APIEmbed } from 'discord-api-types/v10';
import { request } from 'undici';
import { type DiscordDouble, snowflake, startDiscordDouble } from './doubles/discord.js';
import {
	onDiscordDouble,
	type RunningHookcord,
	scratchDir,
	startHookcord,
	waitForPending,
} from './process.js';

/**
 * The real process against the Discord double on 127.0.0.1: each callback becomes exactly one embed in
 * the channel of its topic, also across a SIGKILL with a backlog.
 */

const SECRET = 'e2e-secret-0123456789abcdef';
const CHANNELS = {
	ACCOUNTS: snowflake(),
	SUSPENSIONS: snowflake(),
	DOMAINS: snowflake(),
	TICKETS: snowflake(),
	CERTS: snowflake(),
	EMAIL: snowflake(),
};
type Topic = keyof typeof CHANNELS;

function env(discord: DiscordDouble, storeUrl: string): Record<string, string> {
	return {
		...onDiscordDouble(discord, storeUrl, SECRET),
		XOLPHIN_ALLOWED_IPS: '*',
		WOOXY_ALLOWED_IPS: '*',
		RETRY_SCHEDULE: '50ms,100ms',
		...Object.fromEntries(Object.entries(CHANNELS).map(([topic, id]) => [`ALERTS_CHANNEL_${topic}`, id])),
	};
}

interface Callback {
	topic: Topic;
	/** What the alert must show. */
	expect: RegExp;
	send: (base: string) => Promise<{ statusCode: number; body: string }>;
}

const mofh = (fields: Record<string, string>) => async (base: string) => {
	const res = await request(`${base}/hooks/mofh/${SECRET}`, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(fields).toString(),
	});
	return { statusCode: res.statusCode, body: await res.body.text() };
};
const xolphin = (query: Record<string, string>) => async (base: string) => {
	const res = await request(`${base}/hooks/xolphin/${SECRET}?${new URLSearchParams(query)}`);
	return { statusCode: res.statusCode, body: await res.body.text() };
};
const wooxy = (body: object) => async (base: string) => {
	const res = await request(`${base}/hooks/wooxy/${SECRET}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
	});
	return { statusCode: res.statusCode, body: await res.body.text() };
};

const LIFECYCLE: Callback[] = [
	{
		topic: 'ACCOUNTS',
		expect: /Account activated.*host_e2e/,
		send: mofh({ username: 'host_e2e', status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' }),
	},
	{
		topic: 'ACCOUNTS',
		expect: /SQL cluster.*sql102/,
		send: mofh({ username: 'host_e2e', status: 'sql102', comments: 'SQL_SERVER' }),
	},
	{
		topic: 'DOMAINS',
		expect: /Addon domain added.*shop\.example\.com/,
		send: mofh({ username: 'host_e2e', status: 'CLIENTDOMADD', comments: 'shop.example.com' }),
	},
	{
		topic: 'SUSPENSIONS',
		expect: /DAILY_HIT.*Temporary/,
		send: mofh({ username: 'host_e2e', status: 'SUSPENDED', comments: 'ADMIN_CLOSE : DAILY_HIT' }),
	},
	{
		topic: 'ACCOUNTS',
		expect: /Account reactivated/,
		send: mofh({ username: 'host_e2e', status: 'REACTIVATE', comments: 'GENERIC REACT' }),
	},
	{
		topic: 'SUSPENSIONS',
		expect: /PHISHING.*Permanent.*Expected deletion/,
		send: mofh({ username: 'host_e2e', status: 'SUSPENDED', comments: 'PHISHING' }),
	},
	{
		topic: 'ACCOUNTS',
		expect: /Account deleted/,
		send: mofh({ username: 'host_e2e', status: 'DELETE', comments: 'host_e2e' }),
	},
	{
		topic: 'TICKETS',
		expect: /ticket #654321.*We fixed it/s,
		send: mofh({
			callback_type: 'ticket',
			ticket_id: '654321',
			support_reply: 'We fixed it.<br>Regards',
			ticket_status: 'S',
		}),
	},
	{
		topic: 'TICKETS',
		expect: /Ticket #654321 closed/,
		send: mofh({
			callback_type: 'ticket',
			ticket_id: '654321',
			support_reply: 'Ticket status changed to Closed<br><br>Please do reply',
			ticket_status: 'C',
		}),
	},
	{
		topic: 'CERTS',
		expect: /Domain validated.*example\.org/,
		send: xolphin({ RequestId: '4711', Status: 'Updated', State: 'DCV', Domain: 'example.org' }),
	},
	{
		topic: 'CERTS',
		expect: /Certificate issued.*4711/,
		send: xolphin({ RequestId: '4711', Status: 'Issued' }),
	},
	{
		topic: 'EMAIL',
		expect: /hard.*Hard bounce.*user@example\.com/,
		send: wooxy({
			datetime: 1767225600,
			event: 'hard',
			email: 'user@example.com',
			id: 'm1',
			userId: 'u1',
			headers: {},
		}),
	},
];

/** Every embed that reached Discord, with its channel and the event id from its footer. */
function delivered(discord: DiscordDouble) {
	return discord.messages.flatMap((message) =>
		((message.body.embeds ?? []) as APIEmbed[]).map((embed) => ({
			channelId: message.channelId,
			eventId: /event (\w+)/.exec(embed.footer?.text ?? '')?.[1],
			text: JSON.stringify(embed),
			allowedMentions: message.body.allowed_mentions,
			nonce: message.nonce,
		})),
	);
}

async function sendAll(base: string, callbacks: Callback[]) {
	const ids: { id: string; callback: Callback }[] = [];
	for (const callback of callbacks) {
		const res = await callback.send(base);
		assert.equal(res.statusCode, 200, res.body);
		const id = res.body === 'OK' ? undefined : (JSON.parse(res.body).id as string);
		ids.push({ id: id ?? '', callback });
	}
	return ids;
}

describe('end to end: the real process and a Discord double', () => {
	let discord: DiscordDouble;
	const dir = scratchDir();
	const running: RunningHookcord[] = [];

	before(async () => {
		discord = await startDiscordDouble({ channels: Object.values(CHANNELS) });
	});
	after(async () => {
		await Promise.all(running.map((process) => process.kill('SIGKILL')));
		await discord.close();
		dir.remove();
	});

	it('posts every callback of a full lifecycle once, in the channel of its topic', async () => {
		const hookcord = await startHookcord(env(discord, `sqlite://${dir.path}/lifecycle.sqlite`), dir.path);
		running.push(hookcord);
		await sendAll(hookcord.url, LIFECYCLE);
		const embeds = await discord.waitFor(
			(d) => (delivered(d).length >= LIFECYCLE.length ? delivered(d) : null),
			10_000,
		);
		assert.equal(embeds.length, LIFECYCLE.length, 'one embed per callback, no more');
		for (const callback of LIFECYCLE) {
			const matches = embeds.filter((embed) => callback.expect.test(embed.text));
			assert.equal(matches.length, 1, `exactly one alert matching ${callback.expect}`);
			// A ticket's later events go into the thread started on its first alert in that channel.
			const channelId = matches[0]?.channelId ?? '';
			assert.equal(
				discord.threads.get(channelId)?.parentId ?? channelId,
				CHANNELS[callback.topic],
				`${callback.expect} goes to ${callback.topic}`,
			);
		}
		for (const embed of embeds) assert.deepEqual(embed.allowedMentions, { parse: [] });
		const suspension = discord.messages.find((message) => message.channelId === CHANNELS.SUSPENSIONS);
		assert.match(
			String(suspension?.body.content),
			/Account suspended.*`host_e2e`/,
			'a headline for notifications',
		);
		assert.equal(new Set(embeds.map((embed) => embed.eventId)).size, embeds.length);
		assert.doesNotMatch(hookcord.stderr(), new RegExp(SECRET), 'the hook secret never reaches a log line');
		assert.doesNotMatch(
			hookcord.stderr(),
			new RegExp(discord.token),
			'the bot token never reaches a log line',
		);
		assert.equal(await hookcord.kill('SIGTERM'), 0, 'SIGTERM exits 0');
	});

	it('resumes a backlog after SIGKILL and delivers each alert exactly once, batched', async () => {
		const storeUrl = `sqlite://${dir.path}/backlog.sqlite`;
		const before = discord.messages.length;
		const outage = discord.fail({
			method: 'POST',
			path: /\/channels\/\d+\/messages$/,
			status: 503,
			times: Number.POSITIVE_INFINITY,
		});
		const first = await startHookcord(env(discord, storeUrl), dir.path);
		running.push(first);
		const callbacks = Array.from({ length: 15 }, (_, i) => ({
			topic: 'ACCOUNTS' as Topic,
			expect: new RegExp(`host_bl${i}\\b`),
			send: mofh({ username: `host_bl${i}`, status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' }),
		}));
		const sent = await sendAll(first.url, callbacks);
		await discord.waitFor(() => outage.hits >= 3, 5000, 'the outage was hit');
		assert.equal(await first.kill('SIGKILL'), 'SIGKILL');
		assert.equal(discord.messages.length, before, 'nothing was posted during the outage');

		discord.clearFaults();
		const second = await startHookcord(env(discord, storeUrl), dir.path);
		running.push(second);
		const ids = sent.map((entry) => entry.id);
		const embeds = await discord.waitFor((d) => {
			const all = delivered(d).filter((embed) => ids.includes(embed.eventId ?? ''));
			return all.length >= ids.length ? all : null;
		}, 10_000);
		await waitForPending(second, 0, 'nothing left to send: no copy can still be on its way');
		const final = delivered(discord).filter((embed) => ids.includes(embed.eventId ?? ''));
		assert.equal(final.length, ids.length, 'each alert exactly once');
		assert.deepEqual(new Set(final.map((embed) => embed.eventId)), new Set(ids));
		assert.ok(embeds.every((embed) => embed.channelId === CHANNELS.ACCOUNTS));
		// The message in flight at the kill is re-sent as it was (same events, same nonce); the rest is batched.
		const sizes = discord.messages.slice(before).map((message) => (message.body.embeds as APIEmbed[]).length);
		assert.ok(sizes.length <= 3, `15 alerts in at most three messages (got ${sizes})`);
		assert.equal(Math.max(...sizes), 10, 'a backlog fills messages of ten embeds');
		assert.equal(await second.kill('SIGTERM'), 0);
	});

	it('a lost Discord response is retried with the same nonce and posts once', async () => {
		const hookcord = await startHookcord(env(discord, `sqlite://${dir.path}/nonce.sqlite`), dir.path);
		running.push(hookcord);
		const lost = discord.fail({ method: 'POST', path: /\/channels\/\d+\/messages$/, createThenFail: 500 });
		const [entry] = await sendAll(hookcord.url, [
			{
				topic: 'ACCOUNTS',
				expect: /host_nonce/,
				send: mofh({ username: 'host_nonce', status: 'ACTIVATED' }),
			},
		]);
		await discord.waitFor(() => lost.done, 5000);
		await discord.waitFor(
			(d) =>
				d.requests.filter(
					(r) =>
						r.path.endsWith('/messages') &&
						r.status === 200 &&
						JSON.stringify(r.body).includes(entry?.id ?? '-'),
				).length >= 1,
			5000,
			'the retry went through',
		);
		const copies = delivered(discord).filter((embed) => embed.eventId === entry?.id);
		assert.equal(copies.length, 1);
		assert.equal(copies[0]?.nonce, entry?.id);
		await hookcord.kill('SIGTERM');
	});
});
