import type { APIEmbed } from 'discord-api-types/v10';
import type { Event } from '../events/event.js';
import type { ButtonRow } from '../render/components.js';
import type { Destination } from './kind.js';

/** A Discord message as it goes on the wire, and what puts it there: shared by the Discord kinds and the bot's REST poster. */

export interface OutgoingMessage {
	/** One headline per embed, for notifications and previews. */
	content: string;
	embeds: APIEmbed[];
	/** Derived from the events in the message: Discord drops a repeat of the same nonce. */
	nonce: string;
	/** The events the message shows: bot messages carry a Status button per account among them. */
	events?: readonly Event[];
	/** Buttons of its own (an OPS message's Send again and Skip) instead of the events' Status buttons. */
	components?: ButtonRow[];
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

/** Posts one message to a channel as the bot (channel.ts): loaded only when DISCORD_TOKEN is set. */
export type PostToChannel = (channelId: string, message: OutgoingMessage) => Promise<void>;
