import { request } from 'undici';
import { WEBHOOK_URL } from '../../config.js';
import { classifyStatus, DeliveryError, toFailure } from '../errors.js';
import type { Destination, DestinationKind } from '../kind.js';
import { NO_MENTIONS, type OutgoingMessage } from '../message.js';
import { composeDiscord, type DiscordKindDeps, type DiscordRecord, toMessage } from './discord.js';

export interface WebhookDestination extends Destination {
	kind: 'webhook';
	url: string;
	webhookId: string;
}

/**
 * A channel webhook, through undici with `?wait=true` so a failure is visible. Webhooks take no nonce:
 * a lost answer can post a message twice, which is why a bot channel is the recommended destination.
 */
export function webhookKind(
	deps: DiscordKindDeps & { timeoutMs: number },
): DestinationKind<WebhookDestination, DiscordRecord> {
	const post =
		deps.send ??
		(async (destination, message) => {
			await executeWebhook((destination as WebhookDestination).url, message, deps.timeoutMs);
		});
	return {
		name: 'webhook',
		parse(value) {
			const webhook = value ? WEBHOOK_URL.exec(value) : null;
			if (!webhook || !value) return undefined;
			return { kind: 'webhook', key: `webhook:${webhook[1]}`, url: value, webhookId: webhook[1] as string };
		},
		paced: true,
		durable: true,
		compose: (_destination, ready) => composeDiscord(ready, deps),
		send: (destination, record, entries) => post(destination, toMessage(record, entries, deps)),
		classify: toFailure,
		recover: () => 'resend',
		post,
	};
}

/**
 * Executes a webhook with a message (the token is in the URL: never logged); resolves with the message
 * Discord made. `thread`: into a thread of the webhook's channel (`thread_id`, which un-archives it), or
 * a new forum post (`thread_name`: forum channels only).
 */
export async function executeWebhook(
	url: string,
	message: Pick<OutgoingMessage, 'content' | 'embeds'>,
	timeoutMs: number,
	thread?: { id: string } | { name: string },
): Promise<{ id?: string; channel_id?: string }> {
	const target = new URL(url);
	target.searchParams.set('wait', 'true');
	if (thread && 'id' in thread) target.searchParams.set('thread_id', thread.id);
	let response: Awaited<ReturnType<typeof request>>;
	try {
		response = await request(target, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({
				content: message.content,
				embeds: message.embeds,
				allowed_mentions: NO_MENTIONS,
				...(thread && 'name' in thread && { thread_name: thread.name }),
			}),
			headersTimeout: timeoutMs,
			bodyTimeout: timeoutMs,
		});
	} catch (error) {
		const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
		throw new DeliveryError('retry', `network: ${reason}`);
	}
	const text = await response.body.text().catch(() => '');
	let json: { id?: string; channel_id?: string; code?: unknown } = {};
	try {
		json = text ? JSON.parse(text) : {};
	} catch {
		// not JSON: the status says it all
	}
	if (response.statusCode >= 200 && response.statusCode < 300) return json;
	const retryAfter = Number(response.headers['retry-after']);
	throw new DeliveryError(
		classifyStatus(response.statusCode, false),
		`webhook answered ${response.statusCode}: ${text.slice(0, 200)}`,
		Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
		typeof json.code === 'number' ? json.code : undefined,
	);
}
