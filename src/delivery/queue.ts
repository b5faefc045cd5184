import { type OutboxEntry, type StoredInFlight, sortedIndex } from '../state/outbox.js';
import type { Destination, DestinationKind, Lanes } from './kind.js';
import { RateWindow } from './pacing.js';

/** One strictly ordered lane of a destination: at most one send in flight. */
export interface Lane {
	key: string;
	/** What is being sent (recorded before the first attempt): a retry sends it again unchanged. */
	record?: StoredInFlight;
	busy: boolean;
	/** Its record was looked for in the store (at start). */
	loaded: boolean;
}

const ONE_LANE: Lanes = { concurrency: 1, orderKey: () => '' };

/**
 * A destination's pending entries, one page of them in memory, oldest first, and its lanes, pace and
 * pause. The rest of its backlog waits in the store and is read a page at a time (`refill`), so memory
 * does not grow with a backlog.
 */
export class DestinationQueue {
	/** Pending entries, oldest first; in each lane the head blocks the rest so it reads in order. */
	entries: OutboxEntry[] = [];
	/** The ids in `entries`, so a sweep re-offering one is a constant-time no-op. */
	readonly ids = new Set<string>();
	/**
	 * Every pending entry of this destination with an id up to here is in `entries`; later ones may be in
	 * the store only (null: all of them are in memory). Ids sort by receive time, so this is a time.
	 */
	horizon: string | null = null;
	/** Set while the next page is read from the store: entries arriving meanwhile are held here. */
	late?: OutboxEntry[];
	/** Ids the destination refused as part of a batch: they are sent one message each. */
	readonly alone = new Set<string>();
	readonly lanes = new Map<string, Lane>();
	readonly pacing: RateWindow;
	readonly #lanes: Lanes;
	#rewound = false;
	/** Sends running now (at most the lanes' concurrency). */
	slots = 0;
	pausedUntil = 0;
	pauseReason?: string;
	/** Held at one lane's record until a person decides. */
	held?: { lane: string; reason: string };
	refilling?: Promise<void>;

	constructor(
		readonly destination: Destination,
		readonly kind: DestinationKind,
		private readonly pageSize: number,
		rate: { messages: number; perMs: number },
	) {
		this.#lanes = kind.lanes?.(destination) ?? ONE_LANE;
		this.pacing = new RateWindow(kind.paced ? rate : { messages: Number.POSITIVE_INFINITY, perMs: 0 });
	}

	get concurrency(): number {
		return this.#lanes.concurrency;
	}

	/** Nothing in memory and nothing beyond it in the store. */
	get empty(): boolean {
		return this.entries.length === 0 && this.horizon === null;
	}

	laneOf(entry: OutboxEntry): Lane {
		const key = this.#lanes.orderKey(entry);
		let lane = this.lanes.get(key);
		if (!lane) {
			lane = { key, busy: false, loaded: false };
			this.lanes.set(key, lane);
		}
		return lane;
	}

	/** Where a lane's in-flight record is kept: the destination's key, or `<key>/<order key>`. */
	recordKey(lane: Lane): string {
		return lane.key === '' ? this.destination.key : `${this.destination.key}/${lane.key}`;
	}

	/** Keeps an entry in memory when it is within the page; a later one waits in the store. */
	hold(entry: OutboxEntry): void {
		const id = entry.event.id;
		if (this.ids.has(id)) return;
		if (this.horizon !== null && id > this.horizon) {
			if (this.late && this.late.length < this.pageSize) this.late.push(entry);
			return;
		}
		this.ids.add(id);
		// Ids sort by receive time, so almost every entry goes at the end; a replayed old one goes in place.
		const last = this.entries.at(-1);
		if (!last || last.event.id < id) this.entries.push(entry);
		else this.entries.splice(sortedIndex(this.entries, id), 0, entry);
		if (this.entries.length > this.pageSize) {
			for (const dropped of this.entries.splice(this.pageSize)) this.ids.delete(dropped.event.id);
			this.horizon = this.entries.at(-1)?.event.id ?? null;
		}
	}

