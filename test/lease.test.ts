import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryError } from '../src/delivery/errors.js';
import type { Destination } from '../src/delivery/kind.js';
import { fenceSend } from '../src/delivery/leadership.js';
import type { Event } from '../src/events/event.js';
import {
	createOutbox,
	LeaseLostError,
	type OutboxEntry,
	outboxAddition,
	outboxKey,
} from '../src/state/outbox.js';
import { type Lease, openLease } from '../src/store/lease.js';
import { openStore, type Store } from '../src/store/store.js';
import { pendingEntries } from './helpers.js';
import { deferrer, privateStore, unavailable } from './stores.js';

/**
 * The delivery lease on each store, through two handles on one store as two processes would hold it:
 * one holder at a time, fencing numbers that grow with every new holder, renew and release that only
 * touch the caller's own lease, and a holder that stops believing in its lease before the store lets
 * anyone else take it.
 */

const noWarn = (message: string) => assert.fail(`unexpected warning: ${message}`);

for (const kind of ['redis', 'postgres'] as const) {
	describe(`delivery lease on ${kind}`, { skip: unavailable(kind) ?? false }, () => {
		/** Two leases on one private store, as two instances see it; `clock` is the first one's. */
		async function handles(
			t: Parameters<typeof deferrer>[0],
			ttlMs: number,
			clock?: () => number,
		): Promise<[{ lease: Lease; store: Store }, { lease: Lease; store: Store }]> {
			const defer = deferrer(t);
			const { url, drop } = privateStore(kind);
			defer(drop);
			const open = async (instanceId: string, options: { clock?: () => number } = {}) => {
				const store = await openStore(url);
				defer(() => store.close());
				return { store, lease: await openLease(store, { instanceId, ttlMs, warn: noWarn, ...options }) };
			};
			return [await open('one', clock ? { clock } : {}), await open('two')];
		}

		async function pair(t: Parameters<typeof deferrer>[0], ttlMs: number): Promise<[Lease, Lease]> {
			const [one, two] = await handles(t, ttlMs);
			return [one.lease, two.lease];
		}

		it('one holder at a time; renew and release touch only their own lease', async (t) => {
			const [one, two] = await pair(t, 30_000);
			assert.equal(await one.acquire(), true);
			const first = one.epoch as number;
			assert.equal(await two.acquire(), false, 'held by one');
			assert.equal(two.holder, 'one', 'the other instance sees who leads');
			assert.equal(await two.renew(), false, 'nothing to renew');
			await two.release(); // not its lease: a no-op
			assert.equal(await one.renew(), true);
			assert.equal(one.isHeld(), true);

			await one.release();
			assert.equal(one.isHeld(), false);
			assert.equal(await two.acquire(), true, 'released: the next one takes it at once');
			assert.ok((two.epoch as number) > first, `fencing number grows: ${first} -> ${two.epoch}`);
			assert.equal(await one.renew(), false, 'a released lease is not renewed');
			await one.release(); // compare-and-delete: does not free two's lease
			assert.equal(await one.acquire(), false);
			assert.equal(one.holder, 'two');
		});

		it('an unrenewed lease: its holder stops believing it before the other can take it', async (t) => {
			const [one, two] = await pair(t, 1500);
			assert.equal(await one.acquire(), true);
			const deadline = Date.now() + 10_000;
			let believedUntil: number | undefined;
			for (;;) {
				if (believedUntil === undefined && !one.isHeld()) believedUntil = Date.now();
				const taken = await two.acquire();
				// Safety: never two holders, by their own account.
				assert.ok(!(taken && one.isHeld()), 'the old holder still believed it held the lease');
				if (taken) break;
				assert.ok(Date.now() < deadline, 'the expired lease was taken over');
				await new Promise((resolve) => setTimeout(resolve, 20));
			}
			assert.ok(believedUntil !== undefined, 'the old holder had given up before the takeover');
			assert.equal(await one.renew(), false, 'the old holder cannot renew it back');
			assert.equal(await one.acquire(), false);
			assert.equal(one.holder, 'two');
		});

		it('a holder paused past its lease writes nothing: the store checks the lease in the same step', async (t) => {
			// The first instance's clock stops, as in a process stopped (SIGSTOP, a long GC) between its own
			// check of the lease and its write: it still believes it leads when it wakes.
			let stoppedAt: number | undefined;
			const [one, two] = await handles(t, 1500, () => stoppedAt ?? performance.now());
			const event = { id: 'e1' } as unknown as Event;
			const { entry, write } = outboxAddition(event, 'channel:1');
			await one.store.commit([write]);
			const outbox = createOutbox(one.store, Date.now, one.lease.commit);
			assert.equal(await one.lease.acquire(), true);
			await outbox.update({ ...entry, attempts: 1 });
			await outbox.setBatch('channel:1', { nonce: 'n', ids: ['e1'] });
			assert.equal(
				((await two.store.outbox.get(outboxKey('channel:1', 'e1'))) as OutboxEntry).attempts,
				1,
				'held: written',
			);

			stoppedAt = performance.now();
			const deadline = Date.now() + 10_000;
			while (!(await two.lease.acquire())) {
				assert.ok(Date.now() < deadline, 'the expired lease was taken over');
				await new Promise((resolve) => setTimeout(resolve, 20));
			}
			assert.equal(one.lease.isHeld(), true, 'stopped: it still believes it leads');
			// The new leader delivers the alert and confirms it; it records a message of its own.
			const next = createOutbox(two.store, Date.now, two.lease.commit);
			await next.remove('channel:1', ['e1']);
			await next.setBatch('channel:2', { nonce: 'm', ids: ['e2'] });

			const lost = (error: unknown) => error instanceof LeaseLostError;
			await assert.rejects(outbox.update({ ...entry, attempts: 2 }), lost);
			await assert.rejects(
				outbox.setBatch('channel:2', { nonce: 'n', ids: ['e1'], content: '', embeds: [] }),
				lost,
			);
			await assert.rejects(outbox.clearBatch('channel:2'), lost);
			await assert.rejects(outbox.fail(entry, 'channel:1', 0), lost);
			assert.equal(
				await two.store.outbox.get(outboxKey('channel:1', 'e1')),
				undefined,
				'the delivered alert stays delivered',
			);
			assert.deepEqual(await next.getBatch('channel:2'), { nonce: 'm', ids: ['e2'] });
			assert.deepEqual(await next.listFailed(), []);
		});
	});
}

