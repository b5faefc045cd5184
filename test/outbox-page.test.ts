import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event } from '../src/events/event.js';
import { newEventId } from '../src/events/id.js';
import { createOutbox, type OutboxEntry, outboxAddition } from '../src/state/outbox.js';
import { deferrer, STORE_KINDS, storeFor } from './stores.js';

/**
 * The delivery worker refills a destination's page with `outbox.page(room, { after, where })`: the
 * oldest entries after the last one it holds, for that destination. Stores that keep keys in order read
 * from there on, in pages of their own; the answer must be the one a full read of the outbox gives.
 */
const DESTINATION = 'channel:100000000000000001';

describe("the outbox's next page", () => {
	for (const kind of STORE_KINDS) {
		it(`is the oldest matching entries after the given id, across the store's own pages (${kind})`, async (t) => {
			const defer = deferrer(t);
			const store = await storeFor(kind, t, defer);
			if (!store) return;
			const start = Date.UTC(2026, 10, 25);
			const events: Event[] = Array.from({ length: 1_300 }, (_, i) => ({
				provider: 'mofh',
				kind: 'account.activated',
				username: `host_${i}`,
				id: newEventId(start + i),
				receivedAt: start + i,
			}));
			// Stored out of order, in a few units, as callbacks from several connections would be.
			const shuffled = events.map((_, i) => events[(i * 7_919) % events.length] as Event);
			for (let i = 0; i < shuffled.length; i += 100)
				assert.ok(
					await store.commit(
						shuffled.slice(i, i + 100).map((event) => outboxAddition(event, DESTINATION).write),
					),
				);
			const outbox = createOutbox(store);
			const ids = events.map((event) => event.id);
			const sparse = (entry: OutboxEntry) => (entry.event.receivedAt - start) % 97 === 0;

			const ofPage = (page: OutboxEntry[]) => page.map((entry) => entry.event.id);
			assert.deepEqual(ofPage(await outbox.page(DESTINATION, 10)), ids.slice(0, 10));
			assert.deepEqual(
				ofPage(await outbox.page(DESTINATION, 25, { after: ids[600] as string })),
				ids.slice(601, 626),
			);
			// Matching entries 97 apart: the answer spans more than one of the store's pages of 500 rows.
			assert.deepEqual(
				ofPage(await outbox.page(DESTINATION, 8, { after: ids[100] as string, where: sparse })),
				ids.filter((_, i) => i > 100 && i % 97 === 0).slice(0, 8),
			);
			assert.deepEqual(
				ofPage(await outbox.page(DESTINATION, 50, { after: ids[1_290] as string })),
				ids.slice(1_291),
			);
			assert.deepEqual(await outbox.page(DESTINATION, 5, { after: ids[1_299] as string }), []);
		});
	}
});
