import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import {
	type APIEmbed,
	ApplicationCommandOptionType,
	ComponentType,
	InteractionResponseType,
	InteractionType,
	MessageFlags,
} from 'discord-api-types/v10';
import { request } from 'undici';
import { parseConfig } from '../src/config.js';
import { startService } from '../src/service.js';
import { type DiscordDouble, startDiscordDouble } from './doubles/discord.js';
import { silent } from './helpers.js';

/**
 * The one fixture for slash commands and buttons end to end: a running hookcord whose bot is logged into
 * its own Discord double, with HTTP interactions on, and payload builders for commands, autocomplete and
 * button clicks that `run` sends over either path (gateway INTERACTION_CREATE or signed
 * `POST /interactions`), returning what the member finally sees.
 */

export type Transport = 'gateway' | 'http';
export const TRANSPORTS = ['gateway', 'http'] as const satisfies readonly Transport[];
/** An interaction as Discord sends it. */
export type Payload = Record<string, unknown> & { id: string; token: string };

/** What the member finally sees. */
export interface Final {
	/** The first answer's callback type. */
	type: InteractionResponseType;
	ephemeral: boolean;
	content?: string;
	embeds: APIEmbed[];
	components?: { components: { custom_id: string; label: string }[] }[];
	choices?: { name: string; value: string }[];
}

/** The embeds and the content of an answer, as one searchable text. */
export const text = (final: Final) => JSON.stringify(final.embeds) + (final.content ?? '');

/** The member who acts: staff roles, permissions, another user or another guild. */
export interface Who {
	roles?: string[];
	permissions?: string;
	userId?: string;
	guildId?: string;
}

export function keyPair(): { privateKey: KeyObject; publicHex: string } {
	const { privateKey, publicKey } = generateKeyPairSync('ed25519');
	return {
		privateKey,
		publicHex: publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex'),
	};
}

/** The headers Discord sends with `body`, signed by `key` at `timestamp` (seconds). */
export function signedHeaders(
	body: string,
	key: KeyObject,
	timestamp = String(Math.floor(Date.now() / 1000)),
): Record<string, string> {
	return {
		'content-type': 'application/json',
		'x-signature-timestamp': timestamp,
		'x-signature-ed25519': sign(null, Buffer.from(timestamp + body), key).toString('hex'),
	};
}

/**
 * Starts the Discord double and hookcord on it with `env` on top (HOOK_SECRET, guilds, roles, other
 * doubles' URLs). With `gateway: false` the bot has no token: HTTP interactions only. `who` is the
 * member every payload comes from unless a builder is told otherwise.
 */
