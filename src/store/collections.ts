/**
 * The named collections hookcord keeps. Each is its own Keyv (its own SQLite table, Redis key prefix or
 * Postgres table), so scanning the outbox at start-up never walks through account state.
 */
export const COLLECTIONS = [
	'outbox',
	'failed',
	'batches',
	'accounts',
	'certs',
	'tickets',
	'meta',
	'seen',
	/** Account key ─▶ vPanel username, learned from staff actions (no MOFH call maps one to the other). */
	'keys',
	/** Staff actions waiting for their confirmation button, and the outcome of confirmed ones. */
	'actions',
	/** Each forward target's state (paused at which callback, failing since when, its last answer) and staff's decisions. */
	'targets',
	/** MOFH ticket id ─▶ its Discord thread (or forum post) per destination, written by delivery. */
	'threads',
	/** Per-hour counts of stored events by kind and reason (the /stats and report figures), see counts.ts. */
	'counts',
] as const;
export type CollectionName = (typeof COLLECTIONS)[number];
