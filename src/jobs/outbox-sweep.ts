import { every, type Job } from './job.js';

/**
 * The delivering instance re-reads the whole outbox now and then, to pick up entries it did not write:
 * replays by `npm run alerts`, callbacks taken by receiver-only instances (DELIVERY=off).
 */
export function createOutboxSweepJob({
	worker,
	everyMs,
}: {
	worker: { sweep(): Promise<void> };
	everyMs: number;
}): Job {
	return {
		name: 'outbox sweep',
		leaderOnly: true,
		next: every(everyMs),
		run: () => worker.sweep(),
	};
}
