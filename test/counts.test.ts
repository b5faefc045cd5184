import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event } from '../src/events/event.js';
import { countAddition, countsOf, hourKey, readCounts, sumCounts } from '../src/state/counts.js';
import { openStore } from '../src/store/store.js';
import { deferrer, privateStore, STORE_KINDS, unavailable } from './stores.js';

/**
 * Counts that last: each event adds to its hour's record in its own unit, and additions from any number
 * of concurrent units and instances on one store all count.
 */

const at = Date.UTC(2026, 11, 2, 9, 30);
const suspended = (id: string, code: string, receivedAt = at) =>
	({
		id,
		provider: 'mofh',
		receivedAt,
		kind: 'account.suspended',
		username: `host_${id}`,
		reason: { raw: code, code, category: code === 'DAILY_IO' ? 'temporary' : 'permanent' },
	}) as Event;

describe('per-hour counts', () => {
	it('count an event by kind, category and a bounded reason', () => {
		assert.deepEqual(countsOf(suspended('a', 'PHISHING')), {
			'k:account.suspended': 1,
			'c:permanent': 1,
			'r:PHISHING': 1,
		});
		assert.equal(countsOf(suspended('b', 'SOMEONE_TYPED_THIS')).r, undefined);
		assert.equal(countsOf(suspended('b', 'SOMEONE_TYPED_THIS'))['r:OTHER'], 1);
		assert.equal(hourKey(at), '2026-12-02T09');
	});

	for (const kind of STORE_KINDS)
		it(`on ${kind}: concurrent units from two instances all count, with the unit's other writes`, async (t) => {
			const reason = unavailable(kind);
			if (reason) return t.skip(reason);
			const defer = deferrer(t);
			const { url, drop } = privateStore(kind);
			defer(drop);
			const first = await openStore(url);
			defer(() => first.close());
			// A second instance: its own connection to the same store (memory lives in one process: the same).
			const second = kind === 'memory' ? first : await openStore(url);
			if (second !== first) defer(() => second.close());
			const events = Array.from({ length: 60 }, (_, i) =>
				suspended(`e${i}`, i % 3 === 0 ? 'DAILY_IO' : 'PHISHING', at + (i % 2) * 3_600_000),
			);
			const results = await Promise.all(
				events.map((event, i) =>
					(i % 2 ? second : first).commit([
						{ collection: 'outbox', key: event.id, value: { event } },
						countAddition(event),
					]),
				),
			);
			assert.ok(results.every(Boolean));
			const hours = await readCounts(first, at - 3_600_000, at + 2 * 3_600_000);
			assert.deepEqual(
				hours.map(({ hour }) => hourKey(hour)),
				['2026-12-02T09', '2026-12-02T10'],
			);
			const total = sumCounts(hours);
			assert.equal(total['k:account.suspended'], 60);
			assert.equal(total['r:DAILY_IO'], 20);
			assert.equal(total['r:PHISHING'], 40);
			assert.equal(total['c:temporary'], 20);
			assert.equal(hours[0]?.counts['k:account.suspended'], 30);
			assert.equal((await first.outbox.get('e59')) !== undefined, true, 'the unit wrote its other changes');
		});
});
