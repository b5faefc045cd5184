import type { Event, Provider } from '../events/event.js';
import type { Store } from '../store/store.js';
import type { Write } from '../store/unit.js';
import { KeyedLock } from './keyed-lock.js';
import { outboxKey } from './outbox.js';

/**
 * A callback as it arrived, kept so a panel behind hookcord sees what the provider sent: not the parsed
 * fields (re-encoding a form or a JSON body changes its bytes, and a multipart body loses its boundary).
 * Stored on the callback's outbox entry for each forward target.
 */
export interface Arrival {
	method: string;
	/** The request's Content-Type as sent (a multipart boundary included); absent without a body. */
	contentType?: string;
	/** The query string as sent, without the `?` ('' for none). */
	query: string;
	/** The body bytes, base64 (every store keeps strings alike). */
	body: string;
	/** The provider's address (after TRUST_PROXY): sent on as X-Forwarded-For. */
	address: string;
}

/** What a target's messages and status say about a callback. */
export interface ForwardedEvent {
	id: string;
	provider: Provider;
	kind: Event['kind'];
	/** The account it concerns, as staff know it: a vPanel username, `ticket 123`, a RequestId, a message id. */
	account?: string;
	receivedAt: number;
}

/** A decision staff took about the callback a target is paused at. */
export type Decision = 'resend' | 'skip';

export interface DecisionRecord {
	decision: Decision;
	/** Who took it: a Discord member (`name (id)`) or `shell` for `npm run forwards`. */
	by: string;
	at: number;
}

/** Why a target stopped, at which callback. */
export interface Pause {
	/** Names this pause (the callback's id and the time): a decision answers one pause, never a later one. */
	id: string;
	/** The callback the target is paused at. */
	eventId: string;
	at: number;
	/** What happened: a status, a redirect's Location, "no answer within 30 s", a stop mid-request. */
	reason: string;
	/** The callback, for the messages (the entry may be gone by the time they are read). */
	event: ForwardedEvent;
	/** The OPS topic was asked (else it is asked again at the leader's next look). */
	told?: boolean;
}

/**
 * A target's state as the forwarding leader last recorded it (keyed `<target key>` in `targets`): what
 * `/forwards status` and `npm run forwards -- status` show from any instance or a shell.
 */
export interface TargetState {
	paused?: Pause;
	/** Epoch ms of the first failure of the current run of failures (retryable ones included). */
	failingSince?: number;
	/** Whether the OPS topic was told the target has been failing for 5 minutes (then: told it recovered). */
	failingTold?: boolean;
	lastAnswer?: { at: number; text: string };
	/** The latest decisions carried out, newest last. */
	decided?: (DecisionRecord & { eventId: string; carriedOutAt: number })[];
}

/** A forward target's destination key: the kind, then the target's key (a digest, never its URL). */
export const forwardDestination = (target: string) => `forward:${target}`;
/** Where a decision about a pause is recorded: once, by whoever decides first. */
export const decisionKey = (target: string, pauseId: string) => `decision:${target}:${pauseId}`;

/**
 * The account whose callbacks must reach a target in order: a MOFH username (account and domain
 * callbacks), a ticket, a Xolphin request, a Wooxy message. A callback naming none orders only itself.
 */
export function orderKey(event: Event): string {
	const account = accountOf(event);
	return account ? `${event.provider}:${account.toLowerCase()}` : `event:${event.id}`;
}

export function accountOf(event: Event): string | undefined {
	switch (event.kind) {
		case 'ticket.replied':
		case 'ticket.closed':
			return `ticket ${event.ticketId}`;
		case 'cert.issued':
		case 'cert.updated':
		case 'cert.deleted':
			return event.requestId;
		case 'email.event':
			return event.messageId;
		default:
			return 'username' in event ? event.username : undefined;
	}
}

export function forwardedEvent(event: Event): ForwardedEvent {
	const account = accountOf(event);
	return {
		id: event.id,
		provider: event.provider,
		kind: event.kind,
		...(account && { account }),
		receivedAt: event.receivedAt,
	};
}

/**
 * Forwarding's own records: each target's state (written by the leader) and staff's decisions (written
 * by whoever decides, once).
 */
export function createForwards(store: Store) {
	// Decisions taken on this process (two clicks at once) are serialised here; see `decide`.
	const deciding = new KeyedLock();
	return {
		/** How many callbacks wait for a target, and the oldest one's receipt (keys only, nothing kept). */
		async count(target: string): Promise<{ waiting: number; oldest?: number }> {
			const prefix = outboxKey(forwardDestination(target), '');
			let waiting = 0;
			let oldest: number | undefined;
			for await (const key of store.listKeys('outbox')) {
				if (!key.startsWith(prefix)) continue;
				waiting++;
				// Event ids begin with the receive time in base36 (9 characters): no value needs reading.
				const at = Number.parseInt(key.slice(prefix.length, prefix.length + 9), 36);
				if (oldest === undefined || at < oldest) oldest = at;
			}
			return { waiting, ...(oldest !== undefined && { oldest }) };
		},
		async state(target: string): Promise<TargetState> {
			return ((await store.targets.get(target)) as TargetState | undefined) ?? {};
		},
		async setState(target: string, state: TargetState): Promise<void> {
			await store.targets.set(target, state);
		},
		async decision(target: string, pauseId: string): Promise<DecisionRecord | undefined> {
			return (await store.targets.get(decisionKey(target, pauseId))) as DecisionRecord | undefined;
		},
		/**
		 * Records a decision about the callback a target is paused at, unless one is recorded already: then
		 * that one is returned and nothing is written. First wins across instances on Redis and PostgreSQL
		 * (the write expects the key absent); SQLite and memory serve one process, serialised here. The
		 * forwarding leader carries it out (once: the pause it answers then ends).
		 */
		async decide(
			target: string,
			pauseId: string,
			record: DecisionRecord,
		): Promise<{ recorded: boolean; decision: DecisionRecord }> {
			const key = decisionKey(target, pauseId);
			return deciding.run(key, async () => {
				const earlier = await store.read('targets', key);
				if (earlier.value) return { recorded: false, decision: earlier.value as DecisionRecord };
				// Kept a week: long after the pause it answers has been carried out.
				const write: Write = {
					collection: 'targets',
					key,
					value: record,
					ttlMs: 7 * 86_400_000,
					expect: null,
				};
				if (await store.commit([write])) return { recorded: true, decision: record };
				const winner = (await store.targets.get(key)) as DecisionRecord | undefined;
				return { recorded: false, decision: winner ?? record };
			});
		},
	};
}

export type Forwards = ReturnType<typeof createForwards>;
