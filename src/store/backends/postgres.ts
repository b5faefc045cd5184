import KeyvPostgres from '@keyv/postgres';
import Keyv from 'keyv';
import { type Backend, holderOf, LIST_PAGE, openCollections } from '../backend.js';
import { COLLECTIONS, type CollectionName } from '../collections.js';
import { serialize } from '../serialize.js';
import {
	adds,
	type Change,
	claimedValue,
	claimForm,
	expiresOf,
	liveEntries,
	readStored,
	removes,
	sqlKey,
	storedForm,
} from '../unit.js';
import type { StoreUrl } from '../url.js';

/**
 * The Keyv PostgreSQL adapter, as hookcord uses it: its table and its pooled query (each statement on
 * any connection of the pool; none here needs a session of its own). Tests reach through it to play a
 * failing statement.
 */
interface PostgresAdapter {
	opts: { schema?: string; table?: string };
	query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}

/** PostgreSQL's unique_violation: a record expected absent was inserted by another process first. */
const UNIQUE_VIOLATION = '23505';

/**
 * `postgres://…` or `postgresql://…`: every collection a table `prefix_collection` in one database, so
 * deployments with different prefixes share it without meeting. Several instances may share one store.
 */
export function openPostgres({ url, prefix }: StoreUrl): Backend {
	const collections = openCollections(
		(name) =>
			new Keyv({
				store: new KeyvPostgres({ uri: url, table: `${prefix}_${name}`, iterationLimit: 500 }),
				namespace: name,
			}),
	);
	// Through each collection's adapter at every call: what a test puts in its place is used.
	const adapter = (name: CollectionName = 'meta') => collections[name].store as PostgresAdapter;
	const table = (name: CollectionName) => {
		const { schema = 'public', table } = adapter(name).opts;
		return `${schema}.${table}`;
	};
	const key = (name: CollectionName, key: string) => sqlKey(collections[name], key);
	const rows = async <Row>(sql: string, params: unknown[] = [], name?: CollectionName) =>
		(await adapter(name).query(sql, params)) as Row[];
	// Each collection creates its table as it connects; a unit's statement spans several of them.
	let tables: Promise<unknown> | undefined;
	const ready = () => {
		tables ??= Promise.all(COLLECTIONS.map((name) => adapter(name).query('SELECT 1')));
		return tables;
	};
	return {
		collections,
		async claim(claimed, value, ttlMs) {
			const seen = table('seen');
			// Insert, or take over a row whose time is up; no row back means a live claim holds the key.
			const taken = await rows(
				`INSERT INTO ${seen} (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
				WHERE COALESCE((${seen}.value::json->>'expires')::bigint, 9223372036854775807) < $3
				RETURNING key`,
				[key('seen', claimed), claimForm(value, ttlMs), Date.now()],
				'seen',
			);
			if (taken.length > 0) return undefined;
			const [row] = await rows<{ value: string }>(
				`SELECT value FROM ${seen} WHERE key = $1`,
				[key('seen', claimed)],
				'seen',
			);
			return claimedValue(row?.value) ?? value;
		},
		async commit(changes, fence) {
			if (changes.length === 0) return true;
			await ready();
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
			const at = (change: Change) => table(change.collection);
			const storedKey = (change: Change) => key(change.collection, change.key);
			for (const change of changes) {
				if (removes(change) || adds(change) || change.expect === undefined) continue;
				conditions.push(
					change.expect === null
						? `NOT EXISTS (SELECT 1 FROM ${at(change)} WHERE key = ${param(storedKey(change))})`
						: `(SELECT value FROM ${at(change)} WHERE key = ${param(storedKey(change))} FOR UPDATE) = ${param(change.expect)}`,
				);
			}
			const held = `SELECT 1 WHERE ${conditions.length > 0 ? conditions.join(' AND ') : 'true'}`;
			const ctes = await Promise.all(
				changes.map(async (change, i) => {
					if (removes(change))
						return `c${i} AS (DELETE FROM ${at(change)}
							WHERE key = ${param(storedKey(change))} AND EXISTS (SELECT 1 FROM held))`;
					const stored = storedKey(change);
					if (adds(change)) {
						// The live counts as stored plus the addition, summed field by field under the row's lock.
						const initial = serialize({ value: change.add, expires: expiresOf(change) });
						return `c${i} AS (INSERT INTO ${at(change)} AS t (key, value)
							SELECT ${param(stored)}::text, ${param(initial)}::text FROM held
							ON CONFLICT (key) DO UPDATE SET value = (
								SELECT json_build_object('value', COALESCE(json_object_agg(f, n), '{}'::json),
									'expires', EXCLUDED.value::json->'expires')::text
								FROM (SELECT f, sum(n)::bigint AS n FROM (
									SELECT key AS f, value::bigint AS n FROM json_each_text(CASE
										WHEN COALESCE((t.value::json->>'expires')::bigint, 9223372036854775807) > ${param(Date.now())}
										THEN t.value::json->'value' ELSE '{}'::json END)
									UNION ALL SELECT key, value::bigint FROM json_each_text(EXCLUDED.value::json->'value')
								) parts GROUP BY f) sums))`;
					}
					const value = await storedForm(collections[change.collection], change);
					// Expected absent: a plain insert, so one racing in first makes this one fail (unique key).
					return `c${i} AS (INSERT INTO ${at(change)} (key, value)
						SELECT ${param(stored)}::text, ${param(value)}::text FROM held
						${change.expect === null ? '' : 'ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value'})`;
				}),
			);
			try {
				const [row] = await rows<{ held: number }>(
					`WITH held AS (${held}), ${ctes.join(', ')} SELECT count(*)::int AS held FROM held`,
					params,
				);
				return (row?.held ?? 0) > 0;
			} catch (error) {
				if ((error as { code?: string }).code === UNIQUE_VIOLATION) return false;
				throw error;
			}
		},
		async read(name, wanted) {
			const [row] = await rows<{ value: string }>(
				`SELECT value FROM ${table(name)} WHERE key = $1`,
				[key(name, wanted)],
				name,
			);
			return readStored(row?.value);
		},
		async *listKeys(name) {
			const start = `${name}:`;
			for (let after = ''; ; ) {
				const page = await rows<{ key: string }>(
					`SELECT key FROM ${table(name)} WHERE key > $1 ORDER BY key LIMIT ${LIST_PAGE}`,
					[after],
					name,
				);
				for (const row of page) if (row.key.startsWith(start)) yield row.key.slice(start.length);
				if (page.length < LIST_PAGE) return;
				after = (page.at(-1) as { key: string }).key;
			}
		},
		async readAfter(name, after, limit) {
			// Each collection has a table of its own, so no upper bound is needed (and none on punctuation,
			// which a locale's collation may skip when it compares).
			const page = await rows<{ key: string; value: string }>(
				`SELECT key, value FROM ${table(name)} WHERE key > $1 ORDER BY key LIMIT $2`,
				[after ? key(name, after) : '', limit],
				name,
			);
			return liveEntries(page, `${name}:`);
		},
		async lease() {
			const lease = `${adapter().opts.schema ?? 'public'}.${prefix}_leader`;
			// Expiry is kept and compared on the database's clock, so instances' clocks never meet.
			const expiry = `clock_timestamp() + $2::double precision * interval '1 millisecond'`;
			try {
				await rows(`CREATE TABLE IF NOT EXISTS ${lease} (
					name text PRIMARY KEY, holder text NOT NULL, epoch bigint NOT NULL, expires_at timestamptz NOT NULL)`);
			} catch (error) {
				// Two instances starting together both create it: one of them meets the other's new type or table.
				const code = (error as { code?: string }).code;
				if (code !== UNIQUE_VIOLATION && code !== '42P07') throw error;
			}
			return {
				shared: true,
				at: lease,
				async take(token, ttlMs) {
					const [row] = await rows<{ epoch: string }>(
						`INSERT INTO ${lease} AS lease (name, holder, epoch, expires_at) VALUES ('delivery', $1, 1, ${expiry})
						ON CONFLICT (name) DO UPDATE
						SET holder = EXCLUDED.holder, epoch = lease.epoch + 1, expires_at = EXCLUDED.expires_at
						WHERE lease.expires_at < clock_timestamp()
						RETURNING epoch`,
						[token, ttlMs],
					);
					if (row) return { epoch: Number(row.epoch) };
					const [held] = await rows<{ holder: string }>(
						`SELECT holder FROM ${lease} WHERE name = 'delivery'`,
					);
					return { holder: holderOf(held?.holder) };
				},
				async extend(token, ttlMs) {
					const renewed = await rows(
						`UPDATE ${lease} SET expires_at = ${expiry}
						WHERE name = 'delivery' AND holder = $1 AND expires_at > clock_timestamp()
						RETURNING epoch`,
						[token, ttlMs],
					);
					return renewed.length > 0;
				},
				async drop(token) {
					await rows(`UPDATE ${lease} SET expires_at = '-infinity' WHERE name = 'delivery' AND holder = $1`, [
						token,
					]);
				},
			};
		},
	};
}
