import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Destination } from '../src/delivery/kind.js';
import type { Event } from '../src/events/event.js';
import { createReportJob, type ReportMessage } from '../src/jobs/report.js';
import { createJobRunner } from '../src/jobs/runner.js';
import { cronProblem, nextRun, previousRun } from '../src/schedule/cron.js';
import { composeServices } from '../src/service.js';
import { countAddition } from '../src/state/counts.js';
import { openStore, type Store } from '../src/store/store.js';
import { ManualClock, settle } from './clock.js';
import { silent, testConfig } from './helpers.js';
import { until } from './poll.js';
import { deferrer, privateStore, STORE_KINDS, unavailable } from './stores.js';

const OPS: Destination = { kind: 'channel', key: 'channel:900000000000000001' };
const HOUR = 3_600_000;

/**
 * A channel as Discord keeps it: a message whose nonce it saw lately is not posted again (enforce_nonce).
 * `lose` drops the answer of the next attempts after posting (the caller sees a failure, the post stands).
 */
function channel() {
	const attempts: ReportMessage[] = [];
	const posts: ReportMessage[] = [];
	let lose = 0;
	return {
		attempts,
		posts,
		loseNextAnswers(n: number) {
			lose = n;
		},
		async send(_destination: Destination, message: ReportMessage) {
			attempts.push(message);
			if (!posts.some((post) => post.nonce === message.nonce)) posts.push(message);
			if (lose > 0) {
				lose--;
				throw new Error('socket hang up after the request was written');
			}
		},
	};
}

function suspended(id: string, receivedAt: number): Event {
	return {
		id,
		provider: 'mofh',
		receivedAt,
		kind: 'account.suspended',
		username: `host_${id}`,
		reason: { raw: 'PHISHING', code: 'PHISHING', category: 'permanent' },
	} as Event;
}

/** Runs in flight, over every instance: the clock moves on only once they are done (real store I/O). */
let inFlight = 0;

/** Moves the clock to `ms` from now, a check at a time, letting each run finish on the real store. */
async function step(clock: ManualClock, ms: number, checkMs = HOUR): Promise<void> {
	const target = clock.now() + ms;
	do {
		await clock.advance(Math.min(checkMs, target - clock.now()));
		await until(() => inFlight === 0, 'report runs to finish');
		await settle(5);
		await until(() => inFlight === 0, 'report runs to finish');
	} while (clock.now() < target);
}

/** An instance's report job and its runner, leading, on `store` and the shared clock. */
function instance(store: Store, clock: ManualClock, ops: ReturnType<typeof channel>) {
	const made = createReportJob({
		store,
		schedule: '0 9 * * *',
		timeZone: 'Europe/Berlin',
		now: clock.now,
		destinations: () => [OPS],
		send: ops.send,
		health: async () => ({ backlog: 0, oldestAgeSeconds: 0, deadLetters: 0, paused: [] }),
		log: silent,
		checkMs: HOUR,
	});
	const job = {
		...made,
		async run(signal: AbortSignal) {
			inFlight++;
			try {
				await made.run(signal);
			} finally {
				inFlight--;
			}
		},
	};
	const runner = createJobRunner({ jobs: [job], clock, log: silent });
	runner.startLeading();
	return runner;
}

describe('REPORT_SCHEDULE', () => {
	it('reads 5-field cron in the report time zone, daylight-saving changes included', () => {
		assert.equal(cronProblem('0 9 * * 1'), undefined);
		assert.match(cronProblem('0 0 9 * * 1') ?? '', /5 fields/);
		assert.match(cronProblem('61 * * * *') ?? '', /not a valid cron/);
		// 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer (the change: Sunday 29 March 2026).
		const saturday = Date.UTC(2026, 2, 28, 12);
		assert.equal(
			new Date(nextRun('0 9 * * *', 'Europe/Berlin', saturday)).toISOString(),
			'2026-03-29T07:00:00.000Z',
		);
		assert.equal(
			new Date(previousRun('0 9 * * *', 'Europe/Berlin', saturday)).toISOString(),
			'2026-03-28T08:00:00.000Z',
		);
		const at = Date.UTC(2026, 2, 28, 8);
		assert.equal(previousRun('0 9 * * *', 'Europe/Berlin', at), at, 'a scheduled time is its own latest');
	});
});

