import type { ParsedEvent } from './event.js';
import { shortHash } from './id.js';

/**
 * How long an identical callback counts as a provider retry rather than news. Wooxy retries the same body
 * for about 7 hours (3×100 s, 6×600 s, 6×3600 s: NOTES.md C.1), so its window covers that; MOFH and
 * Xolphin document no retries, and the same MOFH callback can legitimately recur days later (a second
 * DAILY_HIT suspension), so theirs is short.
 */
export const DUPLICATE_WINDOW_MS: Record<ParsedEvent['provider'], number> = {
	mofh: 10 * 60_000,
	xolphin: 10 * 60_000,
	wooxy: 8 * 3_600_000,
};

/** What makes two callbacks the same: the parsed event, fields in a stable order. */
export function fingerprint(event: ParsedEvent): string {
	return `${event.provider}:${shortHash(canonical(event), 32)}`;
}

function canonical(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
	if (value && typeof value === 'object') {
		const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
			a < b ? -1 : a > b ? 1 : 0,
		);
		return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
	}
	return JSON.stringify(value) ?? 'undefined';
}
