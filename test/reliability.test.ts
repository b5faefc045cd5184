import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { DeliveryError } from '../src/delivery/errors.js';
import type { OutgoingMessage } from '../src/delivery/message.js';
import type { ParsedEvent } from '../src/events/event.js';
import type { AccountState } from '../src/state/projections.js';
import { pruneExpired, type Store } from '../src/store/store.js';
import { deliveryHarness, pendingEntries } from './helpers.js';
import { idle, until } from './poll.js';
import { deferrer, STORE_KINDS, storeFor } from './stores.js';

/**
 * The outbox, ingest and worker on every store: duplicates collapse (also concurrent ones), a restart
 * resumes the backlog and the message that was in flight, the retry budget ends in the dead letter and a
 * replay brings it back. A failure here means an alert lost or doubled.
 */

/** One process's worth of hookcord on `store`: see `deliveryHarness`. */
const harness = (
	store: Store,
	script?: (message: OutgoingMessage) => void,
	options: { retryBudget?: number } = {},
) => deliveryHarness(store, script, options);

/** Waits (bounded) until the worker has read the whole outbox twice more: two sweeps have run. */
async function twoMoreSweeps(harness: { reads: () => number }) {
	const seen = harness.reads();
	await until(() => harness.reads() >= seen + 2, 'two more sweeps');
}

const activated = (username: string): ParsedEvent => ({
	provider: 'mofh',
	kind: 'account.activated',
	username,
});
const wooxyRead = (id: string): ParsedEvent => ({
	provider: 'wooxy',
	kind: 'email.event',
	event: 'read',
	email: 'a@example.com',
	messageId: id,
	occurredAt: 1_767_225_600_000,
	headers: {},
});

/** The test's store and its `defer`: cleanups run in reverse, so workers stop before the store closes. */
async function open(kind: (typeof STORE_KINDS)[number], t: TestContext) {
	const defer = deferrer(t);
	const store = await storeFor(kind, t, defer);
	return store && { store, defer };
}

