import type Keyv from 'keyv';
import type { CollectionName } from './collections.js';
import { storedValue } from './serialize.js';
import type { SqliteAdapter } from './sqlite-adapter.js';

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

/** The key a SQL adapter (ours for SQLite, @keyv/postgres) stores a collection's key under. */
export const sqlKey = (collection: Keyv, key: string) => `${collection.namespace}:${key}`;

/** A collection's PostgreSQL table, schema-qualified. */
export function sqlTable(collection: Keyv): string {
	const { schema, table } = (collection.store as PostgresTable).opts;
	return `${schema}.${table}`;
}

/** The key @keyv/redis stores a collection's key under. */
export function redisKey(collection: Keyv, key: string): string {
	const store = collection.store as RedisAdapter;
	return store.createKeyPrefix(key, store.namespace);
}

/** What Keyv itself would hand its adapter as the value for `set(key, value, ttl)`: the stored form. */
async function storedForm(collection: Keyv, write: Write): Promise<string> {
	const expires = write.ttlMs === undefined ? undefined : Date.now() + write.ttlMs;
	return (await collection.serializeData({ value: write.value, expires })) as string;
}

/**
 * Stores a unit of changes atomically on each backend. Keyv has no transactions, so each backend gets
 * the primitive it has: SQLite a transaction (group-committed with its neighbours), PostgreSQL one
 * statement whose data-modifying CTEs commit together, Redis one script (scripts run whole, without
 * interleaving; a connection lost before it is sent applies nothing, and once it checks its conditions,
 * plain SETs and DELs of string keys cannot fail).
 *
 * Conditions, checked by the store in the same atomic step; resolves false, with nothing stored, when one
 * does not hold:
 * - a fence: the delivery lease is still held by the fence's token. A leader paused between its own
 *   check and the write (a long GC, SIGSTOP, a partition) cannot write over what the next leader did,
 *   e.g. bring back an outbox entry the next leader has delivered;
 * - a write's `expect`: the record is still as it was read. Two instances projecting events for one
 *   account at once cannot lose each other's change: the second is told, reads again and retries.
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
						const key = sqlKey(collection, change.key);
						return {
							adapter,
							key,
							value: removes(change) ? undefined : await storedForm(collection, change),
						};
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
				// Every write selects FROM held: nothing is written unless the conditions hold. FOR SHARE: a new
				// leader's take of the lease row waits until this statement has committed. FOR UPDATE: a concurrent
				// unit changing the same record waits for this one, then sees the new value and writes nothing.
				const conditions: string[] = [];
				if (fence)
					conditions.push(`EXISTS (SELECT 1 FROM ${fence.at} WHERE name = 'delivery'
						AND holder = ${param(fence.token)} AND expires_at > clock_timestamp() FOR SHARE)`);
				const table = (change: Change) => sqlTable(collections[change.collection]);
				const storedKey = (change: Change) => sqlKey(collections[change.collection], change.key);
				for (const change of changes) {
					if (removes(change) || change.expect === undefined) continue;
					conditions.push(
						change.expect === null
							? `NOT EXISTS (SELECT 1 FROM ${table(change)} WHERE key = ${param(storedKey(change))})`
							: `(SELECT value FROM ${table(change)} WHERE key = ${param(storedKey(change))} FOR UPDATE) = ${param(change.expect)}`,
					);
				}
				const held = `SELECT 1 WHERE ${conditions.length > 0 ? conditions.join(' AND ') : 'true'}`;
				const ctes = await Promise.all(
					changes.map(async (change, i) => {
						if (removes(change))
							return `c${i} AS (DELETE FROM ${table(change)}
								WHERE key = ${param(storedKey(change))} AND EXISTS (SELECT 1 FROM held))`;
						const key = storedKey(change);
						const value = await storedForm(collections[change.collection], change);
						// Expected absent: a plain insert, so one racing in first makes this one fail (unique key).
						return `c${i} AS (INSERT INTO ${table(change)} (key, value)
							SELECT ${param(key)}::text, ${param(value)}::text FROM held
							${change.expect === null ? '' : 'ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value'})`;
					}),
				);
				const adapter = collections.meta.store as {
					query(sql: string, params: unknown[]): Promise<{ held: number }[]>;
				};
				try {
					const [row] = await adapter.query(
						`WITH held AS (${held}), ${ctes.join(', ')} SELECT count(*)::int AS held FROM held`,
						params,
					);
					return (row?.held ?? 0) > 0;
				} catch (error) {
					if ((error as { code?: string }).code === UNIQUE_VIOLATION) return false;
					throw error;
				}
			};
		}
		case 'redis':
		case 'rediss':
			return async (changes, fence) => {
				if (changes.length === 0) return true;
				const adapter = collections.meta.store as RedisAdapter;
				const client = await adapter.getClient();
				const argv = await Promise.all(
					changes.map(async (change) => {
						const collection = collections[change.collection];
						const key = redisKey(collection, change.key);
						if (removes(change)) return { key, args: ['del', '', '', ''] };
						const value = await storedForm(collection, change);
						const ttl = change.ttlMs === undefined ? '' : String(change.ttlMs);
						const expect =
							change.expect === undefined ? '' : change.expect === null ? '!' : `=${change.expect}`;
						return { key, args: ['set', value, ttl, expect] };
					}),
				);
				const applied = await client.eval(REDIS_UNIT, {
					// Without a fence, KEYS[1] is only a placeholder (the first key of the unit).
					keys: [fence?.at ?? (argv[0] as { key: string }).key, ...argv.map(({ key }) => key)],
					arguments: [fence?.token ?? '', ...argv.flatMap(({ args }) => args)],
				});
				return applied === 1;
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

/** A record as read for a change: its value, and on shared stores its stored form for `Write.expect`. */
export interface Read {
	value: unknown;
	/** The stored form (`null`: absent) on Redis and PostgreSQL; undefined on single-process stores. */
	stored?: string | null;
}

