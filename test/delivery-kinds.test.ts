import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { DeliveryError, toFailure } from '../src/delivery/errors.js';
import { type Destination, type DestinationKind, register } from '../src/delivery/kind.js';
import { createWorker } from '../src/delivery/worker.js';
import type { Event } from '../src/events/event.js';
import { newEventId } from '../src/events/id.js';
import { createOutbox, type InFlightRecord, type OutboxEntry, outboxAddition } from '../src/state/outbox.js';
import { openStore, type Store } from '../src/store/store.js';
import { ManualClock, settle } from './clock.js';
import { silent } from './helpers.js';

/**
 * The worker with a kind of its own, shaped like a forward target: several sends at once, strictly in
 * order per account, a failure that holds the destination until a person decides, and a send found in
 * flight at start held rather than repeated. The worker knows none of this but through the kind.
 */

const TARGET: Destination = { kind: 'panel', key: 'panel:1' };
const OTHER: Destination = { kind: 'panel', key: 'panel:2' };

interface Call {
	destination: string;
	username: string;
	finish(error?: Error): void;
}

/** A kind whose sends wait until the test finishes them, one entry per send. */
function panelKind(calls: Call[]): DestinationKind<Destination, InFlightRecord> {
	return {
		name: 'panel',
		fanOut: () => [TARGET, OTHER],
		lanes: () => ({ concurrency: 2, orderKey: (entry) => (entry.event as { username: string }).username }),
		paced: false,
		durable: true,
		retryBudget: Number.POSITIVE_INFINITY,
		compose: (_destination, ready) => ({ ids: [(ready[0] as OutboxEntry).event.id] }),
		send: (destination, _record, [entry]) =>
			new Promise<void>((resolve, reject) => {
				const username = ((entry as OutboxEntry).event as { username: string }).username;
				calls.push({
					destination: destination.key,
					username,
					finish: (error) => (error ? reject(error) : resolve()),
				});
			}),
		classify: toFailure,
		recover: () => 'hold',
	};
}

async function setup(t: TestContext, store?: Store) {
	const theStore = store ?? (await openStore('memory://'));
	const clock = new ManualClock();
	const calls: Call[] = [];
	const outbox = createOutbox(theStore, clock.now);
	const worker = createWorker({
		outbox,
		kinds: new Map([register(panelKind(calls))]),
		route: () => [TARGET, OTHER],
		log: silent,
		retrySchedule: [1_000],
		retryBudget: 60_000,
		now: clock.now,
		after: clock.after,
	});
	t.after(async () => {
		for (const call of calls) call.finish(new Error('test over'));
		await worker.stop();
	});
	let n = 0;
	/** Stores an event for the target only (as ingest would) and hands it to the worker. */
	const add = async (username: string, destination = TARGET) => {
		const at = clock.now() + n++;
		const event = {
			provider: 'mofh',
			kind: 'account.activated',
			username,
			id: newEventId(at),
			receivedAt: at,
		} as Event;
		const { entry, write } = outboxAddition(event, destination.key);
		await theStore.commit([write]);
		worker.enqueue(entry);
		return entry;
	};
	return { store: theStore, clock, calls, outbox, worker, add };
}

const pending = (calls: Call[], destination = TARGET.key) =>
	calls.filter((call) => call.destination === destination).map((call) => call.username);

describe('a kind with ordered lanes and holds', () => {
	it('sends up to its concurrency at once, strictly in order per order key', async (t) => {
		const { calls, worker, add } = await setup(t);
		await worker.start();
		for (const username of ['alice', 'alice', 'bob', 'bob', 'carol']) await add(username);
		await settle();
		assert.deepEqual(pending(calls), ['alice', 'bob'], 'two lanes at once, one send each');
		calls[0]?.finish(); // alice's first
		await settle();
		assert.deepEqual(pending(calls), ['alice', 'bob', 'alice'], "alice's second only after her first");
		calls[1]?.finish(); // bob's first
		await settle();
		assert.deepEqual(pending(calls), ['alice', 'bob', 'alice', 'bob']);
		calls[2]?.finish();
		calls[3]?.finish();
		await settle();
		assert.equal(pending(calls).at(-1), 'carol');
		calls[4]?.finish();
		await settle();
		assert.equal(worker.status().idle, true);
		assert.equal(worker.status().delivered, 5);
	});

	it('a hold stops that destination at the entry, kept across a restart, until resend or skip', async (t) => {
		const store = await openStore('memory://');
		const first = await setup(t, store);
		await first.worker.start();
		await first.add('alice');
		await first.add('alice');
		await settle();
		first.calls[0]?.finish(new DeliveryError('hold', 'the panel answered 409'));
		await settle();
		assert.deepEqual(
			first.worker
				.status()
				.held?.map(({ destination, reason, ids }) => ({ destination, reason, held: ids.length })),
			[{ destination: TARGET.key, reason: 'the panel answered 409', held: 1 }],
		);
		await first.add('dave', OTHER);
		await settle();
		assert.deepEqual(pending(first.calls, OTHER.key), ['dave'], 'another destination is not held up');
		first.calls.at(-1)?.finish();
		await first.clock.advance(600_000);
		assert.deepEqual(pending(first.calls), ['alice'], 'nothing more to the held one, however long');
		await first.worker.stop();

		const second = await setup(t, store);
		await second.worker.start();
		await second.clock.advance(600_000);
		assert.deepEqual(pending(second.calls), [], 'still held after a restart');
		assert.equal(second.worker.status().held?.[0]?.reason, 'the panel answered 409');
		assert.equal(await second.worker.release(TARGET.key, 'resend'), true);
		await settle();
		assert.deepEqual(pending(second.calls), ['alice'], 'the held entry goes again');
		second.calls[0]?.finish();
		await settle();
		assert.deepEqual(pending(second.calls), ['alice', 'alice']);
		second.calls[1]?.finish(new DeliveryError('hold', 'the panel answered 500 after acting'));
		await settle();
		assert.equal(await second.worker.release(TARGET.key, 'skip'), true);
		await settle();
		const failed = await second.outbox.listFailed();
		assert.equal(failed.length, 1, 'a skipped entry is kept with the failed deliveries');
		assert.match(failed[0]?.lastError ?? '', /skipped by staff/);
		assert.equal(second.worker.status().idle, true);
	});

	it('a send found in flight at start is held, never sent again on its own', async (t) => {
		const store = await openStore('memory://');
		const first = await setup(t, store);
		await first.worker.start();
		const entry = await first.add('erin');
		await settle();
		assert.deepEqual(pending(first.calls), ['erin']);
		// The process dies here: the record written before the send is all that is left of it.
		const record = await first.outbox.getBatch(`${TARGET.key}/erin`);
		assert.deepEqual(record?.ids, [entry.event.id], 'recorded in flight before it was sent');

		const second = await setup(t, store);
		await second.worker.start();
		await second.clock.advance(600_000);
		assert.deepEqual(pending(second.calls), []);
		assert.match(second.worker.status().held?.[0]?.reason ?? '', /being sent when delivery stopped/);
	});
});
