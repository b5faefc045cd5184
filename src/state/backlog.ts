import type { Store } from '../store/store.js';

/** What waits for delivery, read from the store's keys alone. */
export interface Backlog {
	/** Alerts waiting in the outbox (one per event and destination). */
	backlog: number;
	/** Seconds since the oldest waiting alert was received (0 when none waits). */
	oldestAgeSeconds: number;
	/** Alerts whose retry budget ran out, kept for `/alerts failed` and replay. */
	deadLetters: number;
	/** Waiting entries per destination key (a forward target's is `forward:<target>`). */
	byDestination: Record<string, number>;
}

/**
 * The outbox and the dead letters, counted from keys without reading a value: outbox keys are
 * `<destination>/<event id>` and event ids begin with their receipt time in base 36 (events/id.ts).
 * Shared by every instance on the store; the metrics gauges and the report read it.
 */
export async function readBacklog(store: Pick<Store, 'listKeys'>, now: number): Promise<Backlog> {
	let backlog = 0;
	let oldest = Number.POSITIVE_INFINITY;
	const byDestination: Record<string, number> = {};
	for await (const key of store.listKeys('outbox')) {
		backlog++;
		const destination = key.slice(0, key.lastIndexOf('/'));
		byDestination[destination] = (byDestination[destination] ?? 0) + 1;
		const receivedAt = Number.parseInt(key.slice(key.lastIndexOf('/') + 1, key.lastIndexOf('/') + 10), 36);
		if (receivedAt < oldest) oldest = receivedAt;
	}
	let deadLetters = 0;
	for await (const _ of store.listKeys('failed')) deadLetters++;
	const oldestAgeSeconds = backlog > 0 ? Math.max(0, (now - oldest) / 1000) : 0;
	return { backlog, oldestAgeSeconds, deadLetters, byDestination };
}
