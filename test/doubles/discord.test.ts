/**
 * Proves the Discord double against the real discord.js 14 / @discordjs/rest 2 stack, on 127.0.0.1 only.
 * Every wait is bounded; every client and double is torn down by the test that made it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type TestContext, test } from 'node:test';
import {
	type APIMessage,
	ApplicationCommandOptionType,
	type ChatInputCommandInteraction,
	Client,
	DiscordAPIError,
	Events,
	GatewayIntentBits,
	GatewayOpcodes,
	InteractionResponseType,
	MessageFlags,
	type RateLimitData,
	REST,
	RESTEvents,
	Routes,
	SlashCommandBuilder,
} from 'discord.js';
import { rejectAfter } from '../helpers.js';
import { type DiscordDouble, type DiscordDoubleOptions, startDiscordDouble } from './discord.js';

const READY_TIMEOUT_MS = 5000;

/** Start a double and register one cleanup that destroys clients first, then closes the double. */
async function setup(t: TestContext, options: DiscordDoubleOptions = {}) {
	const double = await startDiscordDouble(options);
	const clients: Client[] = [];
	t.after(async () => {
		for (const client of clients) await client.destroy();
		await double.close();
	});
	const rest = () => new REST({ api: double.apiUrl }).setToken(double.token);
	const login = async () => {
		const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: double.apiUrl } });
		clients.push(client);
		const ready = once(client, Events.ClientReady);
		await rejectAfter(client.login(double.token), READY_TIMEOUT_MS, 'login');
		await rejectAfter(ready, READY_TIMEOUT_MS, 'ClientReady');
		return client;
	};
	return { double, rest, login };
}

function isApiError(status: number, code: number) {
	return (error: unknown) => {
		assert.ok(error instanceof DiscordAPIError, `expected DiscordAPIError, got ${String(error)}`);
		assert.equal(error.status, status);
		assert.equal(error.code, code);
		return true;
	};
}

const channelOf = (double: DiscordDouble) => double.channelIds[0] as string;

test('discord.js logs in and emits ClientReady with the guild cached', async (t) => {
	const { double, login } = await setup(t);
	const client = await login();

	assert.equal(client.user?.id, double.botUserId);
	const guild = client.guilds.cache.get(double.guildId);
	assert.ok(guild, 'guild is cached');
	assert.equal(guild.available, true);
	assert.ok(
		guild.channels.cache.get(channelOf(double))?.isTextBased(),
		'text channel cached from GUILD_CREATE',
	);
	assert.equal(guild.members.me?.id, double.botUserId);
	assert.equal(client.application?.id, double.applicationId);

	assert.equal(double.identifies.length, 1);
	assert.equal(double.identifies[0]?.token, double.token);
	assert.deepEqual(double.gatewayConnectionLog[0]?.query, { v: '10', encoding: 'json' });
	// docs/discord.md §4.1: GET /gateway/bot is the only REST call during login.
	assert.deepEqual(
		double.requests.map((r) => `${r.method} ${r.path}`),
		['GET /api/v10/gateway/bot'],
	);
	assert.equal(double.requests[0]?.headers.authorization, `Bot ${double.token}`);
});

test('login with the wrong token is refused', async (t) => {
	const { double } = await setup(t);
	const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: double.apiUrl } });
	t.after(() => client.destroy());
	await assert.rejects(rejectAfter(client.login('wrong-token'), 5000, 'login'), /token/i);
	assert.equal(double.requests[0]?.status, 401);
	assert.equal(double.gatewayConnections, 0);
});

test('heartbeats are acknowledged, so the connection stays up', async (t) => {
	const { double, login } = await setup(t, { heartbeatInterval: 40 });
	const client = await login();
	await double.waitFor(
		(d) => d.gatewayFrames.filter((f) => f.op === GatewayOpcodes.Heartbeat).length >= 3,
		2000,
		'three heartbeats',
	);
	assert.equal(double.gatewayConnections, 1, 'no zombie-connection reconnect');
	assert.ok(client.ws.ping >= 0, 'discord.js measured a ping from the ACK');
});

