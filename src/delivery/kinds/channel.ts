import { SNOWFLAKE } from '../../config.js';
import { DeliveryError, toFailure } from '../errors.js';
import type { Destination, DestinationKind } from '../kind.js';
import type { PostToChannel, Send } from '../message.js';
import { composeDiscord, type DiscordKindDeps, type DiscordRecord, toMessage } from './discord.js';

export interface ChannelDestination extends Destination {
	kind: 'channel';
	channelId: string;
}

/**
 * A channel the bot posts to: exactly once, by the message nonce within Discord's nonce window and by a
 * look in the channel past it (channel.ts). A refused token halts every bot channel.
 */
export function channelKind(
	deps: DiscordKindDeps & { channel?: PostToChannel | undefined },
): DestinationKind<ChannelDestination, DiscordRecord> {
	const post: Send =
		deps.send ??
		((destination, message) => {
			if (!deps.channel) throw new DeliveryError('halt', 'no Discord REST client');
			return deps.channel((destination as ChannelDestination).channelId, message);
		});
	return {
		name: 'channel',
		// Without a bot token a channel id cannot be posted to: the dry run (stdout) takes it.
		parse: (value, config) =>
			value && SNOWFLAKE.test(value) && config.discord.token
				? { kind: 'channel', key: `channel:${value}`, channelId: value }
				: undefined,
		paced: true,
		durable: true,
		credentials: 'DISCORD_TOKEN',
		compose: (_destination, ready) => composeDiscord(ready, deps),
		send: (destination, record, entries) => post(destination, toMessage(record, entries, deps)),
		classify: toFailure,
		// Sent again unchanged: the nonce (or the look in the channel) keeps it from being posted twice.
		recover: () => 'resend',
		post,
	};
}
