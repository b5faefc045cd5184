import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultDeserialize, defaultSerialize } from '@keyv/serialize';
import Database from 'better-sqlite3';
import { MAX_GROUP, SqliteDatabase } from '../src/store/backends/sqlite.js';
import { deserialize, serialize } from '../src/store/serialize.js';
import { openStore } from '../src/store/store.js';
import { scratchDir } from './process.js';

describe('stored form', () => {
	const values = [
		{ value: { text: 'plain', list: ['a', 'b'], n: 1.5, none: null, gone: undefined }, expires: 5 },
		{ value: { comment: ':starts with a colon', nested: { deeper: [':x', 'y'] } } },
		{ value: [':first', 'second'] },
		{ value: ':a whole value' },
		{ value: { quote: 'he typed ":" and ,":' }, expires: undefined },
	];
	it("is byte for byte what Keyv's serializer writes, and reads back the same", () => {
		for (const data of values) {
			assert.equal(serialize(data), defaultSerialize(data));
			assert.deepEqual(deserialize(defaultSerialize(data)), defaultDeserialize(defaultSerialize(data)));
		}
	});
});

describe('SQLite store', () => {
	it('group-commits writes from one turn of the event loop, capped per transaction, each answered after its commit', async (t) => {
		const dir = scratchDir();
		t.after(() => dir.remove());
		const database = new SqliteDatabase(`${dir.path}/group.sqlite`, 'NORMAL');
		const table = database.table('items');
		t.after(() => table.disconnect());
		let transactions = 0;
		const transaction = database.db.transaction.bind(database.db);
		database.db.transaction = ((apply: () => unknown) => {
			transactions++;
			return transaction(apply);
		}) as typeof database.db.transaction;
		const count = MAX_GROUP * 2 + 10;
		const writes = Array.from({ length: count }, (_, i) =>
			table
				.set(`k${i}`, `v${i}`)
				.then(() => assert.equal(database.db.inTransaction, false, 'answered after commit')),
		);
		assert.equal(await table.get('k0'), undefined, 'nothing is visible before the commit');
		await Promise.all(writes);
		assert.equal(transactions, 3, `${count} writes queued in one turn: ${MAX_GROUP} per transaction at most`);
		assert.equal(await table.get(`k${count - 1}`), `v${count - 1}`);
	});

	it("a write that fails fails alone: its group's other writes are stored", async (t) => {
		const dir = scratchDir();
		t.after(() => dir.remove());
		const database = new SqliteDatabase(`${dir.path}/alone.sqlite`, 'NORMAL');
		const table = database.table('items');
		t.after(() => table.disconnect());
		const good = table.set('a', '1');
		const bad = table.transact(() => {
			throw new Error('refused');
		});
		const alsoGood = table.set('b', '2');
		await assert.rejects(bad, /refused/);
		await Promise.all([good, alsoGood]);
		assert.deepEqual([await table.get('a'), await table.get('b')], ['1', '2']);
	});

	it("shares one read transaction among a turn's reads and ends it with the turn: other processes' writes are seen from the next turn", async (t) => {
		const dir = scratchDir();
		t.after(() => dir.remove());
		const path = `${dir.path}/turns.sqlite`;
		const database = new SqliteDatabase(path, 'NORMAL');
		const table = database.table('items');
		t.after(() => table.disconnect());
		await table.set('k', '1');
		const other = new Database(path);
		t.after(() => other.close());
		const turn = new Promise<string[]>((resolve) =>
			setImmediate(async () => {
				const seen = [(await table.get('k')) as string];
				assert.equal(database.db.inTransaction, true, "the turn's first read opened the transaction");
				// Another process commits in the middle of the turn (WAL: a reader never blocks a writer).
				other.prepare('UPDATE items SET value = ? WHERE key = ?').run('2', 'k');
				seen.push((await table.get('k')) as string);
				resolve(seen);
			}),
		);
		assert.deepEqual(await turn, ['1', '1'], 'one snapshot for the whole turn');
		await new Promise((resolve) => setImmediate(resolve));
		assert.equal(database.db.inTransaction, false, 'the read transaction ended with its turn');
		const checkpoint = other.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get() as { busy: number };
		assert.equal(checkpoint.busy, 0, 'no read lock is left behind to hold up a checkpoint');
		assert.equal(await table.get('k'), '2');
	});

	it("reads rows in Keyv's own stored form, as @keyv/sqlite writes them", async (t) => {
		const dir = scratchDir();
		t.after(() => dir.remove());
		const path = `${dir.path}/old.sqlite`;
		const old = new SqliteDatabase(path, 'NORMAL');
		old.db.exec('CREATE TABLE hookcord_accounts(key VARCHAR(255) PRIMARY KEY, value TEXT )');
		old.db
			.prepare('INSERT INTO hookcord_accounts VALUES (?, ?)')
			.run('accounts:host_1', defaultSerialize({ value: { username: 'host_1', note: ':x' } }));
		old.release();
		const store = await openStore(`sqlite://${path}`);
		t.after(() => store.close());
		assert.deepEqual(await store.accounts.get('host_1'), { username: 'host_1', note: ':x' });
	});
});
