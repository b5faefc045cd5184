import type { APIEmbed } from 'discord-api-types/v10';
import { request } from 'undici';
import type { Event } from '../events/event.js';
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
export const NO_MENTIONS = { parse: [] as [] };

/** Posts one message to a channel as the bot (channel.ts): loaded only when DISCORD_TOKEN is set. */
export type PostToChannel = (channelId: string, message: OutgoingMessage) => Promise<void>;

export interface SenderOptions {
	channel?: PostToChannel;
	/** Where dry-run alerts are printed. */
	print?: (text: string) => void;
	/** Per-request timeout for webhook posts. */
	timeoutMs?: number;
}

/**
 * The delivery worker's only door to the outside. Channel posts go through discord.js REST (its bucket
 * handling, our nonce: channel.ts); webhooks through undici with `?wait=true` so a failure is visible;
 * dry runs to stdout.
 */
export function createSender({
	channel,
	print = (text) => process.stdout.write(`${text}\n`),
	timeoutMs = 15_000,
}: SenderOptions): Send {
	return async (destination, message) => {
		switch (destination.kind) {
			case 'stdout':
				for (const embed of message.embeds) print(embedToText(embed, destination.intended));
				return;
			case 'channel':
				if (!channel) throw new DeliveryError('halt', 'no Discord REST client');
				return channel(destination.channelId, message);
			case 'webhook':
				return executeWebhook(destination.url, message, timeoutMs);
		}
	};
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
