import type { Store } from '../store/store.js';
import type { KeyedLock } from './keyed-lock.js';

/** Resolves true the first time `key` is offered within `ttlMs`, false for every repeat. */
export type Once = (key: string, ttlMs: number) => Promise<boolean>;

/**
 * "Have we seen this before?" over the `seen` collection, with the same claim the callback fingerprints
 * use: atomic across processes on Redis and Postgres, and under the per-key lock on the one-process stores
 * (memory, SQLite), where the claim only reads and the key is recorded before the lock is let go.
 */
export function createOnce(store: Pick<Store, 'claim' | 'seen'>, lock: KeyedLock): Once {
	return (key, ttlMs) =>
		lock.run(`seen:${key}`, async () => {
			if ((await store.claim(key, 'seen', ttlMs)) !== undefined) return false;
			await store.seen.set(key, 'seen', ttlMs);
			return true;
		});
}
