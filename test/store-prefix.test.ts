import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ConfigError, parseConfig } from '../src/config.js';
import { openLease } from '../src/store/lease.js';
import { openStore, type Store } from '../src/store/store.js';
import { buildTestApp } from './helpers.js';
import { runScript, scratchDir, startHookcord } from './process.js';
import { deferrer, privateStore, STORE_KINDS, unavailable } from './stores.js';

/**
 * `?prefix=` keeps deployments apart in one server or file. One outside the rule used to be replaced by
 * `hookcord` without a word, so a staging instance joined production (its leader, its Discord, its hook
 * secret); PostgreSQL folding case made `Prod` and `prod` one deployment there and two on Redis.
 */

const RULE = /prefix= must be 1 to 32 characters of a-z, 0-9 and _, starting with a letter/;
const INVALID = ['staging-1', 'Staging.eu', 'team-a', 'Prod', 'a'.repeat(33), '', '1st', 'x y'];

describe('a deployment prefix outside the rule', () => {
	for (const prefix of INVALID) {
		it(`is refused by the configuration, saying the rule: ${JSON.stringify(prefix)}`, () => {
			for (const base of ['redis://127.0.0.1:6379', 'postgres://db/hookcord', 'sqlite://data/h.sqlite'])
				assert.throws(
					() => parseConfig({ STORE_URL: `${base}?prefix=${prefix}` }),
					(error: unknown) => error instanceof ConfigError && RULE.test(error.message),
				);
		});
	}

	it('is refused when given twice', () => {
		assert.throws(
			() => parseConfig({ STORE_URL: 'redis://127.0.0.1:6379?prefix=prod&prefix=staging' }),
			(error: unknown) => error instanceof ConfigError && /more than once/.test(error.message),
		);
	});

	it('is refused by openStore on memory and SQLite, never replaced by the default', async () => {
		const dir = scratchDir();
		try {
			for (const prefix of INVALID) {
				await assert.rejects(openStore(`memory://?prefix=${prefix}`), RULE);
				await assert.rejects(openStore(`sqlite://${dir.path}/h.sqlite?prefix=${prefix}`), RULE);
			}
			assert.equal(existsSync(join(dir.path, 'h.sqlite')), false, 'refused before any file is made');
		} finally {
			dir.remove();
		}
	});

	for (const kind of ['redis', 'postgres'] as const) {
		it(`is refused by openStore on ${kind}, before connecting`, async (t) => {
			const reason = unavailable(kind);
			if (reason) return t.skip(reason);
			const base = (kind === 'redis' ? process.env.REDIS_URL : process.env.POSTGRES_URL) as string;
			const glue = base.includes('?') ? '&' : '?';
			for (const prefix of ['staging-1', 'Prod'])
				await assert.rejects(openStore(`${base}${glue}prefix=${prefix}`), RULE);
		});
	}

	it('stops the process with exit 78 and the rule on stderr', async () => {
		const dir = scratchDir();
		try {
			const run = await runScript('src/main.ts', {
				env: { HOST: '127.0.0.1', PORT: '0', STORE_URL: `sqlite://${dir.path}/h.sqlite?prefix=team-a` },
				cwd: dir.path,
			});
			assert.equal(run.code, 78, run.stderr);
			assert.match(run.stderr, RULE);
			assert.doesNotMatch(run.stdout, /listening/);
		} finally {
			dir.remove();
		}
	});
});

