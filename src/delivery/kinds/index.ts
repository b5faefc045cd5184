import { type Kinds, register } from '../kind.js';
import { channelKind } from './channel.js';
import type { DiscordKindDeps, PostToChannel } from './discord.js';
import { stdoutKind } from './stdout.js';
import { webhookKind } from './webhook.js';

export interface KindDeps extends DiscordKindDeps {
	/** The bot's channel poster (channel.ts), when DISCORD_TOKEN is set. */
	channel?: PostToChannel | undefined;
	/** Where dry-run alerts are printed. */
	print: (text: string) => void;
	/** Per-request timeout for webhook posts. */
	timeoutMs: number;
}

/**
 * Every destination kind this process knows, one line each. Order matters for ALERTS_CHANNEL values:
 * the first kind that accepts a value gets it (stdout, the dry run, accepts whatever is left).
 */
export function createKinds(deps: KindDeps): Kinds {
	return new Map([register(webhookKind(deps)), register(channelKind(deps)), register(stdoutKind(deps))]);
}
