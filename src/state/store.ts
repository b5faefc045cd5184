import Keyv, { type KeyvStoreAdapter } from 'keyv';
import { COLLECTIONS, type CollectionName } from './collections.js';
import { keyLister } from './keys.js';
import { pageReader, type ReadAfter } from './pages.js';
import { deserialize, serialize, storedValue } from './serialize.js';
import { SqliteDatabase } from './sqlite-adapter.js';
import { protectSqliteFiles } from './sqlite-files.js';
import { describeStoreUrl } from './store-url.js';
import { type Change, committer, type Fence, type Read, reader, redisKey, sqlKey, sqlTable } from './unit.js';

export type Store = Record<CollectionName, Keyv> & {
	/** Where the store lives, with any password removed: safe to log. */
	readonly description: string;
	/** Resolves when the backend answers a read; rejects when it is down. */
	ping(): Promise<void>;
	/**
	 * Records `value` under `key` in `seen` for `ttlMs` unless a live value is there; returns that value
	 * instead when there is one. Atomic across processes on Redis (SET NX) and Postgres (INSERT … ON
	 * CONFLICT). Memory and SQLite belong to one process: there it only reads, and the caller's per-key
	 * lock, held until the caller records the outcome in `seen`, gives the same guarantee.
	 */
	claim(key: string, value: string, ttlMs: number): Promise<string | undefined>;
	/**
	 * Stores every change or none: one SQLite transaction, one PostgreSQL statement, one Redis MULTI/EXEC.
	 * This is how a callback's fingerprint, outbox entry and state change land together. With a fence
	 * (the delivery lease's, see Lease.commit) nothing is stored, and false returned, once the lease has
	 * passed to another holder.
	 */
	commit(changes: Change[], fence?: Fence): Promise<boolean>;
	/** Reads a record to change it: a write of it with `expect: stored` is stored only if it is unchanged. */
	read(collection: CollectionName, key: string): Promise<Read>;
	/** A collection's keys (unprefixed), without reading their values: in key order except on Redis. */
	listKeys(name: CollectionName): AsyncIterable<string>;
	/** A page of a collection after a key, in key order: SQLite and PostgreSQL only (see pages.ts). */
	readAfter?: ReadAfter;
	close(): Promise<void>;
};

export class StoreConfigError extends Error {}

/**
 * Opens `STORE_URL`: `sqlite://path` (folder created; WAL so readers never block the writer),
 * `redis://…`, `postgres://…` or `memory://`. Every collection throws on backend errors instead of
 * Keyv's default of swallowing them: a write that did not happen must not be acknowledged.
 */
export async function openStore(storeUrl: string): Promise<Store> {
	const scheme = storeUrl.slice(0, storeUrl.indexOf('://'));
	const { url, prefix } = splitPrefix(storeUrl);
	const open = await adapterFactory(scheme, url, prefix, sqliteSynchronous(storeUrl));
	const collections = {} as Record<CollectionName, Keyv>;
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
	const readAfter = pageReader(scheme, collections);
	return {
		...collections,
		description: describeStoreUrl(storeUrl),
		async ping() {
			await collections.meta.get('ping');
		},
		claim: claimer(scheme, collections.seen),
		commit: committer(scheme, collections),
		read: reader(scheme, collections),
		listKeys: keyLister(scheme, collections),
		...(readAfter && { readAfter }),
		async close() {
			await Promise.allSettled(COLLECTIONS.map((name) => collections[name].disconnect()));
		},
	};
}

type OpenCollection = (name: CollectionName) => Keyv;

async function adapterFactory(
	scheme: string,
	url: string,
	prefix: string,
	synchronous: 'FULL' | 'NORMAL',
): Promise<OpenCollection> {
	switch (scheme) {
		case 'memory':
			return (name) => new Keyv({ store: new Map(), namespace: name });
		case 'sqlite': {
			const path = url.slice('sqlite://'.length).replace(/\?.*$/, '');
			if (!path)
				throw new StoreConfigError(
					'STORE_URL: sqlite:// needs a file path, e.g. sqlite://data/hookcord.sqlite',
				);
			if (path !== ':memory:') protectSqliteFiles(path);
			// One connection for every collection (a callback's writes are one transaction across tables).
			const database = new SqliteDatabase(path, synchronous);
			return (name) => new Keyv({ store: database.table(name), namespace: name });
		}
		case 'redis':
		case 'rediss': {
			const { createKeyv } = await import('@keyv/redis');
			return (name) =>
				createKeyv(url, { namespace: `${prefix}:${name}`, throwOnErrors: true }) as unknown as Keyv;
		}
		case 'postgres':
		case 'postgresql': {
			const { default: KeyvPostgres } = await import('@keyv/postgres');
			return (name) =>
				new Keyv({
					store: new KeyvPostgres({
						uri: url,
						table: `${prefix}_${name}`,
						iterationLimit: 500,
					}) as KeyvStoreAdapter,
					namespace: name,
				});
		}
		default:
			throw new StoreConfigError(`STORE_URL: unsupported scheme "${scheme}"`);
	}
}

