import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import type { Job } from './job.js';

/** One job's timer and run in flight, while the runner runs it. */
interface Scheduled {
	cancel?: () => void;
	run?: Promise<void>;
	controller: AbortController;
}

/**
 * Runs jobs on the process's one clock: every instance's from `start()`, leader-only ones between
 * `startLeading()` and `stopLeading()`. Each job runs at `next(end of its last run)`, never twice at
 * once; a run that throws is logged and the job runs again at its next time.
 */
export function createJobRunner({
	jobs,
	clock,
	log,
}: {
	jobs: readonly Job[];
	clock: Clock;
	log: FastifyBaseLogger;
}) {
	const active = new Map<Job, Scheduled>();

	function schedule(job: Job, scheduled: Scheduled): void {
		if (active.get(job) !== scheduled) return;
		const at = job.next(clock.now());
		scheduled.cancel = clock.after(at - clock.now(), () => {
			delete scheduled.cancel;
			scheduled.run = runOnce(job, scheduled).finally(() => {
				delete scheduled.run;
				schedule(job, scheduled);
			});
		});
	}

	async function runOnce(job: Job, scheduled: Scheduled): Promise<void> {
		try {
			await job.run(scheduled.controller.signal);
		} catch (error) {
			if (!scheduled.controller.signal.aborted)
				log.warn({ err: error, job: job.name }, `job ${job.name} failed; it runs again at its next time`);
		}
	}

	function begin(selected: readonly Job[]): void {
		for (const job of selected) {
			if (active.has(job)) continue;
			const scheduled: Scheduled = { controller: new AbortController() };
			active.set(job, scheduled);
			schedule(job, scheduled);
		}
	}

	async function end(selected: readonly Job[]): Promise<void> {
		const runs: Promise<void>[] = [];
		for (const job of selected) {
			const scheduled = active.get(job);
			if (!scheduled) continue;
			active.delete(job);
			scheduled.cancel?.();
			scheduled.controller.abort();
			if (scheduled.run) runs.push(scheduled.run);
		}
		await Promise.allSettled(runs);
	}

	const everyInstance = jobs.filter((job) => !job.leaderOnly);
	const leaderOnly = jobs.filter((job) => job.leaderOnly);
	return {
		/** Starts the jobs every instance runs. */
		start: () => begin(everyInstance),
		/** This instance now leads: starts the leader-only jobs. */
		startLeading: () => begin(leaderOnly),
		/** This instance no longer leads: stops the leader-only jobs, after a run in flight ends. */
		stopLeading: () => end(leaderOnly),
		/** Stops every job, after the runs in flight end. */
		stop: () => end(jobs),
	};
}

export type JobRunner = ReturnType<typeof createJobRunner>;