export async function startInteractions(
	env: (discord: DiscordDouble) => Record<string, string>,
	{ gateway = true, who: defaults = {} }: { gateway?: boolean; who?: Who } = {},
) {
	const discord = await startDiscordDouble();
	const keys = keyPair();
	const vars = env(discord);
	const service = await startService(
		parseConfig({
			HOST: '127.0.0.1',
			PORT: '0',
			STORE_URL: 'memory://',
			...(gateway && { DISCORD_TOKEN: discord.token }),
			DISCORD_API_URL: discord.apiUrl,
			DISCORD_PUBLIC_KEY: keys.publicHex,
			...vars,
		}),
		{ logger: silent, print: () => {} },
	);
	if (gateway)
		await discord.waitFor(() => service.gateway?.isReady(), 10_000, 'the bot logged into the gateway');

	/** A MOFH callback, as MOFH posts it; answered 200. */
	async function mofhCallback(fields: Record<string, string>) {
		const res = await service.app.inject({
			method: 'POST',
			url: `/hooks/mofh/${vars.HOOK_SECRET}`,
			payload: new URLSearchParams(fields).toString(),
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
		});
		assert.equal(res.statusCode, 200, res.body);
		return res;
	}

	function member(who: Who) {
		const { roles, permissions, userId } = { ...defaults, ...who };
		return { ...(roles && { roles }), ...(permissions && { permissions }), ...(userId && { userId }) };
	}

	function from(payload: Payload, who: Who): Payload {
		const guildId = who.guildId ?? defaults.guildId;
		return guildId ? inGuild(payload, guildId) : payload;
	}

	/** `/name sub` with string and boolean options. */
	function command(name: string, sub: string, options: Record<string, string | boolean> = {}, who: Who = {}) {
		const payload = discord.makeChatInputInteraction({
			commandName: name,
			...member(who),
			options: [
				{
					type: ApplicationCommandOptionType.Subcommand,
					name: sub,
					options: Object.entries(options).map(([key, value]) =>
						typeof value === 'boolean'
							? { type: ApplicationCommandOptionType.Boolean, name: key, value }
							: { type: ApplicationCommandOptionType.String, name: key, value },
					),
				},
			],
		}) as unknown as Payload;
		return from(payload, who);
	}

	/** A button click (MESSAGE_COMPONENT), as Discord sends it, on an ephemeral message the bot posted. */
	function click(customId: string, who: Who = {}): Payload {
		const base = discord.makeChatInputInteraction({
			commandName: 'account',
			...member(who),
		}) as unknown as Payload;
		const payload: Payload = {
			...base,
			type: InteractionType.MessageComponent,
			data: { custom_id: customId, component_type: ComponentType.Button },
			message: {
				id: base.id,
				type: 0,
				channel_id: base.channel_id,
				author: discord.botUser,
				content: '',
				embeds: [],
				attachments: [],
				mentions: [],
				mention_roles: [],
				mention_everyone: false,
				pinned: false,
				tts: false,
				timestamp: new Date().toISOString(),
				edited_timestamp: null,
				flags: MessageFlags.Ephemeral,
				components: [
					{
						type: ComponentType.ActionRow,
						components: [{ type: ComponentType.Button, style: 2, label: 'x', custom_id: customId }],
					},
				],
			},
		};
		return from(payload, who);
	}

	/** `POST /interactions`, signed unless `headers` say otherwise. */
	async function post(body: string, headers = signedHeaders(body, keys.privateKey)) {
		const res = await request(`${service.address}/interactions`, { method: 'POST', headers, body });
		return { status: res.statusCode, body: await res.body.text() };
	}

	/** Runs an interaction over one path and returns what the member finally sees. */
	async function run(transport: Transport, payload: { id: string; token: string }): Promise<Final> {
		let initial: { type: InteractionResponseType; data?: Record<string, unknown> };
		if (transport === 'http') {
			const res = await post(JSON.stringify(payload));
			assert.equal(res.status, 200, res.body);
			initial = JSON.parse(res.body);
			// What Discord does with the inline answer: the same checks as a callback (limits, one answer).
			const taken = discord.answerInline(payload, initial);
			assert.equal(taken.status, 204, `Discord refused the answer: ${JSON.stringify(taken.body)}`);
		} else {
			discord.injectInteraction(payload);
			initial = (
				await discord.waitFor(
					(d) => d.interactionResponses.find((r) => r.interactionId === payload.id),
					5000,
					'interaction callback',
				)
			).body as typeof initial;
		}
		const flags = Number(initial.data?.flags ?? 0);
		if (initial.type === InteractionResponseType.ApplicationCommandAutocompleteResult)
			return {
				type: initial.type,
				ephemeral: false,
				embeds: [],
				choices: initial.data?.choices as Final['choices'],
			};
		let body = initial.data ?? {};
		if (
			initial.type === InteractionResponseType.DeferredChannelMessageWithSource ||
			initial.type === InteractionResponseType.DeferredMessageUpdate
		) {
			body = (
				await discord.waitFor(
					(d) => d.edits.filter((edit) => edit.token === payload.token).at(-1),
					5000,
					'deferred reply edited',
				)
			).body as Record<string, unknown>;
			assert.deepEqual(body.allowed_mentions, { parse: [] });
		}
		return {
			type: initial.type,
			ephemeral: (flags & MessageFlags.Ephemeral) !== 0,
			...(typeof body.content === 'string' && { content: body.content }),
			embeds: (body.embeds ?? []) as APIEmbed[],
			...(Array.isArray(body.components) && { components: body.components as Final['components'] }),
		};
	}

	return {
		discord,
		service,
		keys,
		mofhCallback,
		command,
		autocomplete,
		click,
		post,
		run,
		async close() {
			await service.close();
			await discord.close();
		},
	};
}
export type Interactions = Awaited<ReturnType<typeof startInteractions>>;

/** The same command, focused on `option` as autocomplete. */
export function autocomplete(payload: Payload, option: string, value: string): Payload {
	const data = payload.data as { options: { name: string }[] };
	const sub = data.options[0]?.name ?? '';
	return {
		...payload,
		type: InteractionType.ApplicationCommandAutocomplete,
		data: {
			...data,
			options: [
				{
					type: ApplicationCommandOptionType.Subcommand,
					name: sub,
					options: [{ type: ApplicationCommandOptionType.String, name: option, value, focused: true }],
				},
			],
		},
	};
}

/** The same interaction from another server the bot was added to. */
export function inGuild(payload: Payload, guildId: string): Payload {
	return {
		...payload,
		guild_id: guildId,
		guild: { ...(payload.guild as object), id: guildId },
		authorizing_integration_owners: { '0': guildId },
	};
}
