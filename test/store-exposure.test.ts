import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openStore } from '../src/store/store.js';
import { describeStoreUrl } from '../src/store/url.js';
import { buildTestApp } from './helpers.js';
import { scratchDir } from './process.js';

/** Where the store's credentials and contents could leak: its description, `/readyz`, file modes. */

describe('how a store is shown', () => {
	const cases: [string, string][] = [
		['postgres://hookcord:hunter2@db.example.com:5432/hookcord', 'postgres://db.example.com:5432/hookcord'],
		['postgres://hookcord@db.example.com/hookcord?password=hunter2', 'postgres://db.example.com/hookcord'],
		['postgres://hookcord:hun@ter2@db.example.com/hookcord', 'postgres://db.example.com/hookcord'],
		['postgresql://u:p%40ss@db.example.com/x?sslmode=require&password=x', 'postgresql://db.example.com/x'],
		['postgresql://u:pa/ss@db.example.com/x', 'postgresql://…'],
		['postgres://u:12/hunter2@db.example.com/x', 'postgres://…'],
		['redis://:hunter2@127.0.0.1:6379/0?prefix=prod', 'redis://127.0.0.1:6379/0'],
		['rediss://default:hunter2@cache.example.com', 'rediss://cache.example.com'],
		['sqlite://data/hookcord.sqlite', 'sqlite://data/hookcord.sqlite'],
		['sqlite:///var/lib/hookcord/db.sqlite?synchronous=full', 'sqlite:///var/lib/hookcord/db.sqlite'],
		['sqlite://:memory:', 'sqlite://:memory:'],
		['memory://', 'memory://'],
		['postgres://user:hunter2@[bad', 'postgres://…'],
	];
	// A password with an unencoded `@` and `/` (or `?`, `#`): a URL parser ends the authority at the `/`
	// and takes a piece of the password for the host.
	const split: [string, string][] = [
		['redis://:ab@cd/ef@127.0.0.1:6379/0', 'redis://…'],
		['postgres://u:pa@ss/wd@db.example.com/x', 'postgres://…'],
		['rediss://default:se@cr?et@cache.example.com', 'rediss://…'],
		['postgres://u:se@cr#et@db.example.com/x', 'postgres://…'],
	];
	for (const [url, shown] of split) {
		it(`shows no piece of a password with an unencoded @ and / ? #: ${shown}`, () => {
			assert.equal(describeStoreUrl(url), shown);
		});
	}

	for (const [url, shown] of cases) {
		it(`${shown} (scheme, host, port and path only)`, () => {
			assert.equal(describeStoreUrl(url), shown);
			assert.ok(!describeStoreUrl(url).includes('hunter2'));
		});
	}

	it("is what the store's description (start-up banner) says", async () => {
		const store = await openStore('memory://admin:p@ss@db.example.com:5432/x?password=hunter2');
		assert.equal(store.description, 'memory://db.example.com:5432/x');
		await store.close();
	});
});

describe('/readyz', () => {
	it('says whether the store answers, not where it is', async (t) => {
		const store = await openStore('memory://admin:p@ss@db.example.com:5432/x?password=hunter2');
		const { app } = await buildTestApp({}, { store });
		t.after(() => app.close());
		const ready = await app.inject('/readyz');
		assert.equal(ready.statusCode, 200);
		assert.equal(ready.json().store, 'ok');
		for (const leak of ['hunter2', 'p@ss', 'ss@', 'db.example.com', 'memory:'])
			assert.ok(!ready.body.includes(leak), `/readyz shows ${leak}: ${ready.body}`);
		store.meta.get = async () => {
			throw new Error('connection to db.example.com refused');
		};
		const down = await app.inject('/readyz');
		assert.equal(down.statusCode, 503);
		assert.equal(down.json().store, 'unreachable');
		assert.ok(!down.body.includes('db.example.com'));
	});
});

describe('SQLite files', () => {
	const mode = (path: string) => statSync(path).mode & 0o777;

	it('creates the folder 0700 and the database, -wal and -shm files 0600', async (t) => {
		const dir = scratchDir();
		t.after(dir.remove);
		const path = join(dir.path, 'nested', 'data', 'hookcord.sqlite');
		const store = await openStore(`sqlite://${path}`);
		t.after(() => store.close());
		await store.meta.set('hookSecret', 'kept-in-the-wal-0123456789');
		assert.equal(mode(join(dir.path, 'nested')).toString(8), '700');
		assert.equal(mode(join(dir.path, 'nested', 'data')).toString(8), '700');
		for (const file of [path, `${path}-wal`, `${path}-shm`])
			assert.equal(mode(file).toString(8), '600', `${file} is readable by its owner only`);
	});

	it('leaves a file that is not a database as it was, and refuses it', async (t) => {
		const dir = scratchDir();
		t.after(dir.remove);
		const path = join(dir.path, 'notes.txt');
		writeFileSync(path, "not a database, just someone else's notes\n".repeat(200));
		chmodSync(path, 0o644);
		await assert.rejects(openStore(`sqlite://${path}`), /not a SQLite database/);
		assert.equal(mode(path).toString(8), '644', 'its mode is unchanged');
		assert.equal(readFileSync(path, 'utf8'), "not a database, just someone else's notes\n".repeat(200));
		for (const suffix of ['-wal', '-shm']) assert.equal(existsSync(`${path}${suffix}`), false);
	});

	it('narrows a database file readable by others (copied in, restored) to 0600 once SQLite opened it', async (t) => {
		const dir = scratchDir();
		t.after(dir.remove);
		mkdirSync(join(dir.path, 'data'));
		const path = join(dir.path, 'data', 'hookcord.sqlite');
		const first = await openStore(`sqlite://${path}`);
		await first.meta.set('hookSecret', 'kept-in-the-wal-0123456789');
		await first.close();
		chmodSync(path, 0o644);
		writeFileSync(`${path}-shm`, '');
		chmodSync(`${path}-shm`, 0o644);
		const second = await openStore(`sqlite://${path}`);
		t.after(() => second.close());
		assert.equal(mode(path).toString(8), '600');
		assert.equal(mode(`${path}-shm`).toString(8), '600');
	});
});
