import type { APIEmbed } from 'discord-api-types/v10';
import type { Event } from '../events/event.js';
import { truncate } from '../text.js';
import { renderEvent, renderHeadlines } from './alert.js';
import { foldKey, renderDigest } from './digest.js';
import { embedLength, firstMessageSize, LIMITS } from './limits.js';

/** One Discord message composed from the head of a destination's backlog. */
export interface ComposedMessage {
	/** The events it carries, in the order they were taken; the rest wait for the next message. */
	ids: string[];
	/** One headline per embed, for notifications and previews. */
	content: string;
	embeds: APIEmbed[];
}

/**
 * The next message for a backlog, oldest first. Without `fold`: up to ten full alerts, as a quiet
 * channel gets them. With `fold`: like alerts (two or more of one kind) become one digest placed where
 * the first of them arrived, and the others keep their full embed; as many as fit in one message.
 */
export function composeMessage(events: Event[], fold: boolean): ComposedMessage {
	if (!fold) {
		const embeds = events.slice(0, LIMITS.embedsPerMessage).map(renderEvent);
		const count = firstMessageSize(embeds);
		const taken = events.slice(0, count);
		return {
			ids: taken.map((event) => event.id),
			content: renderHeadlines(taken, embeds),
			embeds: embeds.slice(0, count),
		};
	}
	const groups = new Map<string, Event[]>();
	for (const event of events) {
		const key = foldKey(event);
		if (key) groups.set(key, [...(groups.get(key) ?? []), event]);
	}
	const ids: string[] = [];
	const embeds: APIEmbed[] = [];
	const headlines: string[] = [];
	const placed = new Set<string>();
	let used = 0;
	for (const event of events) {
		if (embeds.length === LIMITS.embedsPerMessage) break;
		const key = foldKey(event);
		const group = key ? (groups.get(key) ?? []) : [];
		if (key && group.length > 1) {
			if (placed.has(key)) continue;
			placed.add(key);
			const { embed, taken } = renderDigest(group, LIMITS.total - used);
			// A digest is split only when it cannot fit a message of its own: else it opens the next one.
			if (!embed || (taken < group.length && embeds.length > 0)) break;
			embeds.push(embed);
			ids.push(...group.slice(0, taken).map((member) => member.id));
			headlines.push(embed.title ?? 'Digest');
			used += embedLength(embed);
			if (taken < group.length) break; // the message is full; the rest of this kind goes next
			continue;
		}
		const embed = renderEvent(event);
		if (embeds.length > 0 && used + embedLength(embed) > LIMITS.total) break;
		embeds.push(embed);
		ids.push(event.id);
		headlines.push(renderHeadlines([event], [embed]));
		used += embedLength(embed);
	}
	return { ids, content: truncate(headlines.join('\n'), LIMITS.content, { trim: true }), embeds };
}