test('an injected chat-input interaction reaches discord.js and its replies are recorded', async (t) => {
	const { double, login } = await setup(t);
	const client = await login();

	const handled = new Promise<ChatInputCommandInteraction>((resolve, reject) => {
		client.on(Events.InteractionCreate, async (interaction) => {
			if (!interaction.isChatInputCommand()) return;
			try {
				await interaction.reply({ content: 'hi', flags: MessageFlags.Ephemeral });
				await interaction.editReply({ content: 'hi again' });
				await interaction.followUp({ content: 'more', flags: MessageFlags.Ephemeral });
				resolve(interaction);
			} catch (error) {
				reject(error);
			}
		});
	});
	const payload = double.injectInteraction(
		double.makeChatInputInteraction({
			commandName: 'wooxy',
			options: [
				{
					type: ApplicationCommandOptionType.Subcommand,
					name: 'create',
					options: [{ type: ApplicationCommandOptionType.String, name: 'title', value: 'hello' }],
				},
			],
		}),
	);
	const interaction = await rejectAfter(handled, 3000, 'interactionCreate + replies');

	assert.equal(interaction.commandName, 'wooxy');
	assert.equal(interaction.options.getSubcommand(), 'create');
	assert.equal(interaction.options.getString('title'), 'hello');
	assert.equal(interaction.guildId, double.guildId);
	assert.equal(interaction.user.id, double.userId);

	assert.equal(double.interactionResponses.length, 1);
	const response = double.interactionResponses[0];
	assert.equal(response?.interactionId, payload.id);
	assert.equal(response?.token, payload.token);
	assert.equal(response?.body.type, InteractionResponseType.ChannelMessageWithSource);
	assert.equal(response?.body.data?.content, 'hi');
	assert.equal(response?.body.data?.flags, MessageFlags.Ephemeral);
	const callback = double.requests.find((r) => r.path.endsWith('/callback'));
	assert.equal(callback?.headers.authorization, undefined, 'callbacks carry no Authorization');
	assert.equal(callback?.status, 204);

	assert.equal(double.edits[0]?.messageId, '@original');
	assert.equal(double.edits[0]?.body.content, 'hi again');
	assert.equal(double.edits[0]?.message.channel_id, payload.channel_id);
	assert.equal(double.followups[0]?.body.content, 'more');
});

test('a second acknowledgement of one interaction answers 40060', async (t) => {
	const { double, login } = await setup(t);
	const client = await login();
	const second = new Promise<unknown>((resolve) => {
		client.on(Events.InteractionCreate, async (interaction) => {
			if (!interaction.isChatInputCommand()) return;
			await interaction.deferReply();
			// Bypass discord.js's own "already replied" guard to hit the wire.
			const rest = new REST({ api: double.apiUrl });
			resolve(
				await rest
					.post(Routes.interactionCallback(interaction.id, interaction.token), {
						body: { type: InteractionResponseType.ChannelMessageWithSource },
						auth: false,
					})
					.catch((error: unknown) => error),
			);
		});
	});
	double.injectInteraction(double.makeChatInputInteraction({ commandName: 'account' }));
	const error = await rejectAfter(second, 3000, 'second callback');
	assert.ok(isApiError(400, 40060)(error));
	assert.equal(double.interactionResponses.length, 1);
});

test('the gateway resumes after a drop and keeps delivering interactions', async (t) => {
	const { double, login } = await setup(t);
	const client = await login();
	const resumed = once(client, Events.ShardResume);
	double.closeGateway(4000);
	await rejectAfter(resumed, 5000, 'ShardResume');
	assert.equal(double.gatewayConnections, 2);
	assert.equal(double.identifies.length, 1, 'resumed, not re-identified');
	assert.ok(
		double.gatewayFrames.some((f) => f.op === GatewayOpcodes.Resume),
		'discord.js sent RESUME',
	);

	const got = once(client, Events.InteractionCreate);
	double.injectInteraction(double.makeChatInputInteraction({ commandName: 'wooxy' }));
	await rejectAfter(got, 3000, 'interactionCreate after resume');
});

