import { embedToText } from '../../render/plain.js';
import { toFailure } from '../errors.js';
import type { Destination, DestinationKind } from '../kind.js';
import type { OutgoingMessage } from '../message.js';
import { composeDiscord, type DiscordKindDeps, type DiscordRecord, toMessage } from './discord.js';

export interface StdoutDestination extends Destination {
	kind: 'stdout';
	/** Where the alert would have gone with a bot token, e.g. `channel 123`. */
	intended?: string;
}

/** A dry run: what staff would have seen, printed. Nothing to make exactly once, so nothing recorded. */
export function stdoutKind(
	deps: DiscordKindDeps & { print: (text: string) => void },
): DestinationKind<StdoutDestination, DiscordRecord> {
	const print = (destination: Destination, message: OutgoingMessage) =>
		printDryRun(message, (destination as StdoutDestination).intended, deps.print);
	const post = deps.send ?? (async (destination, message) => print(destination, message));
	return {
		name: 'stdout',
		// No ALERTS_CHANNEL at all, or a channel id without a bot token to post there.
		parse: (value) =>
			value === undefined
				? { kind: 'stdout', key: 'stdout' }
				: { kind: 'stdout', key: `stdout:${value}`, intended: `channel ${value}` },
		paced: true,
		durable: false,
		compose: (_destination, ready) => composeDiscord(ready, deps),
		send: (destination, record, entries) => post(destination, toMessage(record, entries, deps)),
		classify: toFailure,
		recover: () => 'resend',
		post,
	};
}

/** Prints a message's embeds as plain text, each marked with where it would have gone. */
export function printDryRun(
	message: OutgoingMessage,
	intended: string | undefined,
	print: (text: string) => void,
): void {
	for (const embed of message.embeds) print(embedToText(embed, intended));
}
