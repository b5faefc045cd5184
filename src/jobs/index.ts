import type { FastifyBaseLogger } from 'fastify';
import type { Ingest } from '../state/ingest.js';
import type { Store } from '../store/store.js';
import { createInterruptedActionsJob } from './interrupted-actions.js';
import type { Job } from './job.js';
import { createOutboxSweepJob } from './outbox-sweep.js';
import { createPruneJob } from './prune.js';
import { createReportJob, type ReportJobDeps } from './report.js';

export interface JobDeps {
	store: Store;
	ingest: Ingest;
	/** The delivery worker (its current leadership term's). */
	worker: { sweep(): Promise<void> };
	/** How often the leader re-reads the whole outbox (OUTBOX_SWEEP). */
	sweepMs: number;
	/** Whether this process loaded the slash commands (a bot token or an interactions key). */
	commands: boolean;
	now: () => number;
	log: FastifyBaseLogger;
	/** The forwarding leader's look at its targets (forward-watch.ts), when there are forward targets. */
	forwardWatch?: Job;
	/** The periodic report, when REPORT_SCHEDULE is set. */
	report?: ReportJobDeps | undefined;
}

/** Every scheduled job of a process, one line each. */
export function createJobs(deps: JobDeps): Job[] {
	return [
		createPruneJob(deps),
		createOutboxSweepJob({ worker: deps.worker, everyMs: deps.sweepMs }),
		...(deps.commands ? [createInterruptedActionsJob(deps)] : []),
		...(deps.forwardWatch ? [deps.forwardWatch] : []),
		...(deps.report ? [createReportJob(deps.report)] : []),
	];
}
