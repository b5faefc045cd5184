import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Event } from '../src/events/event.js';
import { newEventId } from '../src/events/id.js';
import { KeyedLock } from '../src/state/keyed-lock.js';
import type { AccountState } from '../src/state/projections.js';
import { createProjector } from '../src/state/projector.js';
import { openStore, type Store } from '../src/store/store.js';
import { deferrer, privateStore, unavailable } from './stores.js';

/**
 * Two instances on one Redis or PostgreSQL store, each with its own per-process lock, project events for
 * the same account at the same moment (MOFH sends an activation and its SQL cluster together, and a load
 * balancer can hand them to different instances). Neither change may be lost: the instance that commits
 * second finds the record changed, reads it again and applies its event to the new state.
 */

const event = (username: string, kind: 'account.activated' | 'account.sql_cluster'): Event => {
	const receivedAt = Date.now();
	const base = { provider: 'mofh', username, id: newEventId(receivedAt), receivedAt } as const;
	return (kind === 'account.activated'
		? { ...base, kind, comments: 'GENERIC ACTIVATION' }
		: { ...base, kind, cluster: 'sql101' }) as unknown as Event;
};

/**
 * Runs `first` on instance one up to its commit, lets `second` run whole on instance two, then lets the
 * first commit go on: the interleaving that loses an update without a check in the store.
 */
async function interleave(one: Store, two: Store, username: string, first: Event, second: Event) {
	const commit = one.commit;
	let release!: () => void;
	const released = new Promise<void>((resolve) => {
		release = resolve;
	});
	let reachedCommit!: () => void;
	const atCommit = new Promise<void>((resolve) => {
		reachedCommit = resolve;
	});
	let held = false;
	one.commit = async (changes, fence) => {
		if (!held) {
			held = true;
			reachedCommit();
			await released;
		}
		return commit(changes, fence);
	};
	const projectOne = createProjector(one, new KeyedLock());
	const projectTwo = createProjector(two, new KeyedLock());
	const running = projectOne(first);
	await atCommit;
	await projectTwo(second);
	release();
	await running;
	one.commit = commit;
	return (await two.accounts.get(username)) as AccountState;
}

for (const kind of ['redis', 'postgres'] as const) {
	describe(`account projections from two instances on ${kind}`, { skip: unavailable(kind) ?? false }, () => {
		it('neither of two simultaneous changes to one account is lost, new or known', async (t) => {
			const defer = deferrer(t);
			const { url, drop } = privateStore(kind);
			defer(drop);
			const one = await openStore(url);
			defer(() => one.close());
			const two = await openStore(url);
			defer(() => two.close());

			// A new account: both instances read "absent".
			const activation = event('shared_a', 'account.activated');
			const cluster = event('shared_a', 'account.sql_cluster');
			const created = await interleave(one, two, 'shared_a', activation, cluster);
			assert.deepEqual(
				created.history.map((entry) => entry.id).sort(),
				[activation.id, cluster.id].sort(),
				'both events are in the history',
			);
			assert.equal(created.status, 'active');

			// A known account: both instances read the same stored state.
			const again = event('shared_a', 'account.activated');
			const moved = event('shared_a', 'account.sql_cluster');
			const known = await interleave(one, two, 'shared_a', again, moved);
			assert.deepEqual(
				known.history.map((entry) => entry.id).sort(),
				[activation.id, cluster.id, again.id, moved.id].sort(),
			);
		});
	});
}
