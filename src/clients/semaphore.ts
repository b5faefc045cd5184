/**
 * A counting semaphore with a FIFO queue: at most `limit` holders at once; further `acquire()` calls
 * wait in arrival order (they are never rejected, unless their `signal` aborts while they wait).
 */
export class Semaphore {
	readonly limit: number;
	#active = 0;
	readonly #waiters: (() => void)[] = [];

	constructor(limit: number) {
		if (!Number.isInteger(limit) || limit < 1) throw new RangeError('Semaphore limit must be an integer ≥ 1');
		this.limit = limit;
	}

	/** Holders right now (never more than `limit`). */
	get active(): number {
		return this.#active;
	}

	/** Callers queued behind the holders. */
	get waiting(): number {
		return this.#waiters.length;
	}

	/**
	 * Resolves with a `release` function once a slot is free. Calling `release` more than once is harmless.
	 * If `signal` aborts while queued, the caller leaves the queue and the promise rejects with its reason.
	 */
	acquire(signal?: AbortSignal): Promise<() => void> {
		if (signal?.aborted) return Promise.reject(signal.reason);
		if (this.#active < this.limit) {
			this.#active++;
			return Promise.resolve(this.#releaser());
		}
		return new Promise((resolve, reject) => {
			const grant = () => {
				signal?.removeEventListener('abort', onAbort);
				// The slot is handed over by `release`, so `#active` is unchanged here.
				resolve(this.#releaser());
			};
			const onAbort = () => {
				const index = this.#waiters.indexOf(grant);
				if (index !== -1) this.#waiters.splice(index, 1);
				reject(signal?.reason);
			};
			this.#waiters.push(grant);
			signal?.addEventListener('abort', onAbort, { once: true });
		});
	}

	/** Runs `work` while holding a slot. */
	async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
		const release = await this.acquire(signal);
		try {
			return await work();
		} finally {
			release();
		}
	}

	#releaser(): () => void {
		let released = false;
		return () => {
			if (released) return;
			released = true;
			const next = this.#waiters.shift();
			if (next) next();
			else this.#active--;
		};
	}
}
