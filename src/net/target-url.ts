import { createHash } from 'node:crypto';

/**
 * A forward target as logs, messages, `/readyz` and the CLI show it: scheme, host (with a port) and path.
 * Never the user info, the query or the fragment, where a panel's URL may carry a password or a key.
 */
export function shownTarget(url: URL | string): string {
	const parsed = typeof url === 'string' ? new URL(url) : url;
	return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/**
 * A target's name in the store: a digest of its whole URL (two targets differing only in their query are
 * two targets), fixed length and base36 so keys `<target>:<event id>` sort by target, then by event.
 * The digest cannot be turned back into the URL.
 */
export function targetKey(url: string): string {
	const hex = createHash('sha256').update(`forward:${url}`).digest('hex');
	return BigInt(`0x${hex}`).toString(36).padStart(12, '0').slice(0, 12);
}
