import { DiscordAPIError, HTTPError, RateLimitError, REST } from '@discordjs/rest';
import type { APIEmbed, RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { Routes } from 'discord-api-types/v10';
import { request } from 'undici';
import { embedToText } from '../discord/plain.js';
import type { Destination } from './destinations.js';
import { classifyStatus, DeliveryError } from './errors.js';

export interface OutgoingMessage {
	/** One headline per embed, for notifications and previews. */
	content: string;
	embeds: APIEmbed[];
	/** Derived from the events in the message: Discord drops a repeat of the same nonce. */
	nonce: string;
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
	const body: RESTPostAPIChannelMessageJSONBody = {
		content: message.content,
		embeds: message.embeds,
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

export { REST };
