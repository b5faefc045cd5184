import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { DeliveryError } from '../src/delivery/errors.js';
import type { OutgoingMessage } from '../src/delivery/message.js';
import { openStore } from '../src/store/store.js';
import { ManualClock } from './clock.js';
import { deliveryHarness, eventIds, type HarnessOptions, pendingEntries } from './helpers.js';

/**
 * How the worker reacts to each kind of failure, on a memory store with a scripted sender. Time is a
 * manual clock: backoffs, pauses and the channel's pace pass when the test advances it.
 */

type Options = HarnessOptions;

async function setup(t: TestContext, script: (message: OutgoingMessage) => void, options: Options = {}) {
	const store = await openStore('memory://');
	const clock = new ManualClock();
	const harness = await deliveryHarness(store, script, {
		retrySchedule: [5_000],
		sweepMs: 15_000,
		now: clock.now,
		after: clock.after,
		...options,
	});
	await harness.worker.start();
	t.after(() => harness.worker.stop());
	/** Accepts `count` callbacks while the sender is held back, so they form a backlog. */
	const backlog = async (count: number, name: string) => {
		const ids: string[] = [];
		for (let i = 0; i < count; i++) {
			ids.push(
				(await harness.ingest({ provider: 'mofh', kind: 'account.activated', username: `${name}${i}` })).id,
			);
		}
		return ids;
	};
	/** Advances the clock a second at a time until `condition` holds (at most `seconds`). */
	const until = async (condition: () => boolean | Promise<boolean>, what: string, seconds = 120) => {
		for (let i = 0; !(await condition()); i++) {
			assert.ok(i < seconds, `not reached within ${seconds} s of clock: ${what}`);
			await clock.advance(1000);
		}
	};
	return { ...harness, clock, backlog, until };
}

describe('delivery worker', () => {
	it('sends a backlog in messages of at most ten embeds, in order', async (t) => {
		let hold = true;
		const { sent, backlog, until, worker } = await setup(t, () => {
			if (hold) throw new DeliveryError('retry', 'Discord 503');
		});
		const ids = await backlog(25, 'host_b');
		hold = false;
		await until(() => worker.status().pending === 0, 'the backlog drained');
		assert.deepEqual(eventIds(sent), ids, 'every alert once, in the order received');
		assert.ok(sent.every((message) => message.embeds.length <= 10));
		assert.ok(sent.some((message) => message.embeds.length === 10));
	});

	it('re-sends a batch Discord refused (400) one alert per message, and dead-letters only the bad one', async (t) => {
		let hold = true;
		let bad = '';
		const { sent, backlog, until, outbox } = await setup(t, (message) => {
			if (hold) throw new DeliveryError('retry', 'Discord 503');
			if (message.embeds.length > 1) throw new DeliveryError('reject', 'Discord 400 (code 50035)');
			if (eventIds([message])[0] === bad) throw new DeliveryError('reject', 'Discord 400 (code 50035)');
		});
		const ids = await backlog(4, 'host_r');
		bad = ids[2] as string;
		hold = false;
		await until(
			async () => (await outbox.listFailed()).length === 1 && eventIds(sent).length === 3,
			'the split finished',
		);
		assert.deepEqual(
			eventIds(sent),
			ids.filter((id) => id !== bad),
		);
		assert.ok(sent.every((message) => message.embeds.length === 1));
		const [failed] = await outbox.listFailed();
		assert.equal(failed?.event.id, bad);
		assert.match(failed?.lastError ?? '', /Discord 400/);
	});

	it('pauses a destination answering 403, keeps its alerts, and resumes after the pause', async (t) => {
		let forbidden = true;
		const { sent, attempts, backlog, worker, clock, until } = await setup(
			t,
			() => {
				if (forbidden) throw new DeliveryError('pause', 'Discord 403 (code 50001): Missing Access');
			},
			{ pauseMs: 60_000 },
		);
		const ids = await backlog(3, 'host_p');
		assert.equal(worker.status().paused.length, 1, 'paused at the first 403');
		assert.match(worker.status().paused[0]?.reason ?? '', /403/);
		await clock.advance(59_000);
		assert.equal(attempts.length, 1, 'a paused destination is not hammered');
		forbidden = false;
		await until(() => worker.status().pending === 0, 'resumed after the pause');
		assert.deepEqual(eventIds(sent), ids);
		assert.equal(worker.status().paused.length, 0);
	});

	it('halts bot delivery on 401 and keeps everything pending', async (t) => {
		const { attempts, backlog, worker, outbox, clock } = await setup(t, () => {
			throw new DeliveryError('halt', 'Discord 401');
		});
		await backlog(3, 'host_h');
		assert.ok(worker.status().halted, 'delivery halted');
		assert.equal(
			worker.status().inOutbox,
			3,
			'the backlog counts what memory holds before the next full read',
		);
		await clock.advance(600_000);
		assert.equal(worker.status().inOutbox, 3, 'and what the sweeps read');
		assert.equal(attempts.length, 1, 'one request, then silence');
		assert.equal((await pendingEntries(outbox)).length, 3);
	});

	it('never sends a destination more than its rate, whatever the backlog', async (t) => {
		const times: number[] = [];
		const { backlog, until, worker, clock } = await setup(t, () => void times.push(clock.now()), {
			rate: { messages: 5, perMs: 5_000 },
			digestThreshold: 1_000,
		});
		// One at a time, as callbacks arrive: each leaves at once while the channel has room.
		await backlog(80, 'host_rate');
		await until(() => worker.status().pending === 0, 'drained');
		assert.ok(times.length > 5);
		for (let i = 5; i < times.length; i++)
			assert.ok((times[i] as number) - (times[i - 5] as number) >= 5_000, `message ${i} kept the pace`);
	});
});

describe('outbox paging', () => {
	it('delivers a backlog larger than the page completely and in order, holding at most a page', async (t) => {
		const store = await openStore('memory://');
		const clock = new ManualClock();
		const options = { now: clock.now, after: clock.after, rate: { messages: 1000, perMs: 1000 } };
		// Accepted while no worker delivers (a receiver-only instance, or before a restart).
		const receiver = await deliveryHarness(store, () => {}, options);
		const ids: string[] = [];
		for (let i = 0; i < 57; i++)
			ids.push(
				(await receiver.ingest({ provider: 'mofh', kind: 'account.activated', username: `host_pg${i}` })).id,
			);
		let held = 0;
		const harness = await deliveryHarness(
			store,
			() => {
				held = Math.max(held, harness.worker.status().pending);
			},
			{ ...options, pageSize: 8, digestThreshold: 1_000 },
		);
		await harness.worker.start();
		t.after(() => harness.worker.stop());
		held = Math.max(held, harness.worker.status().pending);
		assert.equal(
			harness.worker.status().inOutbox,
			57,
			'the whole backlog is counted, not only the page held',
		);
		// Arrivals while the page drains land in the store and come in with a later page.
		for (let i = 0; i < 5; i++)
			ids.push(
				(await harness.ingest({ provider: 'mofh', kind: 'account.activated', username: `host_live${i}` })).id,
			);
		for (let i = 0; harness.ids().length < ids.length; i++) {
			assert.ok(i < 200, `delivered ${harness.ids().length} of ${ids.length}`);
			await clock.advance(1000);
		}
		await clock.advance(60_000); // sweeps and refills: nothing comes again
		assert.deepEqual(harness.ids(), ids, 'everything once, in the order received');
		assert.ok(held <= 8, `at most a page in memory (held ${held})`);
		assert.equal((await pendingEntries(harness.outbox)).length, 0);
	});
});