	/**
	 * Reads the next page of this destination's entries from the store once half the page has drained
	 * (one read at a time). `stale` tells entries finished while the page was read. A store read that
	 * misses an entry only delays it: the next sweep offers it again.
	 */
	refill(
		read: (room: number, after: string) => Promise<OutboxEntry[]>,
		stale: (entry: OutboxEntry) => boolean,
	) {
		if (this.horizon === null || this.entries.length > this.pageSize / 2) return Promise.resolve();
		this.refilling ??= this.#refill(read, stale, this.horizon).finally(() => {
			delete this.refilling;
			delete this.late;
		});
		return this.refilling;
	}

	async #refill(
		read: (room: number, after: string) => Promise<OutboxEntry[]>,
		stale: (entry: OutboxEntry) => boolean,
		from: string,
	): Promise<void> {
		const room = this.pageSize - this.entries.length;
		this.late = [];
		const page = await read(room, from);
		const late = this.late;
		// A full page, or arrivals beyond what was held meanwhile: more may wait in the store.
		this.horizon = page.length < room && late.length < this.pageSize ? null : (page.at(-1)?.event.id ?? from);
		if (this.#rewound) {
			this.#rewound = false;
			this.horizon = '';
		}
		for (const entry of [...page, ...late]) if (!stale(entry)) this.hold(entry);
	}

	/**
	 * Something new may wait in the store before what is held: the next refill reads from the start (a
	 * refill under way reads again after it, since it may have begun before the new entry was stored).
	 */
	rewind(): void {
		this.horizon = '';
		if (this.refilling) this.#rewound = true;
	}

	/** Whether the next pass should read the store first (half the page drained, more may wait there). */
	get refillDue(): boolean {
		return this.horizon !== null && this.entries.length <= this.pageSize / 2;
	}

	forget(ids: readonly string[]): void {
		const done = new Set(ids);
		this.entries = this.entries.filter((entry) => !done.has(entry.event.id));
		for (const id of ids) {
			this.ids.delete(id);
			this.alone.delete(id);
		}
	}

	/** The entries of a lane's record that are still pending (in memory), in order. */
	inFlight(lane: Lane): OutboxEntry[] {
		if (!lane.record) return [];
		const ids = new Set(lane.record.ids);
		return this.entries.filter((entry) => ids.has(entry.event.id));
	}

	/** When a lane may send next as far as backoff goes: its record's entries', else its head's. */
	readyAt(lane: Lane, head: OutboxEntry | undefined): number {
		const waiting = this.inFlight(lane);
		if (waiting.length > 0) return Math.max(...waiting.map((entry) => entry.notBefore));
		return head?.notBefore ?? 0;
	}

	/** Each lane that is not sending, with its head: the first entries of the page, one per lane. */
	*freeLanes(): Generator<[Lane, OutboxEntry]> {
		const seen = new Set<string>();
		for (const entry of this.entries) {
			const lane = this.laneOf(entry);
			if (seen.has(lane.key)) continue;
			seen.add(lane.key);
			if (!lane.busy) yield [lane, entry];
			if (this.#lanes === ONE_LANE) return; // one lane: the page's head is its head
		}
	}

	/** A lane that may send at `now` as far as backoff goes, oldest head first. */
	readyLane(now: number): Lane | undefined {
		for (const [lane, head] of this.freeLanes()) if (this.readyAt(lane, head) <= now) return lane;
		return undefined;
	}

	/** When the earliest free lane is out of its backoff (now, when only the store holds the next page). */
	nextReady(): number {
		if (this.entries.length === 0) return this.horizon === null ? Number.POSITIVE_INFINITY : 0;
		let at = Number.POSITIVE_INFINITY;
		for (const [lane, head] of this.freeLanes()) at = Math.min(at, this.readyAt(lane, head));
		return at;
	}

	/** A lane's ready head: its entries out of backoff, stopping at one refused in a batch (sent alone). */
	readyHead(lane: Lane, now: number): OutboxEntry[] {
		const ready: OutboxEntry[] = [];
		for (const entry of this.entries) {
			if (this.laneOf(entry) !== lane) continue;
			if (entry.notBefore > now) break;
			if (this.alone.has(entry.event.id)) {
				if (ready.length === 0) ready.push(entry);
				break;
			}
			ready.push(entry);
		}
		return ready;
	}
}
