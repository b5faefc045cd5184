import { DefaultRestOptions, DiscordAPIError, HTTPError, RateLimitError, REST } from '@discordjs/rest';
import type { APIEmbed, APIMessage, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { Routes } from 'discord-api-types/v10';
import { request } from 'undici';
import type { Event } from '../events/event.js';
import { alertComponents } from '../render/components.js';
import { embedToText } from '../render/plain.js';
import type { Destination } from './destinations.js';
import { classifyStatus, DeliveryError } from './errors.js';

export interface OutgoingMessage {
	/** One headline per embed, for notifications and previews. */
	content: string;
	embeds: APIEmbed[];
	/** Derived from the events in the message: Discord drops a repeat of the same nonce. */
	nonce: string;
	/** The events the message shows: bot messages carry a Status button per account among them. */
	events?: readonly Event[];
	/**
	 * An earlier attempt was longer ago than Discord remembers nonces: it may have posted the message with
	 * its answer lost. A bot channel's recent messages are searched for it before it is posted again.
	 */
	lookBack?: boolean;
}

export type Send = (destination: Destination, message: OutgoingMessage) => Promise<void>;

/** Text from callbacks must never ping anyone (PLATFORM.md §1, allowed_mentions). */
const NO_MENTIONS = { parse: [] as [] };

export interface SenderOptions {
	rest?: REST;
	/** Where dry-run alerts are printed. */
	print?: (text: string) => void;
	/** Per-request timeout for webhook posts. */
	timeoutMs?: number;
}

/**
 * The delivery worker's only door to the outside. Channel posts go through discord.js REST (its bucket
 * handling, our nonce); webhooks through undici with `?wait=true` so a failure is visible; dry runs to
 * stdout.
 */
export function createSender({
	rest,
	print = (text) => process.stdout.write(`${text}\n`),
	timeoutMs = 15_000,
}: SenderOptions): Send {
	return async (destination, message) => {
		switch (destination.kind) {
			case 'stdout':
				for (const embed of message.embeds) print(embedToText(embed, destination.intended));
				return;
			case 'channel':
				if (!rest) throw new DeliveryError('halt', 'no Discord REST client');
				return postToChannel(rest, destination.channelId, message);
			case 'webhook':
				return executeWebhook(destination.url, message, timeoutMs);
		}
	};
}

async function postToChannel(rest: REST, channelId: string, message: OutgoingMessage): Promise<void> {
	if (message.lookBack && (await alreadyPosted(rest, channelId, message))) return;
	const components = alertComponents(message.events ?? []);
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
 * Whether the channel's latest messages hold this one: the same text and the same embed footers, which
 * carry the event ids. A channel the bot cannot read (403) cannot tell: the message is posted.
 */
async function alreadyPosted(rest: REST, channelId: string, message: OutgoingMessage): Promise<boolean> {
	let recent: APIMessage[];
	try {
		recent = (await rest.get(Routes.channelMessages(channelId), {
			query: new URLSearchParams({ limit: String(LOOK_BACK) }),
		})) as APIMessage[];
	} catch (error) {
		if (error instanceof DiscordAPIError && error.status === 403) return false;
		throw toDeliveryError(error);
	}
	const footers = (embeds: APIEmbed[]) => embeds.map((embed) => embed.footer?.text ?? '').join('\n');
	const mine = footers(message.embeds);
	return recent.some((posted) => posted.content === message.content && footers(posted.embeds ?? []) === mine);
}

function toDeliveryError(error: unknown): DeliveryError {
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

async function executeWebhook(url: string, message: OutgoingMessage, timeoutMs: number): Promise<void> {
	const target = new URL(url);
	target.searchParams.set('wait', 'true');
	let response: Awaited<ReturnType<typeof request>>;
	try {
		response = await request(target, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({
				content: message.content,
				embeds: message.embeds,
				allowed_mentions: NO_MENTIONS,
			}),
			headersTimeout: timeoutMs,
			bodyTimeout: timeoutMs,
		});
	} catch (error) {
		const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
		throw new DeliveryError('retry', `network: ${reason}`);
	}
	const text = await response.body.text().catch(() => '');
	if (response.statusCode >= 200 && response.statusCode < 300) return;
	const retryAfter = Number(response.headers['retry-after']);
	throw new DeliveryError(
		classifyStatus(response.statusCode, false),
		`webhook answered ${response.statusCode}: ${text.slice(0, 200)}`,
		Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
	);
}

export { DefaultRestOptions, REST };
