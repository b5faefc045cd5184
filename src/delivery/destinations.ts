import type { Config } from '../config.js';
import { WEBHOOK_URL } from '../config.js';
import type { Topic } from '../events/event.js';

/**
 * Where a topic's alerts go. `key` identifies the destination in logs and bookkeeping and never holds a
 * secret (a webhook is named by its id, not its token).
 */
export type Destination =
	| { kind: 'channel'; key: string; channelId: string }
	| { kind: 'webhook'; key: string; url: string; webhookId: string }
	| { kind: 'stdout'; key: string; intended?: string };

/** Resolves every topic once at start-up; `null` means the topic is muted (`off`). */
export function routeTopics(config: Config): (topic: Topic) => Destination | null {
	const cache = new Map<Topic, Destination | null>();
	return (topic) => {
		if (!cache.has(topic))
			cache.set(topic, resolve(config.alerts.topics[topic] ?? config.alerts.default, config));
		return cache.get(topic) ?? null;
	};
}

function resolve(raw: string | undefined, config: Config): Destination | null {
	if (raw === 'off') return null;
	if (!raw) return { kind: 'stdout', key: 'stdout' };
	const webhook = WEBHOOK_URL.exec(raw);
	if (webhook)
		return { kind: 'webhook', key: `webhook:${webhook[1]}`, url: raw, webhookId: webhook[1] as string };
	// Dry run: without a bot token a channel id cannot be posted to, so show what would have gone there.
	if (!config.discord.token) return { kind: 'stdout', key: `stdout:${raw}`, intended: `channel ${raw}` };
	return { kind: 'channel', key: `channel:${raw}`, channelId: raw };
}
