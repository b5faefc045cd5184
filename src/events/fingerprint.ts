import { PROVIDER_FACTS } from '../vocabulary/providers.js';
import type { ParsedEvent } from './event.js';
import { shortHash } from './id.js';

/** How long an identical callback counts as a provider retry rather than news (vocabulary/providers.ts). */
export const duplicateWindowMs = (event: ParsedEvent) => PROVIDER_FACTS[event.provider].duplicateWindowMs;

/** What makes two callbacks the same: the parsed event, fields in a stable order. */
export function fingerprint(event: ParsedEvent): string {
	// A staff action is recorded once per confirmation, whatever outcome each recording carries.
	if (event.kind === 'account.action') return `${event.provider}:action:${event.actionId}`;
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
