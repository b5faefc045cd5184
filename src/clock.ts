/**
 * The one clock of a process: `now` for times, `after` for timers. Tests pass a manual clock, so
 * backoffs, pauses, pacing and scheduled jobs become steps a test takes instead of time it sleeps.
 */

/** Schedules `run` after `ms` of the clock; returns how to cancel it. */
export type After = (ms: number, run: () => void) => () => void;

export interface Clock {
	now: () => number;
	after: After;
}

/** Real timers that never keep the process alive on their own. */
export const realAfter: After = (ms, run) => {
	const timer = setTimeout(run, Math.min(Math.max(0, ms), 2 ** 31 - 1));
	timer.unref();
	return () => clearTimeout(timer);
};
