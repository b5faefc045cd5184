import type Keyv from 'keyv';
import type { CollectionName } from './collections.js';
import type { SqliteAdapter } from './sqlite-adapter.js';

/** One value to store as part of a unit; read back with `store[collection].get(key)` like any other. */
export interface Write {
	collection: CollectionName;
	key: string;
	value: unknown;
	ttlMs?: number;
}

/** What Keyv itself would hand its adapter for `set(key, value, ttl)`: the prefixed key and the stored form. */
async function stored(collection: Keyv, write: Write) {
	const expires = write.ttlMs === undefined ? undefined : Date.now() + write.ttlMs;
	const value = (await collection.serializeData({ value: write.value, expires })) as string;
	return { key: `${collection.namespace}:${write.key}`, value };
}

/**
 * Stores a unit of writes atomically on each backend. Keyv has no transactions, so each backend gets the
 * primitive it has: SQLite a transaction (group-committed with its neighbours), PostgreSQL one statement
 * whose data-modifying CTEs commit together, Redis MULTI/EXEC of plain SETs (queued client-side and sent
 * with EXEC, so a connection lost before it applies nothing; SET cannot fail once queued).
 */
export function committer(
	scheme: string,
	collections: Record<CollectionName, Keyv>,
): (writes: Write[]) => Promise<void> {
	switch (scheme) {
		case 'sqlite':
			return async (writes) => {
				const rows = await Promise.all(
					writes.map(async (write) => ({
						adapter: collections[write.collection].store as SqliteAdapter,
						...(await stored(collections[write.collection], write)),
					})),
				);
				const [first] = rows;
				if (!first) return;
				// Any adapter reaches the shared connection; the group transaction holds the whole unit.
				await first.adapter.transact(() => {
					for (const row of rows) row.adapter.upsertNow(row.key, row.value);
				});
			};
		case 'postgres':
		case 'postgresql': {
			// Each collection creates its table as it connects; a unit's statement spans several of them.
			let tables: Promise<unknown> | undefined;
			return async (writes) => {
				if (writes.length === 0) return;
				tables ??= Promise.all(
					Object.values(collections).map((collection) =>
						(collection.store as { query(sql: string): Promise<unknown> }).query('SELECT 1'),
					),
				);
				await tables;
				const rows = await Promise.all(
					writes.map(async (write) => {
						const collection = collections[write.collection];
						const { schema, table } = (collection.store as { opts: { schema: string; table: string } }).opts;
						return { table: `${schema}.${table}`, ...(await stored(collection, write)) };
					}),
				);
				const params = rows.flatMap(({ key, value }) => [key, value]);
				const ctes = rows.map(
					({ table }, i) => `w${i} AS (INSERT INTO ${table} (key, value) VALUES ($${2 * i + 1}, $${2 * i + 2})
						ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value)`,
				);
				const adapter = collections.meta.store as { query(sql: string, params: unknown[]): Promise<unknown> };
				await adapter.query(`WITH ${ctes.join(', ')} SELECT 1`, params);
			};
		}
		case 'redis':
		case 'rediss':
			return async (writes) => {
				if (writes.length === 0) return;
				const adapter = collections.meta.store as RedisAdapter;
				const client = await adapter.getClient();
				const multi = client.multi();
				for (const write of writes) {
					const collection = collections[write.collection];
					const store = collection.store as RedisAdapter;
					const expires = write.ttlMs === undefined ? undefined : Date.now() + write.ttlMs;
					const value = (await collection.serializeData({ value: write.value, expires })) as string;
					const key = store.createKeyPrefix(write.key, store.namespace);
					if (write.ttlMs === undefined) multi.set(key, value);
					else multi.set(key, value, { PX: write.ttlMs });
				}
				await multi.exec();
			};
		default:
			// Memory: a failed write undoes the ones before it (nothing outlives the process anyway).
			return async (writes) => {
				const done: { collection: Keyv; key: string; previous: unknown }[] = [];
				try {
					for (const { collection: name, key, value, ttlMs } of writes) {
						const collection = collections[name];
						done.push({ collection, key, previous: await collection.get(key) });
						await collection.set(key, value, ttlMs);
					}
				} catch (error) {
					for (const { collection, key, previous } of done.reverse())
						await (previous === undefined ? collection.delete(key) : collection.set(key, previous)).catch(
							() => {},
						);
					throw error;
				}
			};
	}
}

export interface RedisAdapter {
	namespace?: string;
	createKeyPrefix(key: string, namespace?: string): string;
	getClient(): Promise<{
		multi(): {
			set(key: string, value: string, options?: { PX: number }): unknown;
			exec(): Promise<unknown>;
		};
	}>;
}
