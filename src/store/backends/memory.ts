import Keyv from 'keyv';
import { type Backend, iterateKeys, type LeaseBackend, openCollections } from '../backend.js';
import { type Addition, addedForm, adds, removes, sqlKey } from '../unit.js';

/** `memory://`: one Map per collection. Nothing outlives the process; for tests and trying hookcord out. */
export function openMemory(): Backend {
	const collections = openCollections((name) => new Keyv({ store: new Map(), namespace: name }));
	return {
		collections,
		// One process, and the caller holds the key's lock until it records the outcome: reading is enough.
		claim: async (key) => (await collections.seen.get(key)) as string | undefined,
		// A failed write undoes the ones before it. An addition reads and writes Keyv's map in one
		// synchronous step, so concurrent units never lose a count.
		async commit(changes) {
			const addNow = (addition: Addition, sign: 1 | -1) => {
				const collection = collections[addition.collection];
				const map = collection.store as Map<string, string>;
				const key = sqlKey(collection, addition.key);
				map.set(key, addedForm(map.get(key), addition, sign));
			};
			const done: ({ collection: Keyv; key: string; previous: unknown } | Addition)[] = [];
			try {
				for (const change of changes) {
					if (adds(change)) {
						addNow(change, 1);
						done.push(change);
						continue;
					}
					const collection = collections[change.collection];
					done.push({ collection, key: change.key, previous: await collection.get(change.key) });
					if (removes(change)) await collection.delete(change.key);
					else await collection.set(change.key, change.value, change.ttlMs);
				}
			} catch (error) {
				for (const undo of done.reverse()) {
					if ('add' in undo) {
						addNow(undo, -1);
						continue;
					}
					const { collection, key, previous } = undo;
					await (previous === undefined ? collection.delete(key) : collection.set(key, previous)).catch(
						() => {},
					);
				}
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
