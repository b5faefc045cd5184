import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { COLLECTIONS, openStore, type Store } from '../src/state/store.js';
import { scratchDir } from './process.js';

/**
 * The stores every reliability test runs on: memory and SQLite always; Redis and PostgreSQL when
 * REDIS_URL / POSTGRES_URL are set (CI sets them). Each test gets its own `?prefix=` so runs never meet.
 */
export const STORE_KINDS = ['memory', 'sqlite', 'redis', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** A STORE_URL of this kind, private to the test, cleaned up after it; undefined when not available. */
export function storeUrlFor(kind: StoreKind, t: TestContext): string | undefined {
	const prefix = `t${randomBytes(5).toString('hex')}`;
	switch (kind) {
		case 'memory':
			return 'memory://';
		case 'sqlite': {
			const dir = scratchDir();
			t.after(dir.remove);
			return `sqlite://${dir.path}/hookcord.sqlite`;
		}
		case 'redis':
		case 'postgres': {
			const base = kind === 'redis' ? process.env.REDIS_URL : process.env.POSTGRES_URL;
			if (!base) return undefined;
			const url = `${base}${base.includes('?') ? '&' : '?'}prefix=${prefix}`;
			t.after(() => dropStore(url));
			return url;
		}
	}
}

/** Opens a private store of this kind for one test, or skips the test when the kind is not available. */
export async function storeFor(kind: StoreKind, t: TestContext): Promise<Store | undefined> {
	const url = storeUrlFor(kind, t);
	if (!url) {
		t.skip(`${kind === 'redis' ? 'REDIS_URL' : 'POSTGRES_URL'} not set`);
		return undefined;
	}
	const store = await openStore(url);
	t.after(() => store.close());
	return store;
}

/** Empties every collection of a test store (keys on Redis; rows on Postgres; the tables stay). */
async function dropStore(url: string): Promise<void> {
	const store = await openStore(url);
	await Promise.allSettled(COLLECTIONS.map((name) => store[name].clear()));
	await store.close();
}