test('command registration returns the commands with ids', async (t) => {
	const { double, rest } = await setup(t);
	const commands = [new SlashCommandBuilder().setName('wooxy').setDescription('Wooxy mail').toJSON()];
	const answer = (await rest().put(Routes.applicationGuildCommands(double.applicationId, double.guildId), {
		body: commands,
	})) as { id: string; name: string }[];
	assert.equal(answer[0]?.name, 'wooxy');
	assert.match(answer[0]?.id ?? '', /^\d+$/);
	assert.equal(double.commandRegistrations[0]?.guildId, double.guildId);
	assert.deepEqual(double.commandRegistrations[0]?.body, JSON.parse(JSON.stringify(commands)));
	// Injected interactions reuse the registered command id.
	assert.equal(double.makeChatInputInteraction({ commandName: 'wooxy' }).data.id, answer[0]?.id);

	await assert.rejects(
		rest().put(Routes.applicationCommands(double.applicationId), {
			body: [{ name: 'Bad Name', description: 'x' }],
		}),
		isApiError(400, 50035),
	);
});

test('the same nonce with enforce_nonce creates exactly one message', async (t) => {
	const { double, rest } = await setup(t);
	const client = rest();
	const body = { content: 'disk full on web-1', nonce: 'alert-42-v1', enforce_nonce: true };
	const first = (await client.post(Routes.channelMessages(channelOf(double)), { body })) as APIMessage;
	const second = (await client.post(Routes.channelMessages(channelOf(double)), { body })) as APIMessage;

	assert.equal(second.id, first.id);
	assert.equal(first.nonce, 'alert-42-v1');
	assert.equal(first.author.bot, true);
	assert.equal(first.channel_id, channelOf(double));
	assert.equal(double.messages.length, 1);
	assert.equal(double.requests.length, 2);

	// Without enforce_nonce Discord creates a second message.
	await client.post(Routes.channelMessages(channelOf(double)), {
		body: { content: 'again', nonce: 'alert-42-v1' },
	});
	assert.equal(double.messages.length, 2);
});

test('a user-scoped 429 is waited out by @discordjs/rest and the message is created once', async (t) => {
	const { double, rest } = await setup(t);
	const client = rest();
	const limits: RateLimitData[] = [];
	client.on(RESTEvents.RateLimited, (info) => limits.push(info));
	const fault = double.fail({
		method: 'POST',
		path: /\/channels\/\d+\/messages$/,
		status: 429,
		retryAfter: 0.2,
		scope: 'user',
	});

	const started = Date.now();
	const message = (await rejectAfter(
		client.post(Routes.channelMessages(channelOf(double)), { body: { content: 'cert expires soon' } }),
		5000,
		'rate-limited post',
	)) as APIMessage;

	assert.ok(Date.now() - started >= 200, 'waited at least retry_after');
	assert.equal(fault.hits, 1);
	assert.equal(fault.done, true);
	assert.deepEqual(
		double.requests.map((r) => r.status),
		[429, 200],
	);
	assert.equal(double.messages.length, 1);
	assert.equal(double.messages[0]?.id, message.id);
	assert.equal(limits[0]?.scope, 'user');
});

test('429 responses carry Discord headers and body', async (t) => {
	const { double } = await setup(t);
	double.fail({ path: /messages$/, status: 429, retryAfter: 0.5, scope: 'global' });
	const res = await fetch(`${double.apiUrl}/v10/channels/${channelOf(double)}/messages`, {
		method: 'POST',
		headers: { authorization: `Bot ${double.token}`, 'content-type': 'application/json' },
		body: JSON.stringify({ content: 'x' }),
	});
	assert.equal(res.status, 429);
	assert.equal(res.headers.get('retry-after'), '1');
	assert.equal(res.headers.get('x-ratelimit-global'), 'true');
	assert.equal(res.headers.get('x-ratelimit-scope'), 'global');
	assert.equal(res.headers.get('x-ratelimit-remaining'), '0');
	assert.ok(res.headers.get('x-ratelimit-bucket'));
	assert.deepEqual(await res.json(), {
		message: 'You are being rate limited.',
		retry_after: 0.5,
		global: true,
	});
	assert.equal(double.messages.length, 0);
});

