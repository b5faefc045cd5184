import type { APIEmbed } from 'discord-api-types/v10';
import { shortHash } from '../../events/id.js';
import { composeMessage } from '../../render/message.js';
import type { InFlightRecord, OutboxEntry } from '../../state/outbox.js';
import type { OutgoingMessage, Send } from '../message.js';

/** What the Discord kinds (bot channel, webhook, dry run) share: the message and how it is composed. */

/**
 * A Discord message being sent, kept until Discord confirms it so a retry, or the next process after a
 * crash, re-sends the very same message (content and embeds fixed when it was composed), same nonce.
 */
export interface DiscordRecord extends InFlightRecord {
	nonce: string;
	content: string;
	embeds: APIEmbed[];
}

export interface DiscordKindDeps {
	now: () => number;
	/** A destination with at least this many alerts ready gets digests instead of ten alerts a message. */
	digestThreshold: number;
	/** How long Discord remembers a nonce; an older message is looked for in the channel before re-sending. */
	nonceWindowMs: number;
	/** Replaces every Discord kind's own transport (tests record what would be posted). */
	send?: Send;
}

/**
 * The next message from the ready head: a lone alert goes out as a full message, a flood becomes a few
 * digests. The nonce is the event id of a one-alert message, else a hash of the ids it carries.
 */
export function composeDiscord(ready: readonly OutboxEntry[], deps: DiscordKindDeps): DiscordRecord {
	const fold = ready.length > 1 && ready.length >= deps.digestThreshold;
	const { ids, content, embeds } = composeMessage(
		ready.map((entry) => entry.event),
		fold,
	);
	const nonce = ids.length === 1 ? (ids[0] as string) : shortHash(ids.join(','));
	return { nonce, ids, content, embeds, since: deps.now() };
}

/** The message a record stands for, as it goes on the wire now. */
export function toMessage(
	record: DiscordRecord,
	entries: readonly OutboxEntry[],
	deps: DiscordKindDeps,
): OutgoingMessage {
	const { content, embeds, nonce, since } = record;
	return {
		content,
		embeds,
		nonce,
		...(since !== undefined && deps.now() - since > deps.nonceWindowMs && { lookBack: true }),
		// Status buttons only where every alert has its own embed: a digest names too many accounts.
		...(embeds.length === record.ids.length && { events: entries.map((entry) => entry.event) }),
	};
}
