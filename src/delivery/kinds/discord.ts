import type { APIEmbed } from 'discord-api-types/v10';
import type { Event } from '../../events/event.js';
import { shortHash } from '../../events/id.js';
import { composeMessage } from '../../render/message.js';
import type { InFlightRecord, OutboxEntry } from '../../state/outbox.js';
import type { Destination } from '../kind.js';

/** What the Discord kinds (bot channel, webhook, dry run) share: the message and how it is composed. */

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

/** Puts one message on the wire for a Discord destination. Tests replace it to record what is posted. */
export type Send = (destination: Destination, message: OutgoingMessage) => Promise<void>;

/** Text from callbacks must never ping anyone (Discord's `allowed_mentions`). */
export const NO_MENTIONS = { parse: [] as [] };

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

/** Posts one message to a channel as the bot (channel.ts): loaded only when DISCORD_TOKEN is set. */
export type PostToChannel = (channelId: string, message: OutgoingMessage) => Promise<void>;
