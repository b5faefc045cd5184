import type { Store } from './store.js';

/**
 * Known vPanel usernames in memory, for autocomplete inside Discord's 3-second window without scanning
 * the store per keystroke. Loaded once at start, then fed by the projector as accounts appear.
 */
export class AccountIndex {
	readonly #names = new Set<string>();
	#sorted: string[] | undefined;

	static async load(store: Store): Promise<AccountIndex> {
		const index = new AccountIndex();
		if (store.accounts.iterator) {
			for await (const [key] of store.accounts.iterator(undefined)) index.add(String(key));
		}
		return index;
	}

	add(username: string): void {
		const name = username.toLowerCase();
		if (this.#names.has(name)) return;
		this.#names.add(name);
		this.#sorted = undefined;
	}

	get size(): number {
		return this.#names.size;
	}

	/** Prefix matches first, then substring matches, each alphabetical; at most `limit`. */
	search(query: string, limit = 25): string[] {
		this.#sorted ??= [...this.#names].sort();
		const needle = query.trim().toLowerCase();
		if (!needle) return this.#sorted.slice(0, limit);
		const prefix: string[] = [];
		const inside: string[] = [];
		for (const name of this.#sorted) {
			if (name.startsWith(needle)) prefix.push(name);
			else if (name.includes(needle)) inside.push(name);
			if (prefix.length >= limit) break;
		}
		return [...prefix, ...inside].slice(0, limit);
	}
}
