import Keyv from 'keyv';
import { type Backend, iterateKeys, type LeaseBackend, openCollections } from '../backend.js';
import { removes } from '../unit.js';

/** `memory://`: one Map per collection. Nothing outlives the process; for tests and trying hookcord out. */
export function openMemory(): Backend {
	const collections = openCollections((name) => new Keyv({ store: new Map(), namespace: name }));
	return {
		collections,
		// One process, and the caller holds the key's lock until it records the outcome: reading is enough.
		claim: async (key) => (await collections.seen.get(key)) as string | undefined,
		// A failed write undoes the ones before it.
		async commit(changes) {
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
		},
		read: async (name, key) => ({ value: await collections[name].get(key) }),
		listKeys: (name) => iterateKeys(collections[name]),
		lease: async () => SINGLE_PROCESS,
	};
}

/** One process, so the lease is always held and never runs out. */
const SINGLE_PROCESS: LeaseBackend = {
	shared: false,
	take: async () => ({ epoch: 1 }),
	extend: async () => true,
	drop: async () => {},
};