/** Reads a record with what a later unit needs to write it only if unchanged (see Write.expect). */
export function reader(
	scheme: string,
	collections: Record<CollectionName, Keyv>,
): (collection: CollectionName, key: string) => Promise<Read> {
	const parse = (stored: string | null | undefined): Read => {
		if (stored === null || stored === undefined) return { value: undefined, stored: null };
		const { value, live } = storedValue(stored);
		return { value: live ? value : undefined, stored };
	};
	switch (scheme) {
		case 'postgres':
		case 'postgresql':
			return async (name, key) => {
				const collection = collections[name];
				const adapter = collection.store as {
					query(sql: string, params: unknown[]): Promise<{ value: string }[]>;
				};
				const [row] = await adapter.query(`SELECT value FROM ${sqlTable(collection)} WHERE key = $1`, [
					sqlKey(collection, key),
				]);
				return parse(row?.value);
			};
		case 'redis':
		case 'rediss':
			return async (name, key) => {
				const collection = collections[name];
				const client = await (collection.store as RedisAdapter).getClient();
				return parse(await client.get(redisKey(collection, key)));
			};
		default:
			return async (name, key) => ({ value: await collections[name].get(key) });
	}
}

/** PostgreSQL's unique_violation: a record expected absent was inserted by another process first. */
const UNIQUE_VIOLATION = '23505';

/**
 * A unit on Redis, applied only if its conditions hold. ARGV[1] is the fence token ('' for none) and
 * KEYS[1] the lease key; each change is a key KEYS[i] (i >= 2) with four arguments: op ('set' or 'del'),
 * value, ttl in ms ('' for none) and the expected stored form ('' for none, '!' for absent, '=' and the
 * stored form).
 */
const REDIS_UNIT = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #KEYS do
	local expect = ARGV[4 * i - 3]
	if expect ~= '' then
		local current = redis.call('GET', KEYS[i])
		if expect == '!' then
			if current then return 0 end
		elseif current ~= string.sub(expect, 2) then return 0 end
	end
end
for i = 2, #KEYS do
	local op, value, ttl = ARGV[4 * i - 6], ARGV[4 * i - 5], ARGV[4 * i - 4]
	if op == 'del' then redis.call('DEL', KEYS[i])
	elseif ttl == '' then redis.call('SET', KEYS[i], value)
	else redis.call('SET', KEYS[i], value, 'PX', ttl) end
end
return 1`;

interface PostgresTable {
	opts: { schema: string; table: string };
}

export interface RedisAdapter {
	namespace?: string;
	createKeyPrefix(key: string, namespace?: string): string;
	getClient(): Promise<{
		get(key: string): Promise<string | null>;
		eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
	}>;
}