type Claim = Store['claim'];

/** Keyv's stored form of a value, so `seen.get` and pruning read claimed rows like any other. */
const keyvForm = (value: string, ttlMs: number) => serialize({ value, expires: Date.now() + ttlMs });
const keyvValue = (stored: string | null | undefined) =>
	stored ? (storedValue(stored).value as string | undefined) : undefined;

function claimer(scheme: string, seen: Keyv): Claim {
	if (scheme === 'redis' || scheme === 'rediss') {
		const adapter = seen.store as {
			getClient(): Promise<{
				set(key: string, value: string, options: { NX: true; PX: number }): Promise<string | null>;
				get(key: string): Promise<string | null>;
			}>;
		};
		return async (key, value, ttlMs) => {
			const client = await adapter.getClient();
			const stored = redisKey(seen, key);
			if ((await client.set(stored, keyvForm(value, ttlMs), { NX: true, PX: ttlMs })) === 'OK')
				return undefined;
			return keyvValue(await client.get(stored)) ?? value;
		};
	}
	if (scheme === 'postgres' || scheme === 'postgresql') {
		const adapter = seen.store as {
			query(sql: string, params: unknown[]): Promise<{ key: string; value: string }[]>;
		};
		return async (key, value, ttlMs) => {
			const table = sqlTable(seen);
			const stored = sqlKey(seen, key);
			// Insert, or take over a row whose time is up; no row back means a live claim holds the key.
			const claimed = await adapter.query(
				`INSERT INTO ${table} (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
				WHERE COALESCE((${table}.value::json->>'expires')::bigint, 9223372036854775807) < $3
				RETURNING key`,
				[stored, keyvForm(value, ttlMs), Date.now()],
			);
			if (claimed.length > 0) return undefined;
			const [row] = await adapter.query(`SELECT value FROM ${table} WHERE key = $1`, [stored]);
			return keyvValue(row?.value) ?? value;
		};
	}
	// One process owns memory and SQLite stores, and the caller holds the key's lock until it records the
	// outcome: reading is enough, and saves a write per callback.
	return async (key) => (await seen.get(key)) as string | undefined;
}

/**
 * SQLite and Postgres keep expired rows until they are read (Keyv checks expiry on read; only Redis
 * expires natively). Walking a collection reads every row, and Keyv deletes the expired ones it meets.
 */
export async function pruneExpired(collection: Keyv): Promise<number> {
	let kept = 0;
	if (!collection.iterator) return kept;
	for await (const _ of collection.iterator(undefined)) kept++;
	return kept;
}

/**
 * `sqlite://path?synchronous=full` makes every commit wait for the disk (fsync). The default, `normal`,
 * is WAL's usual setting: a stored callback survives a crash or kill of the process; only a power loss
 * or kernel crash can roll back the last moments (sqlite.org/pragma.html#pragma_synchronous). It answers
 * callbacks about twice as fast (see README, Benchmarks).
 */
function sqliteSynchronous(storeUrl: string): 'FULL' | 'NORMAL' {
	const match = /[?&]synchronous=(full|normal)\b/i.exec(storeUrl);
	if (/[?&]synchronous=/i.test(storeUrl) && !match)
		throw new StoreConfigError('STORE_URL: synchronous must be full or normal');
	return match?.[1]?.toUpperCase() === 'FULL' ? 'FULL' : 'NORMAL';
}

/**
 * `?prefix=name` on a Redis or Postgres STORE_URL keeps several hookcord deployments (or test runs) apart
 * in one server: keys `name:outbox:…`, tables `name_outbox`. Default `hookcord`.
 */
export function splitPrefix(storeUrl: string): { url: string; prefix: string } {
	const match = /[?&]prefix=([A-Za-z][A-Za-z0-9_]{0,30})(?=&|$)/.exec(storeUrl);
	if (!match) return { url: storeUrl, prefix: 'hookcord' };
	const url = storeUrl
		.replace(match[0], match[0].startsWith('?') ? '?' : '')
		.replace(/\?&/, '?')
		.replace(/\?$/, '');
	return { url, prefix: match[1] as string };
}
