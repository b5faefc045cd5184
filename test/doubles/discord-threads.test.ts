/**
 * The Discord double's threads, forum posts, thread webhooks and modals (docs/discord.md §6), proven against
 * discord.js 14 / @discordjs/rest 2 on 127.0.0.1: what a second thread for one message answers, how an
 * archived thread comes back, what a forum takes, and the modal round trip.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type TestContext, test } from 'node:test';
import {
	type APIMessage,
	ChannelType,
	Client,
	ComponentType,
	DiscordAPIError,
	Events,
	GatewayIntentBits,
	InteractionResponseType,
	InteractionType,
	MessageFlags,
	type ModalSubmitInteraction,
	RateLimitError,
	REST,
	Routes,
	TextInputStyle,
} from 'discord.js';
import { request } from 'undici';
import { rejectAfter } from '../helpers.js';
import { type DiscordDoubleOptions, startDiscordDouble } from './discord.js';

async function setup(t: TestContext, options: DiscordDoubleOptions = {}) {
	const double = await startDiscordDouble(options);
	const clients: Client[] = [];
	t.after(async () => {
		for (const client of clients) await client.destroy();
		await double.close();
	});
	const rest = new REST({ api: double.apiUrl, retries: 0 }).setToken(double.token);
	const login = async () => {
		const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: double.apiUrl } });
		clients.push(client);
		const ready = once(client, Events.ClientReady);
		await rejectAfter(client.login(double.token), 5000, 'login');
		await rejectAfter(ready, 5000, 'ClientReady');
		return client;
	};
	return { double, rest, login };
}

function apiError(status: number, code: number) {
	return (error: unknown) => {
		assert.ok(error instanceof DiscordAPIError, `expected DiscordAPIError, got ${String(error)}`);
		assert.equal(error.status, status);
		assert.equal(error.code, code);
		return true;
	};
}

const TEXT = '100000000000000001';
const FORUM = '100000000000000002';

test('a thread started from a message has its id; a second one answers 160004', async (t) => {
	const { double, rest } = await setup(t, { channels: [TEXT], forums: [FORUM] });
	const posted = (await rest.post(Routes.channelMessages(TEXT), {
		body: { content: 'alert' },
	})) as APIMessage;
	const thread = (await rest.post(Routes.threads(TEXT, posted.id), {
		body: { name: 'Ticket #123456 · Site down', auto_archive_duration: 10080 },
	})) as { id: string; type: number; parent_id: string; thread_metadata: { archived: boolean } };
	assert.equal(thread.id, posted.id);
	assert.equal(thread.type, ChannelType.PublicThread);
	assert.equal(thread.parent_id, TEXT);
	await assert.rejects(
		rest.post(Routes.threads(TEXT, posted.id), { body: { name: 'again' } }),
		apiError(400, 160004),
	);
	assert.deepEqual(double.threadRefusals, [
		{ code: 160004, path: `/channels/${TEXT}/messages/${posted.id}/threads` },
	]);
	const message = (await rest.get(Routes.channelMessage(TEXT, posted.id))) as APIMessage;
	assert.ok(((message.flags ?? 0) & MessageFlags.HasThread) !== 0, 'the message shows its thread');
	// Names are 1-100 characters; durations one of four; a forum or a thread has no message threads.
	const other = (await rest.post(Routes.channelMessages(TEXT), { body: { content: 'x' } })) as APIMessage;
	await assert.rejects(
		rest.post(Routes.threads(TEXT, other.id), { body: { name: 'x'.repeat(101) } }),
		apiError(400, 50035),
	);
	await assert.rejects(
		rest.post(Routes.threads(TEXT, other.id), { body: { name: 'x', auto_archive_duration: 30 } }),
		apiError(400, 50035),
	);
	await assert.rejects(
		rest.post(Routes.threads(TEXT, '123456789012345678'), { body: { name: 'x' } }),
		apiError(404, 10008),
	);
});

test('posting into an archived thread un-archives it; a locked one refuses', async (t) => {
	const { double, rest } = await setup(t, { channels: [TEXT] });
	const posted = (await rest.post(Routes.channelMessages(TEXT), {
		body: { content: 'alert' },
	})) as APIMessage;
	await rest.post(Routes.threads(TEXT, posted.id), { body: { name: 'Ticket #1' } });
	await rest.post(Routes.channelMessages(posted.id), { body: { content: 'first reply' } });
	const archived = (await rest.patch(Routes.channel(posted.id), { body: { archived: true } })) as {
		thread_metadata: { archived: boolean; locked: boolean };
	};
	assert.deepEqual([archived.thread_metadata.archived, archived.thread_metadata.locked], [true, false]);
	// Archived threads stay readable by id.
	const fetched = (await rest.get(Routes.channel(posted.id))) as { thread_metadata: { archived: boolean } };
	assert.equal(fetched.thread_metadata.archived, true);
	await rest.post(Routes.channelMessages(posted.id), { body: { content: 'support again' } });
	assert.equal(double.threads.get(posted.id)?.archived, false);
	assert.equal(double.threads.get(posted.id)?.unarchivedByPost, 1);
	assert.deepEqual(
		double.threadMessages(posted.id).map((m) => m.content),
		['first reply', 'support again'],
	);
	double.setThread(posted.id, { archived: true, locked: true });
	await assert.rejects(
		rest.post(Routes.channelMessages(posted.id), { body: { content: 'no' } }),
		apiError(403, 160005),
	);
});

test('a forum takes posts (a thread with its first message), never a plain message', async (t) => {
	const { double, rest, login } = await setup(t, { channels: [TEXT], forums: [FORUM] });
	const client = await login();
	assert.equal(
		client.channels.cache.get(FORUM)?.type,
		ChannelType.GuildForum,
		'the forum is in GUILD_CREATE',
	);
	await assert.rejects(
		rest.post(Routes.channelMessages(FORUM), { body: { content: 'x' } }),
		apiError(400, 50024),
	);
	await assert.rejects(
		rest.post(Routes.threads(FORUM), { body: { name: 'no message' } }),
		apiError(400, 50035),
	);
	const post = (await rest.post(Routes.threads(FORUM), {
		body: { name: 'Ticket #7', message: { content: 'opened', embeds: [{ title: 'Ticket #7' }] } },
	})) as { id: string; parent_id: string; message: APIMessage };
	assert.equal(post.parent_id, FORUM);
	assert.equal(post.message.id, post.id, 'the first message has the post id');
	assert.equal(double.threads.get(post.id)?.origin, 'forum');
	// In a text channel the same route makes a private thread unless told otherwise.
	const bare = (await rest.post(Routes.threads(TEXT), { body: { name: 'bare' } })) as { type: number };
	assert.equal(bare.type, ChannelType.PrivateThread);
});

test('thread creation rate limited for minutes: a 429 with the long retry_after', async (t) => {
	const { double } = await setup(t, { channels: [TEXT] });
	const rest = new REST({
		api: double.apiUrl,
		retries: 0,
		rejectOnRateLimit: (info) => info.timeToReset > 30_000,
	}).setToken(double.token);
	const posted = (await rest.post(Routes.channelMessages(TEXT), { body: { content: 'a' } })) as APIMessage;
	double.threadRateLimitSeconds = 240;
	await assert.rejects(
		rest.post(Routes.threads(TEXT, posted.id), { body: { name: 'Ticket #1' } }),
		(error: unknown) => {
			assert.ok(error instanceof RateLimitError, String(error));
			assert.ok(error.timeToReset >= 239_000, `waits ${error.timeToReset} ms`);
			return true;
		},
	);
	assert.equal(double.threads.size, 0, 'nothing was made');
	double.threadRateLimitSeconds = null;
	const fresh = new REST({ api: double.apiUrl, retries: 0 }).setToken(double.token);
	await fresh.post(Routes.threads(TEXT, posted.id), { body: { name: 'Ticket #1' } });
	assert.equal(double.threads.size, 1);
});

test('webhooks: thread_name makes a forum post, thread_id posts into it; neither elsewhere', async (t) => {
	const forumHook = { id: '200000000000000001', token: 'forum-token', channelId: FORUM };
	const textHook = { id: '200000000000000002', token: 'text-token', channelId: TEXT };
	const { double } = await setup(t, { channels: [TEXT], forums: [FORUM], webhooks: [forumHook, textHook] });
	const post = async (hook: typeof forumHook, body: unknown, query = '') => {
		const res = await request(`${double.apiUrl}/webhooks/${hook.id}/${hook.token}?wait=true${query}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(body),
		});
		return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
	};
	const created = await post(forumHook, { content: 'opened', thread_name: 'Ticket #9 · Mail' });
	assert.equal(created.status, 200);
	const threadId = created.body.channel_id as string;
	assert.equal(created.body.id, threadId);
	assert.equal(double.threads.get(threadId)?.name, 'Ticket #9 · Mail');
	double.setThread(threadId, { archived: true });
	const into = await post(forumHook, { content: 'support replied' }, `&thread_id=${threadId}`);
	assert.equal(into.status, 200);
	assert.equal(double.threads.get(threadId)?.archived, false, 'a webhook post un-archives too');
	assert.deepEqual(
		double.threadMessages(threadId).map((m) => m.content),
		['opened', 'support replied'],
	);
	assert.equal((await post(forumHook, { content: 'x' })).body.code, 220001);
	assert.equal((await post(textHook, { content: 'x', thread_name: 'x' })).body.code, 220003);
	assert.equal((await post(textHook, { content: 'x' }, `&thread_id=${threadId}`)).body.code, 10003);
});

test('modals: a first answer only; the submit comes back as type 5 with the values', async (t) => {
	const { double, login } = await setup(t, { channels: [TEXT] });
	const client = await login();
	const submits: ModalSubmitInteraction[] = [];
	client.on(Events.InteractionCreate, async (interaction) => {
		if (interaction.isChatInputCommand()) {
			await interaction.showModal({
				custom_id: 'ticket:open:1',
				title: 'Open a MOFH ticket',
				components: [
					{
						type: ComponentType.Label,
						label: 'Message',
						component: {
							type: ComponentType.TextInput,
							custom_id: 'message',
							style: TextInputStyle.Paragraph,
							max_length: 4000,
						},
					},
				],
			});
		} else if (interaction.isModalSubmit()) {
			submits.push(interaction);
			await interaction.reply({ content: 'sent', flags: MessageFlags.Ephemeral });
		}
	});
	const command = double.injectInteraction(double.makeChatInputInteraction({ commandName: 'ticket' }));
	const modal = await double.waitFor((d) => d.modals.find((m) => m.interactionId === command.id), 3000);
	assert.equal(modal.body.title, 'Open a MOFH ticket');
	assert.equal(
		double.interactionResponses.find((r) => r.interactionId === command.id)?.body.type,
		InteractionResponseType.Modal,
	);
	assert.throws(() => double.makeModalSubmit(modal, { values: {} }), /required/);
	const submit = double.injectInteraction(
		double.makeModalSubmit(modal, { values: { message: 'Hello <b>support</b>' } }),
	);
	assert.equal(submit.type, InteractionType.ModalSubmit);
	await double.waitFor(() => submits.length === 1, 3000);
	assert.equal(submits[0]?.fields.getTextInputValue('message'), 'Hello <b>support</b>');
	assert.equal(submits[0]?.customId, 'ticket:open:1');

	// Answering a submit with a modal, answering twice, or a title over 45 characters: refused.
	const again = double.makeModalSubmit(modal, { values: { message: 'x' } });
	const callback = (id: string, token: string, body: unknown) =>
		request(`${double.apiUrl}/v10/interactions/${id}/${token}/callback`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(body),
		}).then(async (res) => ({ status: res.statusCode, body: (await res.body.text()) || '{}' }));
	const modalBody = { custom_id: 'x', title: 'x', components: modal.body.components };
	const onSubmit = await callback(again.id, again.token, { type: 9, data: modalBody });
	assert.equal(JSON.parse(onSubmit.body).code, 50035);
	const fresh = double.makeChatInputInteraction({ commandName: 'ticket' });
	assert.equal(
		JSON.parse(
			(await callback(fresh.id, fresh.token, { type: 9, data: { ...modalBody, title: 'x'.repeat(46) } }))
				.body,
		).code,
		50035,
	);
	assert.equal((await callback(fresh.id, fresh.token, { type: 9, data: modalBody })).status, 204);
	assert.equal(
		JSON.parse((await callback(fresh.id, fresh.token, { type: 9, data: modalBody })).body).code,
		40060,
	);
});

test('members cannot use commands or buttons in an archived thread', async (t) => {
	const { double, rest } = await setup(t, { channels: [TEXT] });
	const posted = (await rest.post(Routes.channelMessages(TEXT), {
		body: {
			content: 'alert',
			components: [
				{ type: 1, components: [{ type: 2, style: 2, label: 'Reply', custom_id: 'ticket:reply:1' }] },
			],
		},
	})) as APIMessage;
	await rest.post(Routes.threads(TEXT, posted.id), { body: { name: 'Ticket #1' } });
	const inThread = (await rest.post(Routes.channelMessages(posted.id), {
		body: {
			content: 'reply',
			components: [
				{ type: 1, components: [{ type: 2, style: 2, label: 'Reply', custom_id: 'ticket:reply:1' }] },
			],
		},
	})) as APIMessage;
	const click = double.makeButtonClick(inThread, 'ticket:reply:1');
	assert.equal(click.channel_id, posted.id);
	assert.equal((click.channel as { type: number }).type, ChannelType.PublicThread);
	double.setThread(posted.id, { archived: true });
	assert.throws(() => double.makeButtonClick(inThread, 'ticket:reply:1'), /archived thread/);
	assert.throws(
		() => double.makeChatInputInteraction({ commandName: 'ticket', channelId: posted.id }),
		/archived thread/,
	);
	// The alert itself, in the channel, still takes the click.
	assert.ok(double.makeButtonClick(posted, 'ticket:reply:1'));
});
