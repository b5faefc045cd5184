import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { every, type Job } from '../src/jobs/job.js';
import { createJobRunner } from '../src/jobs/runner.js';
import { ManualClock, settle } from './clock.js';
import { silent } from './helpers.js';

/** A job that records when it ran, on the manual clock; `fail` makes its runs throw. */
function recording(clock: ManualClock, name: string, leaderOnly: boolean, everyMs: number, fail = false) {
	const runs: number[] = [];
	const job: Job = {
		name,
		leaderOnly,
		next: every(everyMs),
		async run() {
			runs.push(clock.now());
			if (fail) throw new Error('boom');
		},
	};
	return { job, runs };
}

describe('the job runner', () => {
	it('runs every-instance jobs at their next time, on the one clock', async () => {
		const clock = new ManualClock();
		const start = clock.now();
		const prune = recording(clock, 'prune', false, 60_000);
		const runner = createJobRunner({ jobs: [prune.job], clock, log: silent });
		runner.start();
		await clock.advance(59_999);
		assert.deepEqual(prune.runs, [], 'not before its time');
		await clock.advance(1);
		await clock.advance(60_000);
		assert.deepEqual(prune.runs, [start + 60_000, start + 120_000]);
		await runner.stop();
		await clock.advance(600_000);
		assert.equal(prune.runs.length, 2, 'nothing after stop');
	});

	it('runs leader-only jobs only between startLeading and stopLeading', async () => {
		const clock = new ManualClock();
		const sweep = recording(clock, 'sweep', true, 1_000);
		const runner = createJobRunner({ jobs: [sweep.job], clock, log: silent });
		runner.start();
		await clock.advance(5_000);
		assert.equal(sweep.runs.length, 0, 'a follower does not run it');
		runner.startLeading();
		await clock.advance(3_000);
		assert.equal(sweep.runs.length, 3);
		await runner.stopLeading();
		await clock.advance(5_000);
		assert.equal(sweep.runs.length, 3, 'deposed: it stops');
		runner.startLeading();
		await clock.advance(1_000);
		assert.equal(sweep.runs.length, 4, 'elected again: it runs again');
		await runner.stop();
	});

	it('a job that throws is logged and runs again at its next time', async () => {
		const clock = new ManualClock();
		const warnings: string[] = [];
		const log = {
			...silent,
			warn: (_: unknown, message: string) => warnings.push(message),
		} as unknown as typeof silent;
		const flaky = recording(clock, 'flaky', false, 1_000, true);
		const runner = createJobRunner({ jobs: [flaky.job], clock, log });
		runner.start();
		await clock.advance(3_000);
		assert.equal(flaky.runs.length, 3);
		assert.deepEqual(warnings, Array(3).fill('job flaky failed; it runs again at its next time'));
		await runner.stop();
	});

	it('stop waits for a run in flight and aborts its signal', async () => {
		const clock = new ManualClock();
		let aborted = false;
		let finish: () => void = () => {};
		const slow: Job = {
			name: 'slow',
			leaderOnly: false,
			next: every(1_000),
			run: (signal) =>
				new Promise<void>((resolve) => {
					signal.addEventListener('abort', () => {
						aborted = true;
					});
					finish = resolve;
				}),
		};
		const runner = createJobRunner({ jobs: [slow], clock, log: silent });
		runner.start();
		await clock.advance(1_000);
		let stopped = false;
		const stopping = runner.stop().then(() => {
			stopped = true;
		});
		await settle();
		assert.equal(aborted, true);
		assert.equal(stopped, false, 'the run in flight is waited for');
		finish();
		await stopping;
		assert.equal(stopped, true);
	});
});
