import { EventEmitter } from 'node:events';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import Keyv, { type KeyvStoreAdapter } from 'keyv';
import {
	type Backend,
	holderOf,
	type LeaseBackend,
	type LeaseBackendOptions,
	LIST_PAGE,
	openCollections,
} from '../backend.js';
import { addedForm, adds, liveEntries, removes, sqlKey, storedForm } from '../unit.js';
import { StoreConfigError, type StoreUrl } from '../url.js';

/**
 * `sqlite://path`: one file (folder created; WAL so readers never block the writer), every collection a
 * table `prefix_collection` in it. SQLite serves one process: a second one on the same file is told at
 * start (see the lease below).
 */
export function openSqlite({ url, prefix }: StoreUrl): Backend {
	const path = url.slice('sqlite://'.length).replace(/\?.*$/, '');
	if (!path)
		throw new StoreConfigError('STORE_URL: sqlite:// needs a file path, e.g. sqlite://data/hookcord.sqlite');
	// One connection for every collection (a callback's writes are one transaction across tables).
	const database = openDatabase(path, synchronous(url));
	const collections = openCollections(
		(name) => new Keyv({ store: database.table(`${prefix}_${name}`), namespace: name }),
	);
	// Through each collection's adapter at every call: what a test puts in its place is used.
	const adapter = (name: keyof typeof collections) => collections[name].store as SqliteAdapter;
	return {
		collections,
		// One process, and the caller holds the key's lock until it records the outcome: reading is enough,
		// and saves a write per callback.
		claim: async (key) => (await collections.seen.get(key)) as string | undefined,
		async commit(changes) {
			const rows = await Promise.all(
				changes.map(async (change) => {
					const collection = collections[change.collection];
					return {
						adapter: adapter(change.collection),
						key: sqlKey(collection, change.key),
						value: removes(change) || adds(change) ? undefined : await storedForm(collection, change),
						...(adds(change) && { addition: change }),
					};
				}),
			);
			const [first] = rows;
			if (!first) return true;
			// Any adapter reaches the shared connection; the group transaction holds the whole unit, and an
			// addition reads its record inside it, where no other write can come between.
			await first.adapter.transact(() => {
				for (const row of rows)
					if (row.addition)
						row.adapter.upsertNow(row.key, addedForm(row.adapter.selectNow(row.key), row.addition));
					else if (row.value === undefined) row.adapter.deleteNow(row.key);
					else row.adapter.upsertNow(row.key, row.value);
			});
			return true;
		},
		read: async (name, key) => ({ value: await collections[name].get(key) }),
		async *listKeys(name) {
			const start = `${name}:`;
			for (let after = start; ; ) {
				const keys = adapter(name).keysAfter(after, `${name};`, LIST_PAGE);
				for (const key of keys) yield key.slice(start.length);
				if (keys.length < LIST_PAGE) return;
				after = keys.at(-1) as string;
			}
		},
		async readAfter(name, after, limit) {
			const start = `${name}:`;
			const rows = await adapter(name).pageAfter(
				after ? sqlKey(collections[name], after) : start,
				`${name};`,
				limit,
			);
			return liveEntries(rows, start);
		},
		lease: async (options) => heartbeat(collections.meta, options),
	};
}

/**
 * `sqlite://path?synchronous=full` makes every commit wait for the disk (fsync). The default, `normal`,
 * is WAL's usual setting: a stored callback survives a crash or kill of the process; only a power loss
 * or kernel crash can roll back the last moments (sqlite.org/pragma.html#pragma_synchronous). It answers
 * callbacks about twice as fast (see README, Benchmarks).
 */
function synchronous(storeUrl: string): 'FULL' | 'NORMAL' {
	const match = /[?&]synchronous=(full|normal)\b/i.exec(storeUrl);
	if (/[?&]synchronous=/i.test(storeUrl) && !match)
		throw new StoreConfigError('STORE_URL: synchronous must be full or normal');
	return match?.[1]?.toUpperCase() === 'FULL' ? 'FULL' : 'NORMAL';
}

/**
 * A SQLite store holds the hook secret and every callback: only its owner may read it. The folder is
 * created 0700 (a folder that already exists keeps its mode: it may be /tmp or a shared volume) and a new
 * database file 0600 before SQLite opens it; SQLite gives the -wal and -shm files the mode of the
 * database file. An existing file is narrowed to 0600 only once SQLite has read it as a database: a
 * STORE_URL naming some other file by mistake leaves that file as it was.
 */
