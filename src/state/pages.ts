import type Keyv from 'keyv';
import type { CollectionName } from './collections.js';
import { storedValue } from './serialize.js';
import type { SqliteAdapter } from './sqlite-adapter.js';
import { sqlKey, sqlTable } from './unit.js';

/** One stored entry, its key without the collection's prefix. */
export interface Entry {
	key: string;
	value: unknown;
}

/**
 * Up to `limit` entries of a collection whose keys sort after `after` ('' for the first), in key order:
 * one index seek per page, however large the collection. Given on SQLite and PostgreSQL; undefined on
 * Redis and memory, which keep no order (callers read the whole collection there). The delivery worker
 * reads the outbox's next page after what it holds this way, so draining a backlog of N alerts reads
 * each about once instead of the whole outbox at every page.
 */
export type ReadAfter = (name: CollectionName, after: string, limit: number) => Promise<Entry[]>;

export function pageReader(scheme: string, collections: Record<CollectionName, Keyv>): ReadAfter | undefined {
	switch (scheme) {
		case 'sqlite':
			return async (name, after, limit) => {
				const collection = collections[name];
				const prefix = `${name}:`;
				const rows = await (collection.store as SqliteAdapter).pageAfter(
					after ? sqlKey(collection, after) : prefix,
					`${name};`,
					limit,
				);
				return live(rows, prefix);
			};
		case 'postgres':
		case 'postgresql':
			return async (name, after, limit) => {
				const collection = collections[name];
				const adapter = collection.store as {
					query(sql: string, params: unknown[]): Promise<{ key: string; value: string }[]>;
				};
				// Each collection has a table of its own, so no upper bound is needed (and none on punctuation,
				// which a locale's collation may skip when it compares).
				const rows = await adapter.query(
					`SELECT key, value FROM ${sqlTable(collection)} WHERE key > $1 ORDER BY key LIMIT $2`,
					[after ? sqlKey(collection, after) : '', limit],
				);
				return live(rows, `${name}:`);
			};
		default:
			return undefined;
	}
}

/** The rows' values as Keyv reads them, expired ones left out, keys without the prefix. */
function live(rows: { key: string; value: string }[], prefix: string): Entry[] {
	const now = Date.now();
	const entries: Entry[] = [];
	for (const { key, value } of rows) {
		if (!key.startsWith(prefix)) continue;
		const stored = storedValue(value, now);
		if (stored.live) entries.push({ key: key.slice(prefix.length), value: stored.value });
	}
	return entries;
}
