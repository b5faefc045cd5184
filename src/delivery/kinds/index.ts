import { type Kinds, register } from '../kind.js';
import type { PostToChannel } from '../message.js';
import { channelKind } from './channel.js';
import type { DiscordKindDeps } from './discord.js';
import { type ForwardKindDeps, forwardKind } from './forward.js';
import { stdoutKind } from './stdout.js';
import { type TicketKindDeps, ticketKind } from './ticket-thread.js';
import { webhookKind } from './webhook.js';

export interface KindDeps extends DiscordKindDeps, Omit<TicketKindDeps, 'send'> {
	/** The bot's channel poster (channel.ts), when DISCORD_TOKEN is set. */
	channel?: PostToChannel | undefined;
	/** Where dry-run alerts are printed. */
	print: (text: string) => void;
	/** Per-request timeout for webhook posts. */
	timeoutMs: number;
	/** Forward targets (`*_FORWARD_TO`); none without. */
	forward?: ForwardKindDeps;
}

/**
 * Every destination kind this process knows, one line each. Order matters for ALERTS_CHANNEL values:
 * the first kind that accepts a value gets it (stdout, the dry run, accepts whatever is left).
 */
export function createKinds(deps: KindDeps): Kinds {
	// Tickets first: TICKETS' channel or webhook becomes a thread per ticket, not a plain channel.
	return new Map([
		register(ticketKind(deps)),
		register(webhookKind(deps)),
		register(channelKind(deps)),
		register(stdoutKind(deps)),
		...(deps.forward ? [register(forwardKind(deps.forward))] : []),
	]);
}
