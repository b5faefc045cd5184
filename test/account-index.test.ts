import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccountIndex } from '../src/state/account-index.js';
import { openStore } from '../src/store/store.js';
import { scratchDir } from './process.js';
import { deferrer, STORE_KINDS, storeFor } from './stores.js';

/** The reference: every name in a Set, prefix matches then substring matches, each alphabetical. */
function reference(names: Iterable<string>, query: string, limit = 25): string[] {
	const sorted = [...new Set([...names].map((name) => name.toLowerCase()))].sort();
	const needle = query.trim().toLowerCase();
	const prefix = sorted.filter((name) => name.startsWith(needle));
	const inside = sorted.filter((name) => !name.startsWith(needle) && name.includes(needle));
	return [...prefix, ...inside].slice(0, limit);
}

describe('account index', () => {
	it('answers like a plain sorted list while names arrive, across merges of new names', async () => {
		const store = await openStore('memory://');
		for (let i = 0; i < 300; i++) await store.accounts.set(`host_${(i * 7919) % 100_000}`, {});
		const index = await AccountIndex.load(store);
		const names = new Set<string>();
		for await (const key of store.listKeys('accounts')) names.add(key);
		// 10,000 more, in no order and with repeats and capitals: merges into the packed list (every 4,096).
		for (let i = 0; i < 10_000; i++) {
			const name = i % 5 === 0 ? `Host_${(i * 104_729) % 100_000}` : `user${(i * 7) % 9000}x`;
			index.add(name);
			names.add(name.toLowerCase());
			if (i % 2000 === 0 || i === 4095 || i === 4096 || i === 9999) {
				for (const query of ['', 'host_', 'host_9', 'user1', '12', 'x', '9x', 'zzz', ' HOST_1 '])
					assert.deepEqual(index.search(query, 25), reference(names, query), `after ${i} adds, "${query}"`);
			}
		}
		assert.equal(index.search('', Number.POSITIVE_INFINITY).length, names.size, 'each name once');
		assert.deepEqual(index.search('user1', 200), reference(names, 'user1', 200));
	});

	it('loads the account keys of a SQLite store without reading their states', async (t) => {
		const dir = scratchDir();
		t.after(() => dir.remove());
		const store = await openStore(`sqlite://${dir.path}/index.sqlite`);
		t.after(() => store.close());
		for (let i = 0; i < 1500; i++) await store.accounts.set(`host_${String(i).padStart(5, '0')}`, { i });
		await store.meta.set('host_not_an_account', 1);
		const index = await AccountIndex.load(store);
		assert.equal(
			index.search('', Number.POSITIVE_INFINITY).length,
			1500,
			'every account, across pages of keys, and nothing from other collections',
		);
		assert.deepEqual(index.search('host_0149', 3), ['host_01490', 'host_01491', 'host_01492']);
		assert.deepEqual(index.search('1499', 25), ['host_01499']);
	});
});

for (const kind of STORE_KINDS) {
	it(`lists a collection's keys on ${kind}, without other collections' keys`, async (t) => {
		const store = await storeFor(kind, t, deferrer(t));
		if (!store) return;
		for (const name of ['host_b', 'host_a', 'host_c']) await store.accounts.set(name, { name });
		await store.meta.set('host_z', 1);
		const keys: string[] = [];
		for await (const key of store.listKeys('accounts')) keys.push(key);
		assert.deepEqual(keys.sort(), ['host_a', 'host_b', 'host_c']);
	});
}