describe('the periodic report', () => {
	for (const kind of STORE_KINDS)
		it(`on ${kind}: one post per scheduled time from two leading instances, across a restart and a lost answer`, async (t) => {
			const reason = unavailable(kind);
			if (reason) return t.skip(reason);
			const defer = deferrer(t);
			const { url, drop } = privateStore(kind);
			defer(drop);
			const first = await openStore(url);
			defer(() => first.close());
			// Redis and PostgreSQL: a connection each, as two processes have. Memory and SQLite belong to one.
			const second = kind === 'redis' || kind === 'postgres' ? await openStore(url) : first;
			if (second !== first) defer(() => second.close());

			const clock = new ManualClock(Date.UTC(2026, 11, 1, 10)); // Tue 1 Dec, 11:00 in Berlin
			const ops = channel();
			// Both lead at once (the worst case of a handover): the store decides who posts.
			const a = instance(first, clock, ops);
			const b = instance(second, clock, ops);
			defer(() => Promise.all([a.stop(), b.stop()]));
			await step(clock, 0);
			assert.equal(ops.attempts.length, 0, 'the first start owes nothing for the past');

			await first.commit([countAddition(suspended('e1', clock.now() + HOUR))]);
			await step(clock, 22 * HOUR); // Wed 2 Dec 09:00 Berlin
			assert.equal(ops.posts.length, 1, 'one report for Wednesday 09:00');
			assert.equal(ops.attempts.length, 1, 'posted once, not once per instance');
			const [report] = ops.posts;
			assert.match(report?.content ?? '', /1 events/);
			assert.match(report?.embeds[0]?.description ?? '', /\*\*1\*\* Suspensions, permanent · new/);
			assert.match(JSON.stringify(report?.embeds[0]?.fields), /hookcord health/);

			// Thursday: nothing happened, and the first answer is lost after the post went through.
			ops.loseNextAnswers(1);
			await step(clock, 24 * HOUR);
			await step(clock, HOUR); // the next check re-sends the claimed report, unchanged
			assert.equal(ops.posts.length, 2, 'one report for Thursday');
			assert.match(ops.posts[1]?.content ?? '', /all quiet/);
			const thursday = ops.attempts.filter((attempt) => attempt.nonce === ops.posts[1]?.nonce);
			assert.equal(thursday.length, 2, 'sent again with the same nonce after the lost answer');
			await step(clock, 3 * HOUR);
			assert.equal(ops.attempts.length, 3, 'nothing more once the post is confirmed');

			// Every instance stops; Friday and Saturday 09:00 pass with none running; one comes back.
			await Promise.all([a.stop(), b.stop()]);
			await first.commit([countAddition(suspended('e2', clock.now() + 30 * HOUR))]);
			await clock.advance(49 * HOUR); // Sat 5 Dec 11:00 Berlin
			const c = instance(second, clock, ops);
			defer(() => c.stop());
			await step(clock, 0);
			assert.equal(ops.posts.length, 3, 'the missed times become one report, posted once');
			assert.match(ops.posts[2]?.embeds[0]?.title ?? '', /3 Dec, 09:00 – 5 Dec, 09:00/);
			assert.match(ops.posts[2]?.embeds[0]?.description ?? '', /\*\*1\*\* Suspensions, permanent/);
			await step(clock, 2 * HOUR);
			assert.equal(ops.posts.length, 3);
			assert.equal(ops.attempts.length, 4);
		});

	it('goes through the OPS destination of a composed process, text first and an "all quiet" when quiet', async (t) => {
		const clock = new ManualClock(Date.UTC(2026, 11, 1, 10));
		const sent: { destination: string; content: string; nonce: string }[] = [];
		const services = await composeServices(
			testConfig({
				REPORT_SCHEDULE: '30 */6 * * *',
				ALERTS_CHANNEL: 'off',
				ALERTS_CHANNEL_OPS: '900000000000000002',
			}),
			{
				logger: silent,
				gateway: false,
				lease: false,
				send: async (destination, message) => {
					sent.push({ destination: destination.key, content: message.content, nonce: message.nonce });
				},
				now: clock.now,
				after: clock.after,
			},
		);
		t.after(() => services.close());
		await services.worker.start();
		// The store is in memory: each minute's check finishes within a few turns.
		for (let minute = 0; minute <= 150; minute++) {
			await clock.advance(60_000);
			await settle(10);
		}
		assert.equal(sent.length, 1, 'one report at 12:30 UTC');
		assert.equal(sent[0]?.destination, 'stdout:900000000000000002', 'the OPS topic (a dry run: no token)');
		assert.match(sent[0]?.content ?? '', /all quiet/);
	});
});
