import type { FastifyBaseLogger } from 'fastify';
import type { Ingest } from '../state/ingest.js';
import type { Store } from '../store/store.js';
import { every, type Job } from './job.js';

/**
 * A staff action confirmed on a process that stopped before storing its audit event still gets one.
 * Every instance with commands runs it; it is safe on several at once (see recordInterruptedActions).
 */
export function createInterruptedActionsJob(deps: {
	store: Pick<Store, 'keys' | 'actions' | 'seen' | 'claim'>;
	ingest: Ingest;
	now: () => number;
	log: FastifyBaseLogger;
}): Job {
	return {
		name: 'interrupted staff actions',
		leaderOnly: false,
		next: every(60_000),
		async run() {
			// The commands load only in a process Discord can reach; this job exists only there.
			const { recordInterruptedActions } = await import('../../commands/account-actions.js');
			const count = await recordInterruptedActions(deps, deps.now);
			if (count > 0) deps.log.warn(`recorded the audit event of ${count} staff action(s) cut off by a stop`);
		},
	};
}
