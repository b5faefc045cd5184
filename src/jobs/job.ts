/**
 * Scheduled work: one file per job (`createXJob(deps): Job`, deps from the factory's closure) and one
 * line in index.ts. The runner (runner.ts) runs it on the process's one clock; a run that throws is
 * logged and the job runs again at its next time.
 */
export interface Job {
	name: string;
	/** true: runs only while this instance leads (started when elected, stopped when deposed). */
	leaderOnly: boolean;
	/** Epoch ms of the next run after `fromMs` (a fixed interval or a cron schedule). */
	next(fromMs: number): number;
	/** One run. `signal` aborts when the runner stops (shutdown, or the end of a leadership term). */
	run(signal: AbortSignal): Promise<void>;
}

/** `next` for a job that runs every `ms`, counted from the end of the last run. */
export const every =
	(ms: number) =>
	(fromMs: number): number =>
		fromMs + ms;