describe('delivery lease on single-process stores', () => {
	it('memory: always held, never expires', async (t) => {
		const defer = deferrer(t);
		const store = await openStore('memory://');
		defer(() => store.close());
		const lease = await openLease(store, { instanceId: 'solo', ttlMs: 1000, warn: noWarn });
		assert.equal(await lease.acquire(), true);
		assert.equal(lease.remainingMs(), Number.POSITIVE_INFINITY);
		assert.equal(await lease.renew(), true);
	});

	it('SQLite: a second process on the same file is told so', async (t) => {
		const defer = deferrer(t);
		const { url, drop } = privateStore('sqlite');
		defer(drop);
		const warnings: string[] = [];
		const open = async (instanceId: string, warn: (message: string) => void) => {
			const store = await openStore(url);
			defer(() => store.close());
			return openLease(store, { instanceId, ttlMs: 30_000, warn });
		};
		const first = await open('first', noWarn);
		assert.equal(await first.acquire(), true);
		const second = await open('second', (message) => warnings.push(message));
		assert.equal(await second.acquire(), true, 'SQLite stays single-process: it still delivers');
		assert.equal(warnings.length, 1);
		assert.match(
			warnings[0] as string,
			/another hookcord process \(first, pid \d+\) is using this SQLite file/,
		);

		// After a clean stop the file is free: the next start is not warned.
		await second.release();
		const third = await open('third', noWarn);
		assert.equal(await third.acquire(), true);
	});
});

describe('fencing: what a leader that lost its lease may still do', () => {
	/** A lease whose state the test sets. */
	const lease = (held: { now: boolean }): Lease => ({
		instanceId: 'x',
		ttlMs: 1000,
		shared: true,
		acquire: async () => held.now,
		renew: async () => held.now,
		release: async () => {},
		isHeld: () => held.now,
		remainingMs: () => (held.now ? 1000 : 0),
		epoch: 1,
		holder: 'x',
		commit: async () => held.now,
	});
	const message = { content: 'x', embeds: [], nonce: 'n1' };
	const destination = { kind: 'channel', key: 'channel:1', channelId: '1' } as unknown as Destination;

	it('sends only while the lease is held', async () => {
		const held = { now: true };
		const sent: string[] = [];
		const send = fenceSend(lease(held), async (_to, body) => {
			sent.push(body.nonce as string);
		});
		await send(destination, message);
		held.now = false;
		await assert.rejects(
			send(destination, message),
			(error: unknown) => error instanceof DeliveryError && error.kind === 'pause',
		);
		assert.deepEqual(sent, ['n1'], 'the second send never reached Discord');
	});

	it('an outbox whose commits the lease refuses: no retry state, batch or dead letter; confirms a delivery', async (t) => {
		const defer = deferrer(t);
		const store = await openStore('memory://');
		defer(() => store.close());
		const outbox = createOutbox(store);
		const fenced = createOutbox(store, Date.now, async () => false);
		const event = { id: 'e1' } as unknown as Event;
		const { entry, write } = outboxAddition(event, 'channel:1');
		await store.commit([write]);
		const lost = (error: unknown) => error instanceof LeaseLostError;
		await assert.rejects(fenced.update({ ...entry, attempts: 3 }), lost);
		await assert.rejects(
			fenced.setBatch('channel:1', { nonce: 'n', ids: ['e1'], content: '', embeds: [] }),
			lost,
		);
		await outbox.setBatch('channel:2', { nonce: 'm', ids: ['e1'], content: '', embeds: [] });
		await assert.rejects(fenced.clearBatch('channel:2'), lost, 'the new leader may own that record now');
		await assert.rejects(fenced.fail(entry, 'channel:1', 0), lost);
		assert.equal(((await store.outbox.get(outboxKey('channel:1', 'e1'))) as OutboxEntry).attempts, 0);
		assert.equal(await outbox.getBatch('channel:1'), undefined);
		assert.deepEqual(await outbox.getBatch('channel:2'), {
			nonce: 'm',
			ids: ['e1'],
			content: '',
			embeds: [],
		});
		assert.deepEqual(await outbox.listFailed(), []);
		await fenced.remove('channel:1', ['e1']); // it is on Discord, whoever leads now
		assert.deepEqual(await pendingEntries(fenced), []);
	});
});
