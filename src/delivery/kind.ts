import type { Config } from '../config.js';
import type { Topic } from '../events/event.js';
import type { InFlightRecord, OutboxEntry } from '../state/outbox.js';
import type { Failure } from './errors.js';
import type { OutgoingMessage } from './message.js';

/**
 * Where alerts go: a destination of some kind. `key` identifies it in the outbox, logs and bookkeeping:
 * `<kind>` or `<kind>:<id>`, never a secret (a webhook is named by its id, not its token), never a `/`.
 * Each kind adds the fields it needs to reach it.
 */
export interface Destination {
	kind: string;
	key: string;
	/** The kind's own fields (a channel id, a webhook URL...). */
	[field: string]: unknown;
}

/** How a destination's entries are spread over concurrent, strictly ordered lanes. */
export interface Lanes {
	/** At most this many lanes send at once (a Discord channel: 1). */
	concurrency: number;
	/** Entries with the same order key are sent one after the other, in receive order. */
	orderKey(entry: OutboxEntry): string;
}

/**
 * A kind of destination: everything the worker does not know about one. The worker pages a
 * destination's outbox entries, paces it, and asks the kind to compose what the ready head becomes
 * (one request may carry several entries, e.g. a Discord message of ten alerts or a digest), to send it
 * and to classify what went wrong; the pure `decide` (outcome.ts) turns that class into retry, pause,
 * hold, dead letter or halt. Adding a kind is one file under kinds/ and one line in kinds/index.ts.
 *
 * Built in: a bot channel (exactly once by nonce, looked for in the channel past the nonce window), a
 * channel webhook, and stdout (a dry run). The interface is shaped for the kinds that come next:
 * - a forward target (the raw callback POSTed to a reseller's own panel): `fanOut` adds it to every
 *   topic's destinations; `lanes` sends N at once, strictly in order per account username; `retryBudget`
 *   Infinity retries on RETRY_SCHEDULE forever, in order; a failure classed `hold` stops the
 *   destination at that entry until a person decides (`Worker.release`: resend or skip), kept in the
 *   store; the in-flight record is stored before each send (`durable`), and `recover` returning `hold`
 *   makes a record found at start (a crash while in flight) a hold, never a silent re-send. Like every
 *   kind it runs on the leader only, every send and bookkeeping write fenced by the lease.
 * - a ticket thread (one Discord thread per MOFH ticket): `send` may first take a step of its own
 *   (create the thread once, store ticket ─▶ thread, then post into it); a rate-limited step throws a
 *   `retry` failure with its Retry-After, and the entry waits in the store like any delivery.
 * A slow, paused or held destination never delays another: each has its own queue.
 */
export interface DestinationKind<
	D extends Destination = Destination,
	R extends InFlightRecord = InFlightRecord,
> {
	readonly name: string;
	/**
	 * The destination an `ALERTS_CHANNEL*` value names for `topic`, if it is of this kind (undefined: the
	 * topic has no value, a dry run). The first kind in the registry that accepts a value gets it.
	 */
	parse?(value: string | undefined, config: Config, topic: Topic): D | undefined;
	/** Destinations of this kind every event of `topic` goes to as well, whatever ALERTS_CHANNEL says. */
	fanOut?(topic: Topic, config: Config): D[];
	/** Concurrent ordered lanes; without it, one lane: the head blocks the rest. */
	lanes?(destination: D): Lanes;
	/** Kept to the configured pace (Discord's per-channel rate). */
	readonly paced: boolean;
	/** The in-flight record is stored before the first attempt (a dry run needs none). */
	readonly durable: boolean;
	/**
	 * The record carries `sending` (epoch ms) while an attempt may be on the wire: set in the store before
	 * each attempt, cleared after one that failed where nothing can have arrived. `recover` then tells a
	 * record cut off mid-request from one waiting to retry.
	 */
	readonly marksAttempts?: boolean;
	/**
	 * Its entries are taken from the store only, in key order, never as they are handed over: a new
	 * entry (or one a sweep meets) makes the queue read its range again from the start. An entry another
	 * instance stored a moment before one stored here is then sent first (one account's callbacks in
	 * stored order whichever instance received them).
	 */
	readonly readsInOrder?: boolean | undefined;
	/**
	 * Posts a message of hookcord's own (the OPS topic: a forward target paused, failing, back) to a
	 * destination of this kind, outside the outbox. The Discord kinds have it.
	 */
	post?(destination: D, message: OutgoingMessage): Promise<void>;
	/** What a `halt` says was refused, for the log (e.g. DISCORD_TOKEN). */
	readonly credentials?: string;
	/** How long a still-failing entry is retried before it is dead-lettered (default: the configured one). */
	readonly retryBudget?: number;
	/** What the ready head of a lane becomes: the record names the entries it carries (a prefix of `ready`). */
	compose(destination: D, ready: readonly OutboxEntry[]): R;
	/** Sends a composed record; `entries` are the ones it carries. Throws on failure. */
	send(destination: D, record: R, entries: readonly OutboxEntry[]): Promise<void>;
	/** What a thrown failure means. */
	classify(error: unknown): Failure;
	/** A record found in the store at start: sent again as it is, or the destination held there. */
	recover(record: R): 'resend' | 'hold';
}

/** The kinds a process knows, by name. */
export type Kinds = ReadonlyMap<string, DestinationKind>;

/** One kind's place in the registry: erases its own destination and record types. */
export const register = <D extends Destination, R extends InFlightRecord>(
	kind: DestinationKind<D, R>,
): [string, DestinationKind] => [kind.name, kind as unknown as DestinationKind];
