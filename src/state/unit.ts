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

/** One key to delete as part of a unit. */
export interface Removal {
	collection: CollectionName;
	key: string;
	remove: true;
}

export type Change = Write | Removal;

/**
 * The condition a leader's unit commits under: the delivery lease is still held by `token`, checked by
 * the store in the same atomic step (see lease.ts). `at` is where the lease lives: the Redis key or the
 * PostgreSQL table. Memory and SQLite serve one process and have no shared lease to check.
 */
export interface Fence {
	token: string;
	at: string;
}

const removes = (change: Change): change is Removal => 'remove' in change;

/** What Keyv itself would hand its adapter for `set(key, value, ttl)`: the prefixed key and the stored form. */
async function stored(collection: Keyv, write: Write) {
	const expires = write.ttlMs === undefined ? undefined : Date.now() + write.ttlMs;
	const value = (await collection.serializeData({ value: write.value, expires })) as string;
	return { key: `${collection.namespace}:${write.key}`, value };
}

/**
 * Stores a unit of changes atomically on each backend. Keyv has no transactions, so each backend gets
 * the primitive it has: SQLite a transaction (group-committed with its neighbours), PostgreSQL one
 * statement whose data-modifying CTEs commit together, Redis MULTI/EXEC of plain SETs and DELs (queued
 * client-side and sent with EXEC, so a connection lost before it applies nothing; neither can fail once
 * queued), or one script when fenced.
 *
 * With a fence, the unit is stored only if the lease is still held by the fence's token, checked in the
 * same step: a leader paused between its own check and the write (a long GC, SIGSTOP, a partition) cannot
 * write over what the next leader did, e.g. bring back an outbox entry the next leader has delivered.
 * Resolves false when the fence no longer holds (nothing stored), true otherwise.
 */
export function committer(
	scheme: string,
	collections: Record<CollectionName, Keyv>,
): (changes: Change[], fence?: Fence) => Promise<boolean> {
	switch (scheme) {
		case 'sqlite':
			return async (changes) => {
				const rows = await Promise.all(
					changes.map(async (change) => {
						const collection = collections[change.collection];
						const adapter = collection.store as SqliteAdapter;
						if (removes(change))
							return { adapter, key: `${collection.namespace}:${change.key}`, value: undefined };
						return { adapter, ...(await stored(collection, change)) };
					}),
				);
				const [first] = rows;
				if (!first) return true;
				// Any adapter reaches the shared connection; the group transaction holds the whole unit.
				await first.adapter.transact(() => {
					for (const row of rows)
						if (row.value === undefined) row.adapter.deleteNow(row.key);
						else row.adapter.upsertNow(row.key, row.value);
				});
				return true;
			};
		case 'postgres':
		case 'postgresql': {
			// Each collection creates its table as it connects; a unit's statement spans several of them.
			let tables: Promise<unknown> | undefined;
			return async (changes, fence) => {
				if (changes.length === 0) return true;
				tables ??= Promise.all(
					Object.values(collections).map((collection) =>
						(collection.store as { query(sql: string): Promise<unknown> }).query('SELECT 1'),
					),
				);
				await tables;
				const params: unknown[] = [];
				const param = (value: unknown) => {
					params.push(value);
					return `$${params.length}`;
				};
				// FOR SHARE: a new leader's take of the lease row waits until this statement has committed.
				const held = fence
					? `SELECT 1 FROM ${fence.at} WHERE name = 'delivery' AND holder = ${param(fence.token)}
						AND expires_at > clock_timestamp() FOR SHARE`
					: 'SELECT 1';
				const ctes = await Promise.all(
					changes.map(async (change, i) => {
						const collection = collections[change.collection];
						const { schema, table } = (collection.store as { opts: { schema: string; table: string } }).opts;
						if (removes(change))
							return `c${i} AS (DELETE FROM ${schema}.${table}
								WHERE key = ${param(`${collection.namespace}:${change.key}`)} AND EXISTS (SELECT 1 FROM held))`;
						const { key, value } = await stored(collection, change);
						return `c${i} AS (INSERT INTO ${schema}.${table} (key, value)
							SELECT ${param(key)}::text, ${param(value)}::text FROM held
							ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value)`;
					}),
				);
				const adapter = collections.meta.store as {
					query(sql: string, params: unknown[]): Promise<{ held: number }[]>;
				};
				const [row] = await adapter.query(
					`WITH held AS (${held}), ${ctes.join(', ')} SELECT count(*)::int AS held FROM held`,
					params,
				);
				return (row?.held ?? 0) > 0;
			};
		}
		case 'redis':
		case 'rediss':
			return async (changes, fence) => {
				if (changes.length === 0) return true;
				const adapter = collections.meta.store as RedisAdapter;
				const client = await adapter.getClient();
				const commands = await Promise.all(
					changes.map(async (change) => {
						const collection = collections[change.collection];
						const store = collection.store as RedisAdapter;
						const key = store.createKeyPrefix(change.key, store.namespace);
						if (removes(change)) return { key, op: 'del' as const, value: '', ttl: '' };
						const expires = change.ttlMs === undefined ? undefined : Date.now() + change.ttlMs;
						const value = (await collection.serializeData({ value: change.value, expires })) as string;
						return {
							key,
							op: 'set' as const,
							value,
							ttl: change.ttlMs === undefined ? '' : String(change.ttlMs),
						};
					}),
				);
				if (fence) {
					const applied = await client.eval(REDIS_FENCED, {
						keys: [fence.at, ...commands.map((command) => command.key)],
						arguments: [fence.token, ...commands.flatMap(({ op, value, ttl }) => [op, value, ttl])],
					});
					return applied === 1;
				}
				const multi = client.multi();
				for (const { key, op, value, ttl } of commands) {
					if (op === 'del') multi.del(key);
					else if (ttl === '') multi.set(key, value);
					else multi.set(key, value, { PX: Number(ttl) });
				}
				await multi.exec();
				return true;
			};
		default:
			// Memory: a failed write undoes the ones before it (nothing outlives the process anyway).
			return async (changes) => {
				const done: { collection: Keyv; key: string; previous: unknown }[] = [];
				try {
					for (const change of changes) {
						const collection = collections[change.collection];
						done.push({ collection, key: change.key, previous: await collection.get(change.key) });
						if (removes(change)) await collection.delete(change.key);
						else await collection.set(change.key, change.value, change.ttlMs);
					}
				} catch (error) {
					for (const { collection, key, previous } of done.reverse())
						await (previous === undefined ? collection.delete(key) : collection.set(key, previous)).catch(
							() => {},
						);
					throw error;
				}
				return true;
			};
	}
}

/** The changes of a fenced unit, applied only while KEYS[1] holds the token ARGV[1]; triples (op, value, ttl). */
const REDIS_FENCED = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #KEYS do
	local op, value, ttl = ARGV[3 * i - 4], ARGV[3 * i - 3], ARGV[3 * i - 2]
	if op == 'del' then redis.call('DEL', KEYS[i])
	elseif ttl == '' then redis.call('SET', KEYS[i], value)
	else redis.call('SET', KEYS[i], value, 'PX', ttl) end
end
return 1`;

export interface RedisAdapter {
	namespace?: string;
	createKeyPrefix(key: string, namespace?: string): string;
	getClient(): Promise<{
		multi(): {
			set(key: string, value: string, options?: { PX: number }): unknown;
			del(key: string): unknown;
			exec(): Promise<unknown>;
		};
		eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
	}>;
}
