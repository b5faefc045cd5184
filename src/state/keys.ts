import type Keyv from 'keyv';
import type { CollectionName } from './collections.js';
import type { SqliteAdapter } from './sqlite-adapter.js';

const PAGE = 1000;

/**
 * Lists a collection's keys without reading (and parsing) every value: an index walk on SQLite and
 * PostgreSQL, SCAN on Redis. Used to build the account autocomplete at start-up, where reading 1M
 * account histories would cost seconds and a burst of memory.
 */
export function keyLister(
	scheme: string,
	collections: Record<CollectionName, Keyv>,
): (name: CollectionName) => AsyncIterable<string> {
	switch (scheme) {
		case 'sqlite':
			return async function* (name) {
				const adapter = collections[name].store as SqliteAdapter;
				const prefix = `${name}:`;
				for (let after = prefix; ; ) {
					const keys = adapter.keysAfter(after, `${name};`, PAGE);
					for (const key of keys) yield key.slice(prefix.length);
					if (keys.length < PAGE) return;
					after = keys.at(-1) as string;
				}
			};
		case 'postgres':
		case 'postgresql':
			return async function* (name) {
				const adapter = collections[name].store as {
					opts: { schema: string; table: string };
					query(sql: string, params: unknown[]): Promise<{ key: string }[]>;
				};
				const prefix = `${name}:`;
				const table = `${adapter.opts.schema}.${adapter.opts.table}`;
				for (let after = ''; ; ) {
					const rows = await adapter.query(
						`SELECT key FROM ${table} WHERE key > $1 ORDER BY key LIMIT ${PAGE}`,
						[after],
					);
					for (const { key } of rows) if (key.startsWith(prefix)) yield key.slice(prefix.length);
					if (rows.length < PAGE) return;
					after = (rows.at(-1) as { key: string }).key;
				}
			};
		case 'redis':
		case 'rediss':
			return async function* (name) {
				const adapter = collections[name].store as {
					namespace?: string;
					createKeyPrefix(key: string, namespace?: string): string;
					getClient(): Promise<{
						scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
					}>;
				};
				const prefix = adapter.createKeyPrefix('', adapter.namespace);
				const client = await adapter.getClient();
				for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: PAGE })) {
					for (const key of keys) yield key.slice(prefix.length);
				}
			};
		default:
			return async function* (name) {
				const collection = collections[name];
				if (!collection.iterator) return;
				for await (const [key] of collection.iterator(undefined)) yield String(key);
			};
	}
}