function openDatabase(path: string, synchronous: 'FULL' | 'NORMAL'): SqliteDatabase {
	if (path === ':memory:') return new SqliteDatabase(path, synchronous);
	const file = resolve(path);
	mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
	closeSync(openSync(file, 'a', 0o600));
	let database: SqliteDatabase;
	try {
		database = new SqliteDatabase(file, synchronous);
	} catch (error) {
		if ((error as { code?: string }).code === 'SQLITE_NOTADB')
			throw new StoreConfigError(`STORE_URL: ${path} is not a SQLite database`);
		throw error;
	}
	for (const name of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`])
		if (existsSync(name)) chmodSync(name, 0o600);
	return database;
}

interface Heartbeat {
	token: string;
	pid: number;
	at: number;
}

/** Whether a process with this id runs on this machine (a SQLite file is local to it). */
function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as { code?: string }).code === 'EPERM';
	}
}

/**
 * This process is the only one, so the lease is always held. Each renewal also writes a heartbeat (pid,
 * time) that lives one TTL; finding another process's live heartbeat means two processes opened one file,
 * and each would deliver every alert: say so.
 */
function heartbeat(meta: Keyv, { warn, ttlMs }: LeaseBackendOptions): LeaseBackend {
	const told = new Set<string>();
	const beat = async (token: string) => {
		try {
			const other = (await meta.get('process')) as Heartbeat | undefined;
			if (other && other.token !== token && !told.has(other.token) && alive(other.pid)) {
				told.add(other.token);
				warn(
					`another hookcord process (${holderOf(other.token)}, pid ${other.pid}) is using this SQLite file: ` +
						'SQLite serves one process, and each would deliver every alert. Run one process, or share ' +
						'Redis or PostgreSQL between instances (README, Scaling out).',
				);
			}
			await meta.set('process', { token, pid: process.pid, at: Date.now() } satisfies Heartbeat, ttlMs);
		} catch {
			// A heartbeat is advice; a store error here must not stop the only deliverer.
		}
	};
	return {
		shared: false,
		async take(token) {
			await beat(token);
			return { epoch: 1 };
		},
		async extend(token) {
			await beat(token);
			return true;
		},
		async drop(token) {
			const ours = ((await meta.get('process')) as Heartbeat | undefined)?.token === token;
			if (ours) await meta.delete('process');
		},
	};
}

/**
 * Most writes one transaction takes before the rest wait for the next turn of the event loop: a
 * transaction runs on the main thread, so this bounds how long a flood of callbacks can hold up a slash
 * command (a few milliseconds at most).
 */
export const MAX_GROUP = 256;

interface Queued {
	apply: () => unknown;
	resolve: (value: unknown) => void;
	reject: (error: unknown) => void;
}

/**
 * One SQLite file on a synchronous driver (better-sqlite3), shared by every collection over one
 * connection, so a write spanning collections is one transaction. Writes are group-committed: all the
 * writes queued during one turn of the event loop (up to MAX_GROUP) commit in one transaction, and each
 * promise resolves only after that commit. Reads run at once and see only committed data.
 *
 * The reads of one turn share one read transaction, ended before the turn's writes commit: in WAL mode
 * each transaction takes and releases file locks (system calls), which cost a read about as much as
 * finding the row. Other processes on the file (`npm run alerts`, `npm run urls`) are not shut out; what
 * they commit is seen from the next turn.
 */
export class SqliteDatabase {
	readonly db: Database.Database;
	#queue: Queued[] = [];
	#scheduled = false;
	#reading = false;
	#users = 0;
	readonly #begin: Database.Statement;
	readonly #end: Database.Statement;

	constructor(path: string, synchronous: 'FULL' | 'NORMAL') {
		this.db = new Database(path, { timeout: 10_000 });
		try {
			// WAL: readers never block the writer, and a commit is an append (sqlite.org/wal.html). The first
			// statement reads the file's header: a file that is not a database is refused here.
			if (path !== ':memory:') this.db.pragma('journal_mode = WAL');
		} catch (error) {
			this.db.close();
			throw error;
		}
		this.db.pragma(`synchronous = ${synchronous}`);
		// SQLite's own default page cache (about 2 MiB) instead of the driver's 16 MiB: the process stays
		// small on a small VPS, and reads past it come from the operating system's file cache; 2, 4, 8 and
		// 16 MiB measured the same callbacks/s and CPU per callback (README, Benchmarks).
		this.db.pragma('cache_size = -2000');
		this.#begin = this.db.prepare('BEGIN');
		this.#end = this.db.prepare('COMMIT');
	}

	/** Runs a read in this turn's read transaction (opened by the turn's first read, ended by `#flush`). */
	read<T>(query: () => T): T {
		// Inside a write transaction (a group commit), reads see it already.
		if (!this.#reading && !this.db.inTransaction) {
			this.#begin.run();
			this.#reading = true;
			this.#schedule();
		}
		return query();
	}

	#schedule(): void {
		if (this.#scheduled) return;
		this.#scheduled = true;
		setImmediate(() => this.#flush());
	}

	/** A Keyv adapter over one table (created if missing; the schema of @keyv/sqlite). */
	table(name: string): SqliteAdapter {
		this.#users++;
		return new SqliteAdapter(this, name);
	}

	/**
	 * Runs `apply` inside the next group transaction; resolves with its result after the commit, rejects
	 * if that transaction failed (nothing of it is stored).
	 */
	write<T>(apply: () => T): Promise<T> {
		return new Promise<T>((resolve, reject) => {
			this.#queue.push({ apply, resolve: resolve as (value: unknown) => void, reject });
			this.#schedule();
		});
	}

	#flush(): void {
		this.#scheduled = false;
		if (this.#reading) {
			this.#reading = false;
			try {
				this.#end.run();
			} catch {
				// A read transaction changed nothing: ending it any way frees the connection for the writes.
				if (this.db.inTransaction) this.db.exec('ROLLBACK');
			}
		}
		const group = this.#queue.splice(0, MAX_GROUP);
		if (this.#queue.length > 0) this.#schedule();
		if (group.length === 0) return;
		let results: unknown[];
		try {
			results = this.db.transaction(() => group.map((item) => item.apply()))();
		} catch {
			// One failing write must not fail its neighbours: commit each alone, and reject only what fails.
			for (const item of group) {
				try {
					item.resolve(this.db.transaction(item.apply)());
				} catch (error) {
					item.reject(error);
				}
			}
			return;
		}
		for (const [i, item] of group.entries()) item.resolve(results[i]);
	}

	/** Closes the connection once every table handed out has disconnected. */
	release(): void {
		if (--this.#users > 0) return;
		if (this.#queue.length > 0 || this.#reading) this.#flush();
		if (this.db.open) this.db.close();
	}
}

const tableName = (name: string) => {
	if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid table name "${name}"`);
	return name;
};

/**
 * Keyv's store contract on one table: values are Keyv's serialized strings, expiry is Keyv's (checked on
 * read), keys carry Keyv's `namespace:` prefix.
 */
export class SqliteAdapter extends EventEmitter implements KeyvStoreAdapter {
	readonly opts: { dialect: 'sqlite'; url: string; table: string };
	namespace?: string;
	readonly ttlSupport = false;
	readonly #database: SqliteDatabase;
	readonly #select: Database.Statement<[string], string>;
	readonly #upsert: Database.Statement<[string, string]>;
	readonly #delete: Database.Statement<[string]>;
	readonly #page: Database.Statement<[string, string, string, number], { key: string; value: string }>;
	readonly #keys: Database.Statement<[string, string, number], { key: string }>;

	constructor(database: SqliteDatabase, name: string) {
		super();
		const table = tableName(name);
		this.#database = database;
		this.opts = { dialect: 'sqlite', url: `sqlite://${table}`, table };
		const { db } = database;
		db.exec(`CREATE TABLE IF NOT EXISTS ${table}(key VARCHAR(255) PRIMARY KEY, value TEXT)`);
		// pluck: the value itself, without a row object per read.
		this.#select = db.prepare<[string], string>(`SELECT value FROM ${table} WHERE key = ?`).pluck();
		this.#upsert = db.prepare(
			`INSERT INTO ${table} (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
		);
		this.#delete = db.prepare(`DELETE FROM ${table} WHERE key = ?`);
		// Keyset pagination along the primary key: each page is an index seek, however large the table.
		this.#page = db.prepare(
			`SELECT key, value FROM ${table} WHERE key > ? AND key >= ? AND key < ? ORDER BY key LIMIT ?`,
		);
		this.#keys = db.prepare(`SELECT key FROM ${table} WHERE key > ? AND key < ? ORDER BY key LIMIT ?`);
	}

	async get<Value>(key: string): Promise<Value | undefined> {
		return this.#database.read(() => this.#select.get(key)) as Value | undefined;
	}

	async getMany<Value>(keys: string[]): Promise<(Value | undefined)[]> {
		return this.#database.read(() => keys.map((key) => this.#select.get(key) as Value | undefined));
	}

	async has(key: string): Promise<boolean> {
		return this.#database.read(() => this.#select.get(key)) !== undefined;
	}

	set(key: string, value: string): Promise<void> {
		return this.#database.write(() => {
			this.#upsert.run(key, value);
		});
	}

	/** Runs `apply` in the next group transaction (the store's atomic commit of a unit). */
	transact<T>(apply: () => T): Promise<T> {
		return this.#database.write(apply);
	}

	/** One read, for use inside `transact` only (it sees the transaction's own writes). */
	selectNow(key: string): string | undefined {
		return this.#select.get(key);
	}

	/** One upsert, for use inside `transact` only. */
	upsertNow(key: string, value: string): void {
		this.#upsert.run(key, value);
	}

	/** One delete, for use inside `transact` only. */
	deleteNow(key: string): void {
		this.#delete.run(key);
	}

	async setMany(entries: { key: string; value: string }[]): Promise<void> {
		await this.#database.write(() => {
			for (const { key, value } of entries) this.#upsert.run(key, value);
		});
	}

	delete(key: string): Promise<boolean> {
		return this.#database.write(() => this.#delete.run(key).changes > 0);
	}

	deleteMany(keys: string[]): Promise<boolean> {
		return this.#database.write(() => {
			let changed = 0;
			for (const key of keys) changed += this.#delete.run(key).changes;
			return changed > 0;
		});
	}

	async clear(): Promise<void> {
		const { lower, upper } = this.#range(this.namespace);
		await this.#database.write(() =>
			this.#database.db
				.prepare(`DELETE FROM ${this.opts.table} WHERE key >= ? AND key < ?`)
				.run(lower, upper),
		);
	}

	/**
	 * Every entry under the namespace, in key order, one indexed page at a time, yielding to the event loop
	 * between pages: a sweep over a large table must not hold up callbacks and commands.
	 */
	async *iterator<Value>(namespace?: string): AsyncGenerator<[string, Value], void> {
		const { lower, upper } = this.#range(namespace);
		let after = '';
		for (;;) {
			const rows = this.#database.read(() => this.#page.all(after, lower, upper, 500));
			for (const row of rows) yield [row.key, row.value as Value];
			if (rows.length < 500) return;
			after = (rows.at(-1) as { key: string }).key;
			await new Promise((resolve) => setImmediate(resolve));
		}
	}

	/** Up to `limit` stored rows (keys prefixed, values as stored) after `after`, below `upper`, in order. */
	async pageAfter(after: string, upper: string, limit: number): Promise<{ key: string; value: string }[]> {
		return this.#database.read(() => this.#page.all(after, '', upper, limit));
	}

	/** Up to `limit` stored keys (prefixed) after `after`, below `upper`, in order: no values read. */
	keysAfter(after: string, upper: string, limit: number): string[] {
		return this.#database.read(() => this.#keys.all(after, upper, limit)).map((row) => row.key);
	}

	/** Any SQL on the shared connection (as @keyv/sqlite offers): rows for a query, else nothing. */
	async query(sql: string, ...params: unknown[]): Promise<unknown[]> {
		const statement = this.#database.db.prepare(sql);
		if (statement.reader) return this.#database.read(() => statement.all(...params));
		await this.#database.write(() => statement.run(...params));
		return [];
	}

	async disconnect(): Promise<void> {
		this.#database.release();
	}

	/** Keys under `namespace:` sort between `namespace:` and `namespace;` (';' follows ':'). */
	#range(namespace: string | undefined): { lower: string; upper: string } {
		return namespace
			? { lower: `${namespace}:`, upper: `${namespace};` }
			: { lower: '', upper: '\u{10ffff}' };
	}
}
