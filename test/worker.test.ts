import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { DeliveryError } from '../src/delivery/errors.js';
import type { OutgoingMessage } from '../src/delivery/senders.js';
import { openStore } from '../src/state/store.js';
import { deliveryHarness, eventIds } from './helpers.js';

/** How the worker reacts to each kind of failure, on a memory store with a scripted sender. */

async function setup(t: TestContext, script: (message: OutgoingMessage) => void, pauseMs = 60_000) {
	const store = await openStore('memory://');
	const { worker, outbox, sent, attempts, ingest } = deliveryHarness(store, script, {
		retrySchedule: [5],
		pauseMs,
	});
	await worker.start();
	t.after(() => worker.stop());
	const idsOf = eventIds;
	/** Accepts `count` callbacks while the sender is held back, so they form a backlog. */
	const backlog = async (count: number, name: string) => {
		const ids: string[] = [];
		for (let i = 0; i < count; i++) {
			ids.push((await ingest({ provider: 'mofh', kind: 'account.activated', username: `${name}${i}` })).id);
		}
		return ids;
	};
	return { worker, outbox, sent, attempts, idsOf, backlog };
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 3000) {
	const deadline = Date.now() + timeoutMs;
	while (!(await condition())) {
		assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
}

describe('delivery worker', () => {
	it('sends a backlog in messages of at most ten embeds, in order', async (t) => {
		let hold = true;
		const { sent, idsOf, backlog, worker } = await setup(t, () => {
			if (hold) throw new DeliveryError('retry', 'Discord 503');
		});
		const ids = await backlog(25, 'host_b');
		hold = false;
		await worker.idle();
		assert.deepEqual(idsOf(sent), ids, 'every alert once, in the order received');
		assert.ok(sent.every((message) => message.embeds.length <= 10));
		assert.ok(sent.some((message) => message.embeds.length === 10));
	});

	it('re-sends a batch Discord refused (400) one alert per message, and dead-letters only the bad one', async (t) => {
		let hold = true;
		let bad = '';
		const { sent, idsOf, backlog, worker, outbox } = await setup(t, (message) => {
			if (hold) throw new DeliveryError('retry', 'Discord 503');
			if (message.embeds.length > 1) throw new DeliveryError('reject', 'Discord 400 (code 50035)');
			if (idsOf([message])[0] === bad) throw new DeliveryError('reject', 'Discord 400 (code 50035)');
		});
		const ids = await backlog(4, 'host_r');
		bad = ids[2] as string;
		hold = false;
		await until(
			async () => (await outbox.listFailed()).length === 1 && idsOf(sent).length === 3,
			'the split finished',
		);
		await worker.idle();
		assert.deepEqual(
			idsOf(sent),
			ids.filter((id) => id !== bad),
		);
		assert.ok(sent.every((message) => message.embeds.length === 1));
		const [failed] = await outbox.listFailed();
		assert.equal(failed?.event.id, bad);
		assert.match(failed?.lastError ?? '', /Discord 400/);
	});

	it('pauses a destination answering 403, keeps its alerts, and resumes after the pause', async (t) => {
		let forbidden = true;
		const { sent, attempts, idsOf, backlog, worker } = await setup(
			t,
			() => {
				if (forbidden) throw new DeliveryError('pause', 'Discord 403 (code 50001): Missing Access');
			},
			150,
		);
		const ids = await backlog(3, 'host_p');
		await until(() => worker.status().paused.length === 1, 'the destination is paused');
		assert.match(worker.status().paused[0]?.reason ?? '', /403/);
		await new Promise((resolve) => setTimeout(resolve, 60));
		assert.equal(attempts.length, 1, 'a paused destination is not hammered');
		forbidden = false;
		await worker.idle();
		assert.deepEqual(idsOf(sent), ids);
		assert.equal(worker.status().paused.length, 0);
	});

	it('halts bot delivery on 401 and keeps everything pending', async (t) => {
		const { attempts, backlog, worker, outbox } = await setup(t, () => {
			throw new DeliveryError('halt', 'Discord 401');
		});
		await backlog(3, 'host_h');
		await until(() => worker.status().halted !== undefined, 'delivery halted');
		await new Promise((resolve) => setTimeout(resolve, 50));
		assert.equal(attempts.length, 1, 'one request, then silence');
		assert.equal((await outbox.pending()).length, 3);
	});
});