describe('deployments with different prefixes on one server or file', () => {
	/** Two stores on one server (or SQLite file), each under its own prefix. */
	async function twoDeployments(kind: (typeof STORE_KINDS)[number], defer: (cleanup: () => unknown) => void) {
		if (kind === 'sqlite') {
			const dir = scratchDir();
			defer(dir.remove);
			const file = join(dir.path, 'shared.sqlite');
			const urls = [`sqlite://${file}?prefix=production`, `sqlite://${file}?prefix=staging_1`];
			const stores = await Promise.all(urls.map((url) => openStore(url)));
			for (const store of stores) defer(() => store.close());
			return { stores, file };
		}
		const stores: Store[] = [];
		for (let i = 0; i < 2; i++) {
			const { url, drop } = privateStore(kind);
			defer(drop);
			const store = await openStore(url);
			defer(() => store.close());
			stores.push(store);
		}
		return { stores };
	}

	for (const kind of STORE_KINDS.filter((kind) => kind !== 'memory')) {
		it(`keep their hook secrets, records and leaders apart on ${kind}`, async (t) => {
			const reason = unavailable(kind);
			if (reason) return t.skip(reason);
			const defer = deferrer(t);
			const { stores } = await twoDeployments(kind, defer);
			const [production, staging] = stores as [Store, Store];
			await production.meta.set('hookSecret', 'production-secret-0123456789');
			assert.equal(
				await staging.meta.get('hookSecret'),
				undefined,
				"staging does not read production's secret",
			);
			await production.commit([{ collection: 'accounts', key: 'host_1', value: { username: 'host_1' } }]);
			const keys: string[] = [];
			for await (const key of staging.listKeys('accounts')) keys.push(key);
			assert.deepEqual(keys, []);
			const leases = await Promise.all(
				[production, staging].map((store, i) =>
					openLease(store, { instanceId: `instance-${i}`, ttlMs: 30_000, warn: () => {} }),
				),
			);
			for (const lease of leases) defer(() => lease.release());
			assert.deepEqual(
				await Promise.all(leases.map((lease) => lease.acquire())),
				[true, true],
				'one leader each',
			);
		});
	}

	it('name their SQLite tables as their PostgreSQL tables: prefix_collection', async (t) => {
		const defer = deferrer(t);
		const { file } = await twoDeployments('sqlite', defer);
		const db = new Database(file as string, { readonly: true });
		defer(() => db.close());
		const tables = db
			.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
			.pluck()
			.all() as string[];
		assert.ok(tables.includes('production_meta') && tables.includes('staging_1_meta'), tables.join(', '));
		assert.ok(
			tables.every((name) => /^(production|staging_1)_[a-z]+$/.test(name)),
			tables.join(', '),
		);
	});
});

describe('the effective prefix is shown', () => {
	it('by /readyz (it is not a secret)', async (t) => {
		const store = await openStore('memory://?prefix=staging_1');
		const { app } = await buildTestApp({}, { store });
		t.after(() => app.close());
		assert.equal((await app.inject('/readyz')).json().prefix, 'staging_1');
		const plain = await openStore('memory://');
		const { app: other } = await buildTestApp({}, { store: plain });
		t.after(() => other.close());
		assert.equal((await other.inject('/readyz')).json().prefix, 'hookcord');
	});

	it('by the start-up banner', async (t) => {
		const dir = scratchDir();
		t.after(dir.remove);
		const prefix = `p${randomBytes(4).toString('hex')}`;
		const hookcord = await startHookcord(
			{ STORE_URL: `sqlite://${dir.path}/h.sqlite?prefix=${prefix}`, DELIVERY: 'off' },
			dir.path,
		);
		t.after(() => hookcord.kill('SIGKILL'));
		assert.match(hookcord.stdout(), new RegExp(`listening on .*prefix: ${prefix}\\)`));
	});

	it('by npm run urls, with the secret of that prefix', async (t) => {
		const dir = scratchDir();
		t.after(dir.remove);
		const file = join(dir.path, 'h.sqlite');
		const staging = await openStore(`sqlite://${file}?prefix=staging_1`);
		await staging.meta.set('hookSecret', 'staging-secret-0123456789');
		await staging.close();
		const urls = await runScript('scripts/urls.ts', {
			env: { STORE_URL: `sqlite://${file}?prefix=production`, PUBLIC_URL: 'https://hooks.example.com' },
			cwd: dir.path,
		});
		assert.equal(urls.code, 0, urls.stderr);
		assert.match(urls.stdout, /\(prefix: production\)/);
		assert.doesNotMatch(urls.stdout, /staging-secret/, "another prefix's secret is not shown");
	});
});
