import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
// @keyv/redis (a dependency) re-exports the Redis client it is built on.
import { createClient } from '@keyv/redis';
import { COLLECTIONS } from '../src/store/collections.js';
import { openStore, type Store } from '../src/store/store.js';
import { scratchDir } from './process.js';

/**
 * The stores every reliability test runs on: memory and SQLite always; Redis and PostgreSQL when
 * REDIS_URL / POSTGRES_URL are set (CI sets them). Each use gets its own `?prefix=` so runs never meet,
 * and removes what it created.
 */
export const STORE_KINDS = ['memory', 'sqlite', 'redis', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** Why a kind cannot run here, or undefined when it can. */
export function unavailable(kind: StoreKind): string | undefined {
	if (kind === 'redis' && !process.env.REDIS_URL) return 'REDIS_URL not set';
	if (kind === 'postgres' && !process.env.POSTGRES_URL) return 'POSTGRES_URL not set';
	return undefined;
}

/** A STORE_URL of this kind that nothing else uses, and how to remove it. Check `unavailable` first. */
export function privateStore(kind: StoreKind): { url: string; drop: () => Promise<void> } {
	switch (kind) {
		case 'memory':
			return { url: 'memory://', drop: async () => {} };
		case 'sqlite': {
			const dir = scratchDir();
			return { url: `sqlite://${dir.path}/hookcord.sqlite`, drop: async () => dir.remove() };
		}
		case 'redis':
		case 'postgres': {
			const base = (kind === 'redis' ? process.env.REDIS_URL : process.env.POSTGRES_URL) as string;
			const prefix = `t${randomBytes(6).toString('hex')}`;
			const url = `${base}${base.includes('?') ? '&' : '?'}prefix=${prefix}`;
			return { url, drop: () => (kind === 'redis' ? dropRedis(base, prefix) : dropPostgres(url, prefix)) };
		}
	}
}

export type Defer = (cleanup: () => unknown) => void;

/**
 * Cleanups that run last-registered-first when the test ends, like Go's `defer`: a worker registered
 * after its store stops before the store closes (a Redis client used after closing reconnects).
 */
export function deferrer(t: TestContext): Defer {
	const stack: (() => unknown)[] = [];
	t.after(async () => {
		for (let cleanup = stack.pop(); cleanup; cleanup = stack.pop()) await cleanup();
	});
	return (cleanup) => {
		stack.push(cleanup);
	};
}

/** Opens a private store of this kind for one test (removed after it), or skips the test. */
export async function storeFor(kind: StoreKind, t: TestContext, defer: Defer): Promise<Store | undefined> {
	const reason = unavailable(kind);
	if (reason) {
		t.skip(reason);
		return undefined;
	}
	const { url, drop } = privateStore(kind);
	const store = await openStore(url);
	defer(async () => {
		await store.close();
		await drop();
	});
	return store;
}

async function dropRedis(base: string, prefix: string): Promise<void> {
	const client = createClient({ url: base });
	await client.connect();
	try {
		for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) {
			if (keys.length > 0) await client.del(keys);
		}
	} finally {
		await client.close();
	}
}

async function dropPostgres(url: string, prefix: string): Promise<void> {
	const store = await openStore(url);
	try {
		// Each collection creates its table as it connects: let them all finish, or one comes back after the drop.
		await Promise.all(COLLECTIONS.map((name) => store[name].get('ready')));
		const adapter = store.meta.store as { query(sql: string): Promise<unknown> };
		// `leader`: the delivery lease of processes run on this store (src/state/lease.ts).
		const tables = [...COLLECTIONS, 'leader'].map((name) => `${prefix}_${name}`);
		await adapter.query(`DROP TABLE IF EXISTS ${tables.join(', ')}`);
	} finally {
		await store.close();
	}
}
