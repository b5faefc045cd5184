/**
 * Serialises async work per key within this process. Keyv has no compare-and-set, so every
 * read-modify-write of one record (an account, a certificate, a ticket) runs through here.
 */
export class KeyedLock {
	readonly #tails = new Map<string, Promise<unknown>>();

	run<T>(key: string, work: () => Promise<T>): Promise<T> {
		const previous = this.#tails.get(key) ?? Promise.resolve();
		const result = previous.then(work, work);
		const tail = result.catch(() => {});
		this.#tails.set(key, tail);
		void tail.then(() => {
			if (this.#tails.get(key) === tail) this.#tails.delete(key);
		});
		return result;
	}
}
