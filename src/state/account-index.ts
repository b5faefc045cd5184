import type { Store } from '../store/store.js';

const SEPARATOR = '\n';
/**
 * New names wait in a set until there are this many, then one linear pass folds them in: at 1M accounts
 * a pass takes about 15 ms, short enough not to hold up callbacks or a command.
 */
const MERGE_AT = 4096;

/**
 * Known vPanel usernames, for autocomplete inside Discord's 3-second window without scanning the store
 * per keystroke. Compact so that a million accounts fit: the names sit sorted in one string (one byte
 * a character plus a separator) with a Uint32Array of offsets, about 16 bytes an account instead of a
 * string object and a Set entry each. New accounts wait in a small set and are merged in a linear pass
 * once there are enough of them. Loaded once at start (keys only), then fed by the projector.
 */
export class AccountIndex {
	/** Sorted names, each followed by SEPARATOR. */
	#packed = '';
	/** Offset of each name in #packed, plus one past the end. */
	#starts = new Uint32Array(1);
	/** Names added since the last merge. */
	#recent = new Set<string>();

	/**
	 * Reads the account keys once. SQL stores list them in order, so the packed string is built a chunk at
	 * a time and the names never all exist as separate strings; an unordered listing (Redis) is sorted.
	 */
	static async load(store: Store): Promise<AccountIndex> {
		const index = new AccountIndex();
		const chunks: string[] = [];
		let chunk: string[] = [];
		let previous = '';
		let sorted = true;
		for await (const key of store.listKeys('accounts')) {
			const name = key.toLowerCase();
			if (name.includes(SEPARATOR)) continue;
			if (name <= previous) sorted = false;
			previous = name;
			chunk.push(name, SEPARATOR);
			if (chunk.length >= 8192) {
				chunks.push(chunk.join(''));
				chunk = [];
			}
		}
		chunks.push(chunk.join(''));
		const packed = chunks.join('');
		if (sorted) index.#setPacked(packed);
		else index.#rebuild(packed.split(SEPARATOR).slice(0, -1).sort());
		return index;
	}

	add(username: string): void {
		const name = username.toLowerCase();
		if (name.includes(SEPARATOR) || this.#recent.has(name) || this.#has(name)) return;
		this.#recent.add(name);
		if (this.#recent.size >= MERGE_AT) this.#merge();
	}

	/** Prefix matches first, then substring matches, each alphabetical; at most `limit`. */
	search(query: string, limit: number): string[] {
		const needle = query.trim().toLowerCase();
		const recent = [...this.#recent].filter((name) => name.includes(needle)).sort();
		const prefix = mergeSorted(
			this.#prefixed(needle, limit),
			recent.filter((name) => name.startsWith(needle)),
		).slice(0, limit);
		if (prefix.length >= limit || !needle) return prefix;
		const inside = mergeSorted(
			this.#containing(needle, limit - prefix.length),
			recent.filter((name) => !name.startsWith(needle)),
		);
		return [...prefix, ...inside].slice(0, limit);
	}

	get #count(): number {
		return this.#starts.length - 1;
	}

	#name(i: number): string {
		return this.#packed.slice(this.#starts[i], (this.#starts[i + 1] as number) - 1);
	}

	/** Index of the first name >= `needle` (binary search). */
	#lowerBound(needle: string): number {
		let low = 0;
		let high = this.#count;
		while (low < high) {
			const mid = (low + high) >>> 1;
			if (this.#name(mid) < needle) low = mid + 1;
			else high = mid;
		}
		return low;
	}

	#has(name: string): boolean {
		const at = this.#lowerBound(name);
		return at < this.#count && this.#name(at) === name;
	}

	#prefixed(needle: string, limit: number): string[] {
		const found: string[] = [];
		for (let i = this.#lowerBound(needle); i < this.#count && found.length < limit; i++) {
			const name = this.#name(i);
			if (!name.startsWith(needle)) break;
			found.push(name);
		}
		return found;
	}

	/** Names containing `needle` but not starting with it, in order: one native search over the string. */
	#containing(needle: string, limit: number): string[] {
		const found: string[] = [];
		const packed = this.#packed;
		let from = 0;
		while (found.length < limit) {
			const hit = packed.indexOf(needle, from);
			if (hit < 0) break;
			const start = packed.lastIndexOf(SEPARATOR, hit - 1) + 1;
			const end = packed.indexOf(SEPARATOR, hit);
			// A hit across a separator would need the needle to hold one; trimmed queries cannot.
			if (hit > start) found.push(packed.slice(start, end));
			from = end + 1;
		}
		return found;
	}

	/**
	 * Folds the recent names into the sorted string (slices of the old one between insertion points) and
	 * shifts the old offsets past each insertion, in one pass over both.
	 */
	#merge(): void {
		const recent = [...this.#recent].sort();
		const old = this.#starts;
		const count = this.#count;
		const starts = new Uint32Array(count + recent.length + 1);
		const parts: string[] = [];
		let n = 0;
		/** The next old name whose offset is not copied yet, and where the next slice of the old string starts. */
		let next = 0;
		let from = 0;
		let shift = 0;
		for (const name of recent) {
			const at = this.#lowerBound(name);
			for (; next < at; next++) starts[n++] = (old[next] as number) + shift;
			const offset = old[at] as number;
			parts.push(this.#packed.slice(from, offset), name, SEPARATOR);
			from = offset;
			starts[n++] = offset + shift;
			shift += name.length + 1;
		}
		for (; next <= count; next++) starts[n++] = (old[next] as number) + shift;
		parts.push(this.#packed.slice(from));
		this.#packed = parts.join('');
		this.#starts = starts;
		this.#recent.clear();
	}

	#rebuild(sorted: string[]): void {
		const unique = sorted.filter((name, i) => i === 0 || name !== sorted[i - 1]);
		this.#setPacked(unique.length ? unique.join(SEPARATOR) + SEPARATOR : '');
	}

	#setPacked(packed: string): void {
		let count = 0;
		for (let at = packed.indexOf(SEPARATOR); at >= 0; at = packed.indexOf(SEPARATOR, at + 1)) count++;
		const starts = new Uint32Array(count + 1);
		let n = 0;
		for (let at = 0; at < packed.length; at = packed.indexOf(SEPARATOR, at) + 1) starts[n++] = at;
		starts[count] = packed.length;
		this.#packed = packed;
		this.#starts = starts;
	}
}

function mergeSorted(a: string[], b: string[]): string[] {
	if (b.length === 0) return a;
	return [...a, ...b].sort();
}
