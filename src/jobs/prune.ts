import { pruneExpired, type Store } from '../store/store.js';
import { every, type Job } from './job.js';

/**
 * What expires (fingerprints of past callbacks after the providers' retry windows, confirmations staff
 * never pressed) stays in SQL tables until read: an hourly sweep removes it. Every instance runs it.
 */
export function createPruneJob({ store }: { store: Pick<Store, 'seen' | 'actions'> }): Job {
	return {
		name: 'prune expired entries',
		leaderOnly: false,
		next: every(3_600_000),
		async run() {
			// Each collection on its own: one that fails does not keep the other from being pruned.
			const results = await Promise.allSettled([pruneExpired(store.seen), pruneExpired(store.actions)]);
			const failed = results.find((result) => result.status === 'rejected');
			if (failed) throw failed.reason;
		},
	};
}
