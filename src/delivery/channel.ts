import { DefaultRestOptions, DiscordAPIError, HTTPError, RateLimitError, REST } from '@discordjs/rest';
import type { APIEmbed, APIMessage, APIUser, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { Routes } from 'discord-api-types/v10';
import { alertComponents } from '../render/components.js';
import type { Lease } from '../store/lease.js';
import { classifyStatus, DeliveryError, notLeading } from './errors.js';
import { NO_MENTIONS, type OutgoingMessage, type PostToChannel } from './message.js';

export interface ChannelOptions {
	apiUrl: string;
	token: string;
	/** Per-request timeout. */
	timeoutMs: number;
	/** A rate-limit wait longer than this is handed back to the outbox instead of blocking. */
	maxRateLimitWaitMs: number;
	/** The delivery lease, when instances share a store: checked again as each request leaves. */
	lease?: Lease;
}

/**
 * Channel posts as the bot, through discord.js REST: its bucket handling, our nonce. Its own REST client:
 * no automatic retries (the outbox retries with backoff, same nonce), and a long rate-limit wait goes
 * back to the outbox. The lease is checked once more as each request leaves, after REST's own queue and
 * rate-limit waits: a leader paused in one of those sends nothing when it wakes without the lease.
 * This module (and discord.js REST with it) loads only in a process with DISCORD_TOKEN.
 */
export function createChannelPoster(options: ChannelOptions): PostToChannel {
	const rest = botRest(options);
	const self = botUser(rest);
	return (channelId, message) => postToChannel(rest, self, channelId, message);
}

/**
 * The bot's REST client for delivery: no automatic retries, long rate limits thrown (RateLimitError)
 * for the outbox to wait out, and the lease checked as each request leaves.
 */
export function botRest(options: ChannelOptions): REST {
	const { lease } = options;
	return new REST({
		api: options.apiUrl,
		retries: 0,
		timeout: options.timeoutMs,
		rejectOnRateLimit: (info) => info.timeToReset > options.maxRateLimitWaitMs,
		makeRequest: (url, init) => {
			if (lease && !lease.isHeld()) throw notLeading();
			return DefaultRestOptions.makeRequest(url, init);
		},
	}).setToken(options.token);
}

/** The bot's own user id, asked once (when first needed) and kept. */
export function botUser(rest: REST): () => Promise<string> {
	let id: string | undefined;
	return async () => {
		if (id) return id;
		try {
			id = ((await rest.get('/users/@me')) as APIUser).id;
		} catch (error) {
			throw toDeliveryError(error);
		}
		return id;
	};
}

async function postToChannel(
	rest: REST,
	self: () => Promise<string>,
	channelId: string,
	message: OutgoingMessage,
): Promise<void> {
	if (message.lookBack && (await alreadyPosted(rest, self, channelId, message))) return;
	const components = message.components ?? alertComponents(message.events ?? []);
	const body: RESTPostAPIChannelMessageJSONBody = {
		content: message.content,
		embeds: message.embeds,
		...(components.length > 0 && { components }),
		nonce: message.nonce,
		enforce_nonce: true,
		allowed_mentions: NO_MENTIONS,
	};
	try {
		await rest.post(Routes.channelMessages(channelId), { body });
	} catch (error) {
		throw toDeliveryError(error);
	}
}

/** How many of a channel's latest messages are searched for one posted outside the nonce window. */
const LOOK_BACK = 100;

/**
 * The bot's own messages among a channel's latest: where a message whose answer was lost is looked
 * for. Anyone else's does not count, or whoever can post in the channel could suppress an alert by
 * posting its text first. Undefined when the bot cannot read the channel (403): it cannot tell.
 */
export async function ownRecentMessages(
	rest: REST,
	self: () => Promise<string>,
	channelId: string,
): Promise<APIMessage[] | undefined> {
	let recent: APIMessage[];
	try {
		recent = (await rest.get(Routes.channelMessages(channelId), {
			query: new URLSearchParams({ limit: String(LOOK_BACK) }),
		})) as APIMessage[];
	} catch (error) {
		if (error instanceof DiscordAPIError && error.status === 403) return undefined;
		throw toDeliveryError(error);
	}
	const id = await self();
	return recent.filter((posted) => posted.author?.id === id);
}

/** Whether the bot already posted this message: the same text and the same embed footers (the event ids). */
async function alreadyPosted(
	rest: REST,
	self: () => Promise<string>,
	channelId: string,
	message: OutgoingMessage,
): Promise<boolean> {
	const own = await ownRecentMessages(rest, self, channelId);
	const footers = (embeds: APIEmbed[]) => embeds.map((embed) => embed.footer?.text ?? '').join('\n');
	const mine = footers(message.embeds);
	return (own ?? []).some(
		(posted) => posted.content === message.content && footers(posted.embeds ?? []) === mine,
	);
}

export function toDeliveryError(error: unknown): DeliveryError {
	if (error instanceof DeliveryError) return error;
	if (error instanceof RateLimitError) {
		return new DeliveryError(
			'retry',
			`rate limited for ${error.timeToReset} ms (${error.scope})`,
			error.timeToReset,
		);
	}
	if (error instanceof DiscordAPIError) {
		return new DeliveryError(
			classifyStatus(error.status, true),
			`Discord ${error.status} (code ${error.code}): ${error.message}`,
			undefined,
			typeof error.code === 'number' ? error.code : undefined,
		);
	}
	if (error instanceof HTTPError)
		return new DeliveryError(classifyStatus(error.status, true), `Discord ${error.status}`);
	if (error instanceof Error && error.message.includes('Expected token')) {
		return new DeliveryError('halt', 'the bot token was refused earlier');
	}
	const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
	return new DeliveryError('retry', `network: ${reason}`);
}
