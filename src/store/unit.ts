import type Keyv from 'keyv';
import type { CollectionName } from './collections.js';
import { serialize, storedValue } from './serialize.js';

/** One value to store as part of a unit; read back with `store[collection].get(key)` like any other. */
export interface Write {
	collection: CollectionName;
	key: string;
	value: unknown;
	ttlMs?: number;
	/**
	 * Optimistic concurrency for a record several processes may change: the unit is stored only if the
	 * key still holds this stored form (`null`: still absent), as `Store.read` returned it. Checked by
	 * Redis and PostgreSQL in the unit's atomic step; memory and SQLite serve one process, whose per-key
	 * lock already orders the changes.
	 */
	expect?: string | null;
}

/** One key to delete as part of a unit. */
export interface Removal {
	collection: CollectionName;
	key: string;
	remove: true;
}

/**
 * Numbers added to a record of counts (`{ field: number }`; a field or record not there yet counts from
 * 0), as part of a unit. Additions commute, so unlike a Write they need no read before and no `expect`:
 * each backend adds inside the unit's own atomic step (SQLite's transaction, PostgreSQL's statement,
 * Redis' script, memory's synchronous step), and concurrent units on any number of instances all count.
 * This is how a callback's per-hour counts ride in its own unit without making every callback of the
 * hour contend for one record. `ttlMs` is renewed by each addition.
 */
export interface Addition {
	collection: CollectionName;
	key: string;
	add: Record<string, number>;
	ttlMs?: number;
}

export type Change = Write | Removal | Addition;

/**
 * The condition a leader's unit commits under: the delivery lease is still held by `token`, checked by
 * the store in the same atomic step (see lease.ts). `at` is where the lease lives: the Redis key or the
 * PostgreSQL table. Memory and SQLite serve one process and have no shared lease to check.
 */
export interface Fence {
	token: string;
	at: string;
}

/** One stored entry, its key without the collection's prefix. */
export interface Entry {
	key: string;
	value: unknown;
}

/** A record as read for a change: its value, and on shared stores its stored form for `Write.expect`. */
export interface Read {
	value: unknown;
	/** The stored form (`null`: absent) on Redis and PostgreSQL; undefined on single-process stores. */
	stored?: string | null;
}

export const removes = (change: Change): change is Removal => 'remove' in change;
export const adds = (change: Change): change is Addition => 'add' in change;

/** `counts` plus `add`, field by field. */
export function addCounts(counts: unknown, add: Record<string, number>): Record<string, number> {
	const sum: Record<string, number> =
		counts && typeof counts === 'object' ? { ...(counts as Record<string, number>) } : {};
	for (const [field, n] of Object.entries(add)) sum[field] = (sum[field] ?? 0) + n;
	return sum;
}

/** An addition's stored form over the one `stored` now (absent or expired: counted from 0). */
export function addedForm(stored: string | null | undefined, addition: Addition, sign: 1 | -1 = 1): string {
	const previous = stored === null || stored === undefined ? undefined : storedValue(stored);
	const add = Object.fromEntries(Object.entries(addition.add).map(([field, n]) => [field, sign * n]));
	const value = addCounts(previous?.live ? previous.value : undefined, add);
	return serialize({ value, expires: expiresOf(addition) });
}

/** When a change with `ttlMs` written now expires (Keyv's `expires`). */
export const expiresOf = (change: { ttlMs?: number }) =>
	change.ttlMs === undefined ? undefined : Date.now() + change.ttlMs;

/** The key a SQL adapter (ours for SQLite, @keyv/postgres) stores a collection's key under. */
export const sqlKey = (collection: Keyv, key: string) => `${collection.namespace}:${key}`;

/** What Keyv itself would hand its adapter as the value for `set(key, value, ttl)`: the stored form. */
export async function storedForm(collection: Keyv, write: Write): Promise<string> {
	const expires = write.ttlMs === undefined ? undefined : Date.now() + write.ttlMs;
	return (await collection.serializeData({ value: write.value, expires })) as string;
}

/** Keyv's stored form of a claim, so `seen.get` and pruning read claimed rows like any other. */
export const claimForm = (value: string, ttlMs: number) => serialize({ value, expires: Date.now() + ttlMs });

/** The value of a stored form read back after a lost claim. */
export const claimedValue = (stored: string | null | undefined) =>
	stored ? (storedValue(stored).value as string | undefined) : undefined;

/** A stored form read for a change (`Read`): expired counts as absent for the value, not for `expect`. */
export function readStored(stored: string | null | undefined): Read {
	if (stored === null || stored === undefined) return { value: undefined, stored: null };
	const { value, live } = storedValue(stored);
	return { value: live ? value : undefined, stored };
}

/** Stored rows as Keyv reads them, expired ones left out, keys without the collection's prefix. */
export function liveEntries(rows: { key: string; value: string }[], prefix: string): Entry[] {
	const now = Date.now();
	const entries: Entry[] = [];
	for (const { key, value } of rows) {
		if (!key.startsWith(prefix)) continue;
		const stored = storedValue(value, now);
		if (stored.live) entries.push({ key: key.slice(prefix.length), value: stored.value });
	}
	return entries;
}
