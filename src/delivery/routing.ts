import type { Config } from '../config.js';
import type { Topic } from '../events/event.js';
import type { Destination, Kinds } from './kind.js';

/** Where a topic's alerts go: every destination, each with an outbox entry of its own. */
export type Route = (topic: Topic) => Destination[];

/**
 * Resolves every topic once: the destination its ALERTS_CHANNEL* value names (none when `off`),
 * then those kinds add for every topic (fan-out).
 */
export function routeTopics(config: Config, kinds: Kinds): Route {
	const cache = new Map<Topic, Destination[]>();
	return (topic) => {
		let destinations = cache.get(topic);
		if (!destinations) {
			const value = config.alerts.topics[topic] ?? config.alerts.default;
			const named = value === 'off' ? undefined : parse(value, topic, config, kinds);
			destinations = [...(named ? [named] : [])];
			for (const kind of kinds.values()) destinations.push(...(kind.fanOut?.(topic, config) ?? []));
			cache.set(topic, destinations);
		}
		return destinations;
	};
}

function parse(
	value: string | undefined,
	topic: Topic,
	config: Config,
	kinds: Kinds,
): Destination | undefined {
	for (const kind of kinds.values()) {
		const destination = kind.parse?.(value, config, topic);
		if (destination) return destination;
	}
	return undefined;
}

/** The kind name in a destination key (`<kind>` or `<kind>:<id>`). */
export const kindOfKey = (key: string): string => key.split(':', 1)[0] as string;
