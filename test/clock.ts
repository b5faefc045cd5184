import type { After } from '../src/clock.js';

/**
 * A clock that moves only when a test says so: the worker's backoffs, pauses and pacing become steps
 * the test takes instead of time it sleeps.
 */
export class ManualClock {
	#now: number;
	#timers: { at: number; run: () => void }[] = [];

	constructor(start = Date.parse('2026-11-24T12:00:00Z')) {
		this.#now = start;
	}

	readonly now = (): number => this.#now;

	readonly after: After = (ms, run) => {
		const timer = { at: this.#now + Math.max(0, ms), run };
		this.#timers.push(timer);
		return () => {
			this.#timers = this.#timers.filter((other) => other !== timer);
		};
	};

	/** Moves time forward, firing each timer that falls due at its own moment, and lets the work it started run. */
	async advance(ms: number): Promise<void> {
		const target = this.#now + ms;
		for (;;) {
			const due = this.#timers.filter((timer) => timer.at <= target).sort((a, b) => a.at - b.at)[0];
			if (!due) break;
			this.#timers = this.#timers.filter((timer) => timer !== due);
			this.#now = Math.max(this.#now, due.at);
			due.run();
			await settle();
		}
		this.#now = target;
		await settle();
	}
}

/** Lets pending promise chains and I/O callbacks of an in-memory store run. */
export async function settle(rounds = 5): Promise<void> {
	for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Lets work run (the clock standing still) until `condition` holds; fails after `rounds` turns. */
export async function eventually(condition: () => boolean, what: string, rounds = 500): Promise<void> {
	for (let i = 0; !condition(); i++) {
		if (i >= rounds) throw new Error(`never happened: ${what}`);
		await new Promise((resolve) => setImmediate(resolve));
	}
}