test('embeds over the 6000 total are refused with 50035; limits count code points', async (t) => {
	const { double, rest } = await setup(t);
	const client = rest();
	const embeds = [
		{ title: 'CPU', description: 'a'.repeat(4000) },
		{ title: 'RAM', description: 'b'.repeat(2000) },
	];
	await assert.rejects(
		client.post(Routes.channelMessages(channelOf(double)), { body: { embeds } }),
		(error) => {
			assert.ok(isApiError(400, 50035)(error));
			const errors = (error as DiscordAPIError).rawError as {
				errors?: { embeds?: { _errors?: { code: string }[] } };
			};
			assert.equal(errors.errors?.embeds?._errors?.[0]?.code, 'MAX_EMBED_SIZE_EXCEEDED');
			return true;
		},
	);

	// 4096 emoji are 8192 UTF-16 units but 4096 code points: accepted.
	await client.post(Routes.channelMessages(channelOf(double)), {
		body: { embeds: [{ description: '🔥'.repeat(4096) }] },
	});
	await assert.rejects(
		client.post(Routes.channelMessages(channelOf(double)), { body: { content: 'x'.repeat(2001) } }),
		isApiError(400, 50035),
	);
	await assert.rejects(
		client.post(Routes.channelMessages(channelOf(double)), { body: { content: '   ' } }),
		isApiError(400, 50006),
	);
	assert.equal(double.messages.length, 1);
});

