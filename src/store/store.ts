import type Keyv from 'keyv';
import type { Backend, Collections } from './backend.js';
import { openMemory } from './backends/memory.js';
import { openSqlite } from './backends/sqlite.js';
import { type BackendKind, describeStoreUrl, parseStoreUrl, type StoreUrl } from './url.js';

/**
 * One open store: every collection (a Keyv each), and the backend's operations beyond Keyv (the atomic
 * unit, the read for a change, the duplicate claim, key listing, ordered pages). Domain state
 * (src/state/) uses this and nothing of a backend's own.
 */
export type Store = Collections &
	Pick<Backend, 'claim' | 'commit' | 'read' | 'listKeys' | 'readAfter'> & {
		/** Where the store lives, with any password removed: safe to log. */
		readonly description: string;
		/** The deployment's prefix within a shared server or file (`?prefix=`; not a secret). */
		readonly prefix: string;
		/** The backend the store runs on: the delivery lease takes its primitives from it. */
		readonly backend: Backend;
		/** Resolves when the backend answers a read; rejects when it is down. */
		ping(): Promise<void>;
		close(): Promise<void>;
	};

/**
 * Opens `STORE_URL`: `sqlite://path`, `redis://…`, `postgres://…` or `memory://`, each with an optional
 * `?prefix=` (see url.ts). The one place a backend is chosen.
 */
export async function openStore(storeUrl: string): Promise<Store> {
	const url = parseStoreUrl(storeUrl);
	const backend = await BACKENDS[url.kind](url);
	const { collections } = backend;
	return {
		...collections,
		description: describeStoreUrl(storeUrl),
		prefix: url.prefix,
		backend,
		claim: backend.claim,
		commit: backend.commit,
		read: backend.read,
		listKeys: backend.listKeys,
		...(backend.readAfter && { readAfter: backend.readAfter }),
		async ping() {
			await collections.meta.get('ping');
		},
		async close() {
			await Promise.allSettled(Object.values(collections).map((collection) => collection.disconnect()));
		},
	};
}

/** Each backend by the kind its URL names; the Redis and PostgreSQL clients load only where they are used. */
const BACKENDS: Record<BackendKind, (url: StoreUrl) => Promise<Backend>> = {
	memory: async () => openMemory(),
	sqlite: async (url) => openSqlite(url),
	postgres: async (url) => (await import('./backends/postgres.js')).openPostgres(url),
	redis: async (url) => (await import('./backends/redis.js')).openRedis(url),
};

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
