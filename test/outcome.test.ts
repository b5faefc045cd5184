import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryError } from '../src/delivery/errors.js';
import { decide, type Policy } from '../src/delivery/outcome.js';
import type { Event } from '../src/events/event.js';
import type { OutboxEntry } from '../src/state/outbox.js';

/** What a failed send means, decided without a worker, a store or a clock. */

const NOW = Date.parse('2026-12-02T12:00:00Z');
const policy: Policy = {
	now: NOW,
	retrySchedule: [1_000, 10_000, 60_000],
	retryBudget: 3_600_000,
	pauseMs: 600_000,
};

function entry(
	id: string,
	{ attempts = 0, receivedAt = NOW - 1_000, budgetFrom }: Partial<OutboxEntry & { receivedAt: number }> = {},
): OutboxEntry {
	const event = {
		provider: 'mofh',
		kind: 'account.activated',
		username: `host_${id}`,
		id,
		receivedAt,
	} as Event;
	return {
		event,
		destination: 'channel:1',
		attempts,
		notBefore: 0,
		...(budgetFrom !== undefined && { budgetFrom }),
	};
}

describe('decide', () => {
	it('retry: each entry counts its attempts and waits by the schedule, the last step repeating', () => {
		const decision = decide(
			new DeliveryError('retry', 'Discord 503'),
			[entry('a'), entry('b', { attempts: 5 })],
			policy,
		);
		assert.deepEqual(decision, {
			retry: [
				{ id: 'a', attempts: 1, notBefore: NOW + 1_000, lastError: 'Discord 503' },
				{ id: 'b', attempts: 6, notBefore: NOW + 60_000, lastError: 'Discord 503' },
			],
			dropRecord: false,
		});
	});

	it('retry: a longer Retry-After wins over the schedule', () => {
		const { retry } = decide(new DeliveryError('retry', 'rate limited', 30_000), [entry('a')], policy);
		assert.equal(retry[0]?.notBefore, NOW + 30_000);
	});

	it('retry: an entry past its budget is dead-lettered, the rest retried, and the record dropped', () => {
		const old = entry('old', { receivedAt: NOW - 3_600_000 });
		const replayed = entry('replayed', { receivedAt: NOW - 7_200_000, budgetFrom: NOW - 60_000 });
		const decision = decide(new DeliveryError('retry', 'network: reset'), [old, replayed], policy);
		assert.deepEqual(decision.deadLetter, { ids: ['old'], reason: 'retry budget spent: network: reset' });
		assert.deepEqual(
			decision.retry.map((retry) => retry.id),
			['replayed'],
			'a replay counts its budget from the replay',
		);
		assert.equal(decision.dropRecord, true);
	});

	it('retry forever: an infinite budget never dead-letters', () => {
		const ancient = entry('a', { receivedAt: 0, attempts: 10_000 });
		const decision = decide(new DeliveryError('retry', 'HTTP 502'), [ancient], {
			...policy,
			retryBudget: Infinity,
		});
		assert.equal(decision.deadLetter, undefined);
		assert.equal(decision.retry[0]?.attempts, 10_001);
	});

	it('reject: a batch is split into single messages; a single entry is dead-lettered', () => {
		const refused = new DeliveryError('reject', 'Discord 400 (code 50035)');
		assert.deepEqual(decide(refused, [entry('a'), entry('b')], policy), {
			retry: [],
			alone: ['a', 'b'],
			dropRecord: true,
		});
		assert.deepEqual(decide(refused, [entry('a')], policy), {
			retry: [],
			deadLetter: { ids: ['a'], reason: 'Discord 400 (code 50035)' },
			dropRecord: true,
		});
	});

	it('pause, hold and halt keep the record and every entry as they are', () => {
		assert.deepEqual(decide(new DeliveryError('pause', 'Discord 403'), [entry('a')], policy), {
			retry: [],
			dropRecord: false,
			pause: { until: NOW + 600_000, reason: 'Discord 403' },
		});
		assert.deepEqual(decide(new DeliveryError('hold', 'panel answered 409'), [entry('a')], policy), {
			retry: [],
			dropRecord: false,
			hold: 'panel answered 409',
		});
		assert.deepEqual(decide(new DeliveryError('halt', 'Discord 401'), [entry('a')], policy), {
			retry: [],
			dropRecord: false,
			halt: 'Discord 401',
		});
	});
});