for (const kind of STORE_KINDS) {
	describe(`reliability on ${kind}`, () => {
		it('collapses 15 Wooxy retries and 20 concurrent identical callbacks into one alert each', async (t) => {
			const opened = await open(kind, t);
			if (!opened) return;
			const { store, defer } = opened;
			const { ingest, worker, ids } = await harness(store);
			await worker.start();
			defer(() => worker.stop());
			const retries = [];
			for (let i = 0; i < 15; i++) retries.push(await ingest(wooxyRead('m-1')));
			const concurrent = await Promise.all(Array.from({ length: 20 }, () => ingest(activated('host_dup'))));
			assert.equal(new Set(retries.map((r) => r.id)).size, 1);
			assert.equal(retries.filter((r) => !r.duplicate).length, 1);
			assert.equal(new Set(concurrent.map((r) => r.id)).size, 1, 'concurrent copies share one event');
			assert.equal(concurrent.filter((r) => !r.duplicate).length, 1);
			await idle(worker);
			assert.deepEqual(ids().sort(), [retries[0]?.id, concurrent[0]?.id].sort());
			const account = (await store.accounts.get('host_dup')) as AccountState;
			assert.equal(account.history.length, 1, 'state saw the callback once');
		});

		it('collapses identical callbacks racing through two processes on a shared store', async (t) => {
			if (kind === 'memory' || kind === 'sqlite') {
				t.skip('memory and SQLite belong to one process; its per-key lock covers them');
				return;
			}
			const opened = await open(kind, t);
			if (!opened) return;
			const { store, defer } = opened;
			// Two harnesses, two locks: as two receivers behind a load balancer would be.
			const one = await harness(store);
			const two = await harness(store);
			await one.worker.start();
			defer(() => one.worker.stop());
			const storedIds: string[] = [];
			for (let round = 0; round < 5; round++) {
				const callback = wooxyRead(`race-${round}`);
				const results = await Promise.allSettled(
					Array.from({ length: 6 }, (_, i) => (i % 2 ? one : two).ingest(callback)),
				);
				const stored = results.filter((r) => r.status === 'fulfilled' && !r.value.duplicate);
				assert.equal(stored.length, 1, `round ${round}: exactly one copy stored`);
				for (const result of results) {
					if (result.status === 'rejected') assert.equal((result.reason as Error).name, 'InProgressError');
				}
				// A later retry is a duplicate of the stored one.
				const retry = await two.ingest(callback);
				assert.equal(retry.duplicate, true);
				assert.equal(retry.id, stored[0]?.status === 'fulfilled' ? stored[0].value.id : '');
				storedIds.push(retry.id);
			}
			// The delivering process sends each stored event once (its sweep picks up the other's).
			await until(() => one.ids().length >= storedIds.length, 'every stored event was delivered');
			await twoMoreSweeps(one); // each a chance to send a second copy
			assert.deepEqual([...one.ids()].sort(), [...storedIds].sort());
		});

		it('resumes the backlog and re-sends the in-flight message with its nonce after a crash', async (t) => {
			const opened = await open(kind, t);
			if (!opened) return;
			const { store, defer } = opened;
			let outage = true;
			const first = await harness(store, () => {
				if (outage) throw new DeliveryError('retry', 'Discord 503');
			});
			await first.worker.start();
			const accepted = [];
			for (let i = 0; i < 12; i++) accepted.push((await first.ingest(activated(`host_bk${i}`))).id);
			// Crash while a message is in flight: recorded, tried, failed and waiting for its retry.
			await until(
				async () => first.attempts.length >= 2 && (await first.outbox.getBatch('channel:100000000000000001')),
				'the message in flight was tried and retried',
			);
			await first.worker.stop(); // the "crash": nothing more happens in this process
			const inFlight = await first.outbox.getBatch('channel:100000000000000001');
			assert.ok(inFlight, 'the message being sent was recorded before sending');

			outage = false;
			const second = await harness(store);
			assert.equal(await second.worker.start(), 12, 'every accepted alert is still pending');
			defer(() => second.worker.stop());
			await idle(second.worker);
			assert.deepEqual(second.ids().sort(), [...accepted].sort(), 'each alert once');
			assert.equal(second.sent[0]?.nonce, inFlight.nonce, 'the in-flight message goes first, same nonce');
			assert.deepEqual(second.sent[0]?.embeds.length, inFlight.ids.length);
			assert.equal((await pendingEntries(second.outbox)).length, 0);
		});

		it('moves an alert to the failed deliveries after the retry budget, and a replay delivers it once', async (t) => {
			const opened = await open(kind, t);
			if (!opened) return;
			const { store, defer } = opened;
			let broken = true;
			const { ingest, worker, outbox, ids } = await harness(
				store,
				() => {
					if (broken) throw new DeliveryError('retry', 'Discord 500');
				},
				{ retryBudget: 40 },
			);
			await worker.start();
			defer(() => worker.stop());
			const { id } = await ingest(activated('host_dead'));
			// fail() writes the dead letter, then removes the outbox entry: wait for both.
			await until(
				async () => (await outbox.listFailed()).length > 0 && (await pendingEntries(outbox)).length === 0,
				'the alert reached the dead letter',
			);
			const [failed] = await outbox.listFailed();
			assert.equal(failed?.event.id, id);
			assert.match(failed?.lastError ?? '', /retry budget spent: Discord 500/);
			assert.equal((await pendingEntries(outbox)).length, 0);
			assert.deepEqual(ids(), []);

			broken = false;
			const replayed = await outbox.replay([id]);
			assert.equal(replayed.length, 1);
			for (const entry of replayed) worker.enqueue(entry);
			await idle(worker);
			assert.deepEqual(ids(), [id]);
			assert.deepEqual(await outbox.listFailed(), []);
		});

		it('a replay gets a fresh retry budget, even for an alert older than the budget', async (t) => {
			const opened = await open(kind, t);
			if (!opened) return;
			const { store, defer } = opened;
			let failures = 1;
			const { ingest, worker, outbox, ids } = await harness(
				store,
				() => {
					if (failures-- > 0) throw new DeliveryError('retry', 'Discord 500');
				},
				{ retryBudget: 200 },
			);
			const { id } = await ingest(activated('host_old'));
			// Aged past the budget while failed, then replayed: one more failure must not dead-letter it.
			const [entry] = await pendingEntries(outbox);
			assert.ok(entry);
			await outbox.fail(
				{ ...entry, event: { ...entry.event, receivedAt: Date.now() - 10_000 } },
				'channel:100000000000000001',
				Date.now(),
			);
			const replayed = await outbox.replay([id]);
			await worker.start();
			defer(() => worker.stop());
			for (const again of replayed) worker.enqueue(again);
			await idle(worker);
			assert.deepEqual(ids(), [id]);
			assert.deepEqual(await outbox.listFailed(), []);
		});

		it('prunes expired callback fingerprints', async (t) => {
			const opened = await open(kind, t);
			if (!opened) return;
			const { store } = opened;
			await store.seen.set('old', 'a', 5);
			// Taken after the write: the stored expiry (stamped when the write began) is no later than this.
			const expires = Date.now() + 5;
			await store.seen.set('fresh', 'b', 60_000);
			await until(() => Date.now() > expires, "the old fingerprint's 5 ms passed");
			assert.equal(await pruneExpired(store.seen), 1);
			if (kind === 'sqlite') {
				const rows = (
					await (store.seen.store as { query(sql: string): Promise<{ n: number }[]> }).query(
						'SELECT count(*) AS n FROM hookcord_seen',
					)
				)[0];
				assert.equal(rows?.n, 1, 'the expired row is gone from the table');
			}
		});

		it('a sweep picks up entries another process put in the outbox, and never revives delivered ones', async (t) => {
			const opened = await open(kind, t);
			if (!opened) return;
			const { store, defer } = opened;
			const receiver = await harness(store); // never started: like DELIVERY=off
			const deliverer = await harness(store);
			await deliverer.worker.start();
			defer(() => deliverer.worker.stop());
			const accepted = [];
			for (let i = 0; i < 5; i++) accepted.push((await receiver.ingest(activated(`host_sw${i}`))).id);
			assert.deepEqual(receiver.sent, []);
			await until(() => deliverer.ids().length >= 5, 'the sweep delivered the receiver-only entries');
			await twoMoreSweeps(deliverer); // each a chance to revive a delivered entry
			assert.deepEqual(deliverer.ids().sort(), accepted.sort());
		});
	});
}
