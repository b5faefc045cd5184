import type Keyv from 'keyv';
import { COLLECTIONS, type CollectionName } from './collections.js';
import { deserialize, serialize } from './serialize.js';
import type { Change, Entry, Fence, Read } from './unit.js';

/** Every collection of one store, each its own Keyv over the backend's adapter. */
export type Collections = Record<CollectionName, Keyv>;

/**
 * What one storage backend does (backends/memory.ts, sqlite.ts, postgres.ts, redis.ts; `openStore` picks
 * one from STORE_URL). Keyv gives every backend plain get/set/delete per collection; everything that
 * matters beyond that is worked around Keyv, with each backend's own primitive: the atomic unit, the
 * compare-and-set read, the duplicate claim, key listing, ordered pages and the delivery lease. A backend
 * declares the type of its Keyv adapter once and reaches its client through it.
 */
export interface Backend {
	/** Every collection, opened on this backend (see `openCollections`). */
	readonly collections: Collections;
	/**
	 * Records `value` under `key` in `seen` for `ttlMs` unless a live value is there; returns that value
	 * instead when there is one. Atomic across processes on Redis (SET NX) and PostgreSQL (INSERT … ON
	 * CONFLICT). Memory and SQLite belong to one process: there it only reads, and the caller's per-key
	 * lock, held until the caller records the outcome in `seen`, gives the same guarantee.
	 */
	claim(key: string, value: string, ttlMs: number): Promise<string | undefined>;
	/**
	 * Stores every change or none: one SQLite transaction (group-committed with its neighbours), one
	 * PostgreSQL statement, one Redis script. This is how a callback's fingerprint, outbox entry and state
	 * change land together. Conditions are checked in the same atomic step, and false is resolved, with
	 * nothing stored, when one does not hold:
	 * - a fence: the delivery lease is still held by the fence's token (see lease.ts). A leader paused
	 *   between its own check and the write cannot write over what the next leader did;
	 * - a write's `expect`: the record is still as `read` returned it. Two instances projecting events for
	 *   one account at once cannot lose each other's change: the second is told, reads again and retries.
	 */
	commit(changes: Change[], fence?: Fence): Promise<boolean>;
	/** Reads a record to change it: a write of it with `expect: stored` is stored only if it is unchanged. */
	read(collection: CollectionName, key: string): Promise<Read>;
	/** A collection's keys (unprefixed), without reading their values: in key order except on Redis. */
	listKeys(name: CollectionName): AsyncIterable<string>;
	/**
	 * Up to `limit` entries of a collection whose keys sort after `after` ('' for the first), in key order:
	 * one index seek per page, however large the collection. Given on SQLite and PostgreSQL; undefined on
	 * Redis and memory, which keep no order (callers read the whole collection there). The delivery worker
	 * reads the outbox's next page after what it holds this way, so draining a backlog of N alerts reads
	 * each about once instead of the whole outbox at every page.
	 */
	readAfter?: (name: CollectionName, after: string, limit: number) => Promise<Entry[]>;
	/** The delivery lease's primitives on this backend (see lease.ts). */
	lease(options: LeaseBackendOptions): Promise<LeaseBackend>;
}

export interface LeaseBackendOptions {
	ttlMs: number;
	/** Called when another process is found using the same SQLite file. */
	warn: (message: string) => void;
}

/** One backend's lease primitives, each one atomic operation there. */
export interface LeaseBackend {
	/** Holds the lease with `token` (answering the term's fencing number), or names who holds it. */
	take(token: string, ttlMs: number): Promise<{ epoch: number } | { holder: string | undefined }>;
	/** Extends the lease if `token` still holds it. */
	extend(token: string, ttlMs: number): Promise<boolean>;
	/** Ends the lease if `token` still holds it. */
	drop(token: string): Promise<void>;
	/** False for memory and SQLite: one process, the lease never runs out. */
	readonly shared: boolean;
	/** Where the lease lives, for a fenced commit (Fence.at): the Redis key or the PostgreSQL table. */
	readonly at?: string;
}

/** A lease token names its instance, then a random part: two terms (or two processes) never share one. */
export const holderOf = (token: string | null | undefined) =>
	token ? token.slice(0, Math.max(0, token.lastIndexOf('#'))) || token : undefined;

/** How many keys one step of a key listing reads. */
export const LIST_PAGE = 1000;

/**
 * Opens every collection with `open`, each throwing on backend errors instead of Keyv's default of
 * swallowing them (a write that did not happen must not be acknowledged), with hookcord's faster
 * serializer (serialize.ts).
 */
export function openCollections(open: (name: CollectionName) => Keyv): Collections {
	const collections = {} as Collections;
	for (const name of COLLECTIONS) {
		const keyv = open(name);
		keyv.throwOnErrors = true;
		if (keyv.serialize) {
			keyv.serialize = serialize;
			keyv.deserialize = deserialize;
		}
		// Errors are thrown to the caller; the listener only stops EventEmitter from crashing the process.
		keyv.on('error', () => {});
		collections[name] = keyv;
	}
	return collections;
}

/** Keyv's own key listing, for backends with no cheaper one. */
export async function* iterateKeys(collection: Keyv): AsyncIterable<string> {
	if (!collection.iterator) return;
	for await (const [key] of collection.iterator(undefined)) yield String(key);
}