test('webhook execute answers 204 without wait and the message with wait=true', async (t) => {
	const hook = { id: '1230000000000000001', token: 'hook-token' };
	const { double } = await setup(t, { webhooks: [hook] });

	// The unversioned path, as in webhook URLs copied from Discord.
	const res = await fetch(`${double.apiUrl}/webhooks/${hook.id}/${hook.token}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ content: 'site down', username: 'hookcord' }),
	});
	assert.equal(res.status, 204);
	assert.equal(res.headers.get('content-type'), null);
	assert.equal(await res.text(), '');
	assert.equal(double.webhookMessages[0]?.wait, false);

	const rest = new REST({ api: double.apiUrl });
	const message = (await rest.post(Routes.webhook(hook.id, hook.token), {
		body: { embeds: [{ title: 'site up' }] },
		query: new URLSearchParams({ wait: 'true' }),
		auth: false,
	})) as APIMessage;
	assert.equal(message.webhook_id, hook.id);
	assert.equal(message.embeds[0]?.title, 'site up');
	assert.equal(double.webhookMessages[1]?.id, message.id);
	assert.equal(double.webhookMessages[1]?.wait, true);

	await assert.rejects(
		rest.post(Routes.webhook(hook.id, 'wrong'), { body: { content: 'x' }, auth: false }),
		isApiError(404, 10015),
	);
	await assert.rejects(
		rest.post(Routes.webhook(hook.id, hook.token), {
			body: { content: 'x', username: 'Discord alerts' },
			auth: false,
		}),
		isApiError(400, 50035),
	);
	assert.equal(double.webhookMessages.length, 2);
});

test('auth, unknown channels and scripted 403s look like Discord', async (t) => {
	const known = '1110000000000000001';
	const { double } = await setup(t, { channels: [known] });
	const wrong = new REST({ api: double.apiUrl }).setToken('nope');
	await assert.rejects(
		wrong.post(Routes.channelMessages(known), { body: { content: 'x' } }),
		isApiError(401, 0),
	);

	const rest = new REST({ api: double.apiUrl }).setToken(double.token);
	await assert.rejects(
		rest.post(Routes.channelMessages('1110000000000000002'), { body: { content: 'x' } }),
		isApiError(404, 10003),
	);
	double.fail({ method: 'POST', path: /messages$/, channelId: known, status: 403 });
	await assert.rejects(
		rest.post(Routes.channelMessages(known), { body: { content: 'x' } }),
		isApiError(403, 50001),
	);
	assert.equal(double.messages.length, 0);
	const channel = (await rest.get(Routes.channel(known))) as { id: string; type: number };
	assert.deepEqual([channel.id, channel.type], [known, 0]);
});

test('a lost response plus enforce_nonce does not duplicate; a hung request times out', async (t) => {
	const { double } = await setup(t);
	const rest = new REST({ api: double.apiUrl, retries: 1 }).setToken(double.token);
	double.fail({ method: 'POST', path: /messages$/, createThenFail: 500 });
	const body = { content: 'queue stuck', nonce: 'q-1', enforce_nonce: true };
	const message = (await rest.post(Routes.channelMessages(channelOf(double)), { body })) as APIMessage;
	assert.deepEqual(
		double.requests.map((r) => r.status),
		[500, 200],
	);
	assert.equal(double.messages.length, 1);
	assert.equal(message.id, double.messages[0]?.id);

	double.fail({ method: 'POST', path: /messages$/, hang: true });
	const impatient = new REST({ api: double.apiUrl, timeout: 200, retries: 0 }).setToken(double.token);
	await assert.rejects(
		rejectAfter(
			impatient.post(Routes.channelMessages(channelOf(double)), { body: { content: 'x' } }),
			3000,
			'timeout',
		),
		{ name: 'AbortError' },
	);
	assert.equal(double.requests.at(-1)?.status, undefined, 'never answered');
});

test('waitFor rejects with a clear message', async (t) => {
	const { double } = await setup(t);
	await assert.rejects(
		double.waitFor((d) => d.messages.length > 0, 50, 'a message'),
		/timed out after 50 ms waiting for a message/,
	);
});

/** A raw request to the double, for the status, headers and error body exactly as Discord would send them. */
async function raw(double: DiscordDouble, method: string, path: string, body?: unknown, auth = true) {
	const res = await fetch(`${double.apiUrl}/v10${path}`, {
		method,
		headers: {
			'content-type': 'application/json',
			...(auth && { authorization: `Bot ${double.token}` }),
		},
		...(body !== undefined && { body: JSON.stringify(body) }),
	});
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

test('a callback or follow-up for an interaction Discord never sent answers like Discord', async (t) => {
	const { double } = await setup(t);
	const callback = await raw(
		double,
		'POST',
		'/interactions/123456789012345678/not-a-token/callback',
		{
			type: InteractionResponseType.ChannelMessageWithSource,
			data: { content: 'hi' },
		},
		false,
	);
	assert.equal(callback.status, 404);
	assert.deepEqual(callback.body, { message: 'Unknown interaction', code: 10062 });
	// A real interaction, answered with the wrong token, is just as unknown.
	const real = double.makeChatInputInteraction({ commandName: 'wooxy' });
	const wrongToken = await raw(
		double,
		'POST',
		`/interactions/${real.id}/other/callback`,
		{ type: InteractionResponseType.ChannelMessageWithSource, data: { content: 'x' } },
		false,
	);
	assert.equal(wrongToken.body.code, 10062);
	const edit = await raw(
		double,
		'PATCH',
		`/webhooks/${double.applicationId}/not-a-token/messages/@original`,
		{ content: 'x' },
		false,
	);
	assert.deepEqual(edit.body, { message: 'Unknown Webhook', code: 10015 });
	assert.equal(double.interactionResponses.length, 0);
});

test("autocomplete answers over Discord's limits get 400 Invalid Form Body", async (t) => {
	const { double } = await setup(t);
	const answer = (choices: unknown[]) => {
		const interaction = double.makeChatInputInteraction({ commandName: 'account' });
		return raw(
			double,
			'POST',
			`/interactions/${interaction.id}/${interaction.token}/callback`,
			{
				type: InteractionResponseType.ApplicationCommandAutocompleteResult,
				data: { choices },
			},
			false,
		);
	};
	const choice = (name: string, value: string | number = name) => ({ name, value });
	const many = await answer(Array.from({ length: 26 }, (_, i) => choice(`c${i}`)));
	assert.equal(many.status, 400);
	assert.equal(many.body.code, 50035);
	assert.equal(many.body.errors.data.choices._errors[0].code, 'BASE_TYPE_MAX_LENGTH');
	const long = await answer([
		choice('ok'),
		choice('n'.repeat(101), 'v'),
		choice('n', 'v'.repeat(101)),
		choice(''),
	]);
	assert.equal(long.status, 400);
	assert.deepEqual(Object.keys(long.body.errors.data.choices).sort(), ['1', '2', '3']);
	assert.equal(long.body.errors.data.choices['1'].name._errors[0].code, 'BASE_TYPE_BAD_LENGTH');
	assert.equal(long.body.errors.data.choices['2'].value._errors[0].code, 'BASE_TYPE_BAD_LENGTH');
	// At the limits exactly (code points, not UTF-16 units) is accepted.
	const full = await answer(
		Array.from({ length: 25 }, (_, i) => choice(`${i}${'😀'.repeat(98)}`, 'v'.repeat(100))),
	);
	assert.equal(full.status, 204);
});

test('x-ratelimit-remaining counts down per route and channel, then 429s until the window ends', async (t) => {
	const { double } = await setup(t, {
		channels: ['100000000000000001', '100000000000000002'],
		rateLimit: { limit: 3, windowMs: 60_000 },
		// The per-channel message limit is tested on its own; here the route bucket alone counts.
		channelRate: false,
	});
	const post = (channel: string) => raw(double, 'POST', `/channels/${channel}/messages`, { content: 'x' });
	const remaining = [];
	for (let i = 0; i < 3; i++)
		remaining.push((await post('100000000000000001')).headers.get('x-ratelimit-remaining'));
	assert.deepEqual(remaining, ['2', '1', '0']);
	const over = await post('100000000000000001');
	assert.equal(over.status, 429);
	assert.equal(over.body.global, false);
	assert.ok(over.body.retry_after > 0 && over.body.retry_after <= 60, `retry_after ${over.body.retry_after}`);
	assert.equal(over.headers.get('x-ratelimit-scope'), 'user');
	// Another channel is another bucket.
	const other = await post('100000000000000002');
	assert.equal(other.status, 200);
	assert.equal(other.headers.get('x-ratelimit-remaining'), '2');
	assert.equal(double.messages.length, 4, 'the refused request created nothing');
});

test('command registration is validated like Discord: names, descriptions, types, order, nesting, choices', async (t) => {
	const { double } = await setup(t);
	const string = (name: string, extra: Record<string, unknown> = {}) => ({
		type: ApplicationCommandOptionType.String,
		name,
		description: 'd',
		...extra,
	});
	const sub = (name: string, options: unknown[] = []) => ({
		type: ApplicationCommandOptionType.Subcommand,
		name,
		description: 'd',
		options,
	});
	const cases: [string, unknown, (string | number)[], string][] = [
		[
			'an upper-case option name',
			[sub('create', [string('Title')])],
			[0, 'options', 0, 'options', 0, 'name'],
			'APPLICATION_COMMAND_INVALID_NAME',
		],
		[
			'a 33-character name',
			[sub('x'.repeat(33))],
			[0, 'options', 0, 'name'],
			'APPLICATION_COMMAND_INVALID_NAME',
		],
		['a space in a name', [sub('two words')], [0, 'options', 0, 'name'], 'APPLICATION_COMMAND_INVALID_NAME'],
		[
			'a 101-character option description',
			[sub('create', [string('t', { description: 'd'.repeat(101) })])],
			[0, 'options', 0, 'options', 0, 'description'],
			'BASE_TYPE_BAD_LENGTH',
		],
		[
			'an empty description',
			[sub('create', [string('t', { description: '' })])],
			[0, 'options', 0, 'options', 0, 'description'],
			'BASE_TYPE_BAD_LENGTH',
		],
		[
			'a required option after an optional one',
			[sub('create', [string('a'), string('b', { required: true })])],
			[0, 'options', 0, 'options', 1],
			'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
		],
		[
			'26 options',
			[
				sub(
					'create',
					Array.from({ length: 26 }, (_, i) => string(`o${i}`)),
				),
			],
			[0, 'options', 0, 'options'],
			'BASE_TYPE_MAX_LENGTH',
		],
		[
			'a subcommand beside a plain option',
			[sub('create'), string('title')],
			[0, 'options'],
			'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
		],
		[
			'a subcommand inside a subcommand',
			[sub('create', [sub('deeper')])],
			[0, 'options', 0, 'options', 0, 'type'],
			'APPLICATION_COMMAND_OPTIONS_TYPE_INVALID',
		],
		[
			'an unknown option type',
			// 12 is no option type Discord has.
			[sub('create', [{ type: 12, name: 'x', description: 'd' }])],
			[0, 'options', 0, 'options', 0, 'type'],
			'BASE_TYPE_CHOICES',
		],
		[
			'a repeated option name',
			[sub('create', [string('a'), string('a')])],
			[0, 'options', 0, 'options', 1, 'name'],
			'APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS',
		],
		[
			'26 choices',
			[
				sub('create', [
					string('a', { choices: Array.from({ length: 26 }, (_, i) => ({ name: `c${i}`, value: `c${i}` })) }),
				]),
			],
			[0, 'options', 0, 'options', 0, 'choices'],
			'BASE_TYPE_MAX_LENGTH',
		],
		[
			'a 101-character choice name',
			[sub('create', [string('a', { choices: [{ name: 'n'.repeat(101), value: 'v' }] })])],
			[0, 'options', 0, 'options', 0, 'choices', 0, 'name'],
			'BASE_TYPE_BAD_LENGTH',
		],
		[
			'choices with autocomplete',
			[sub('create', [string('a', { autocomplete: true, choices: [{ name: 'n', value: 'v' }] })])],
			[0, 'options', 0, 'options', 0, 'choices'],
			'APPLICATION_COMMAND_OPTION_CHOICES_INVALID',
		],
		[
			'choices on a boolean',
			[
				sub('create', [
					{
						type: ApplicationCommandOptionType.Boolean,
						name: 'b',
						description: 'd',
						choices: [{ name: 'n', value: 'v' }],
					},
				]),
			],
			[0, 'options', 0, 'options', 0, 'choices'],
			'APPLICATION_COMMAND_OPTION_CHOICES_INVALID',
		],
	];
	for (const [what, options, path, code] of cases) {
		const answer = await raw(
			double,
			'PUT',
			`/applications/${double.applicationId}/guilds/${double.guildId}/commands`,
			[{ name: 'wooxy', description: 'Wooxy mail', options }],
		);
		assert.equal(answer.status, 400, what);
		assert.equal(answer.body.code, 50035, what);
		let node = answer.body.errors;
		for (const key of path) node = node?.[key];
		assert.equal(node?._errors?.[0]?.code, code, `${what}: ${JSON.stringify(answer.body.errors)}`);
	}
	// A group holding subcommands, required before optional, choices on a string: accepted.
	const good = await raw(double, 'PUT', `/applications/${double.applicationId}/commands`, [
		{
			name: 'wooxy',
			description: 'Wooxy mail',
			options: [
				{
					type: ApplicationCommandOptionType.SubcommandGroup,
					name: 'hooks',
					description: 'd',
					options: [
						sub('create', [
							string('a', { required: true }),
							string('b', { choices: [{ name: 'n', value: 'v' }] }),
						]),
					],
				},
				sub('list'),
			],
		},
	]);
	assert.equal(good.status, 200, JSON.stringify(good.body));
	assert.equal(double.commandRegistrations.length, 1, 'only the valid registration was stored');
});
