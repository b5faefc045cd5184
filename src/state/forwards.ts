import type { Event, Provider } from '../events/event.js';
import type { Store } from '../store/store.js';
import type { Change, Write } from '../store/unit.js';

/**
 * A callback as it arrived, kept so a panel behind hookcord sees what the provider sent: not the parsed
 * fields (re-encoding a form or a JSON body changes its bytes, and a multipart body loses its boundary).
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

/** What a target's messages and status say about the callback, without reading the event. */
export interface ForwardedEvent {
	id: string;
	provider: Provider;
	kind: Event['kind'];
	/** The account it concerns, as staff know it: a vPanel username, `ticket 123`, a RequestId, a message id. */
	account?: string;
	receivedAt: number;
}

/** One callback waiting for one target. Keyed `<target key>:<event id>` in `forwards`. */
export interface ForwardEntry {
	target: string;
	event: ForwardedEvent;
	/** Callbacks with the same order key reach the target one at a time, in stored order. */
	order: string;
	request: Arrival;
	/** Attempts that failed where the target cannot have acted (retried on RETRY_SCHEDULE). */
	attempts: number;
	/** Epoch ms before which it is not sent (backoff). */
	notBefore: number;
	lastError?: string;
	/**
	 * Epoch ms since which the request may be on the wire: written before sending, cleared with the
	 * outcome. Found at start-up, it means hookcord stopped mid-request: the target may have acted.
	 */
	sending?: number;
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
	/** The callback the target is paused at; ids are unique, so this also names the pause. */
	eventId: string;
	at: number;
	/** What happened: a status, a redirect's Location, "no answer within 30 s", a stop mid-request. */
	reason: string;
	/** The callback, for the messages (the entry may be gone by the time they are read). */
	event: ForwardedEvent;
}

/** A target's state, written only by the forwarding leader (fenced). Keyed `<target key>` in `targets`. */
export interface TargetState {
	paused?: Pause;
	/** Epoch ms of the first failure of the current run of failures (retryable ones included). */
	failingSince?: number;
	/** Whether the OPS topic was told the target has been failing for 5 minutes (then: told it recovered). */
	failingTold?: boolean;
	lastAnswer?: { at: number; text: string };
	/** The latest decisions carried out, newest last (a short history for the status). */
	decided?: (DecisionRecord & { eventId: string; carriedOutAt: number })[];
}

/** The key of a target's entry for an event: target first, so one target's entries are one key range. */
export const forwardKey = (target: string, eventId: string) => `${target}:${eventId}`;
/** Where a decision about a pause is recorded: once, by whoever decides first. */
export const decisionKey = (target: string, eventId: string) => `decision:${target}:${eventId}`;

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

/** The writes that queue a stored callback for each of its provider's targets (in the event's unit). */
export function forwardAdditions(event: Event, arrival: Arrival, targets: readonly string[]): Write[] {
	const account = accountOf(event);
	const forwarded: ForwardedEvent = {
		id: event.id,
		provider: event.provider,
		kind: event.kind,
		...(account && { account }),
		receivedAt: event.receivedAt,
	};
	return targets.map((target) => {
		const entry: ForwardEntry = {
			target,
			event: forwarded,
			order: orderKey(event),
			request: arrival,
			attempts: 0,
			notBefore: 0,
		};
		return { collection: 'forwards', key: forwardKey(target, event.id), value: entry };
	});
}

/** Rows read per step when paging a target's entries. */
const READ_PAGE = 200;

/**
 * The durable side of forwarding. Bookkeeping goes through `commit`: the leader passes its lease's fenced
 * commit, so an instance that lost the lease writes nothing over the next leader's work.
 */
export function createForwards(
	store: Store,
	commit: (changes: Change[]) => Promise<boolean> = (changes) => store.commit(changes),
) {
	async function bookkeep(changes: Change[]): Promise<void> {
		if (!(await commit(changes))) throw new Error('this instance no longer holds the delivery lease');
	}
	return {
		/**
		 * The `limit` oldest entries of a target, oldest first: a key range read from its start on SQLite
		 * and PostgreSQL; elsewhere the whole collection is read, keeping only `limit`. Either way memory
		 * holds at most `limit` entries, however long the backlog.
		 */
		async page(target: string, limit: number): Promise<ForwardEntry[]> {
			const prefix = `${target}:`;
			const kept: ForwardEntry[] = [];
			if (store.readAfter) {
				for (let cursor = prefix; kept.length < limit; ) {
					const rows = await store.readAfter('forwards', cursor, READ_PAGE);
					for (const { key, value } of rows) {
						if (!key.startsWith(prefix)) return kept;
						kept.push(value as ForwardEntry);
						if (kept.length === limit) return kept;
					}
					if (rows.length < READ_PAGE) return kept;
					cursor = (rows.at(-1) as { key: string }).key;
				}
				return kept;
			}
			if (!store.forwards.iterator) throw new Error('the store cannot list forwards');
			for await (const [key, value] of store.forwards.iterator(undefined)) {
				if (!String(key).startsWith(prefix)) continue;
				const entry = value as ForwardEntry;
				const id = entry.event.id;
				if (kept.length === limit && id > (kept.at(-1) as ForwardEntry).event.id) continue;
				let at = kept.length;
				while (at > 0 && (kept[at - 1] as ForwardEntry).event.id > id) at--;
				kept.splice(at, 0, entry);
				if (kept.length > limit) kept.pop();
			}
			return kept;
		},
		/** How many entries wait for a target, and the oldest one's receive time (one pass, nothing kept). */
		async count(target: string): Promise<{ waiting: number; oldest?: number }> {
			const prefix = `${target}:`;
			let waiting = 0;
			let oldest: number | undefined;
			for await (const key of store.listKeys('forwards')) {
				if (!key.startsWith(prefix)) continue;
				waiting++;
				// Event ids begin with the receive time in base36 (9 characters): no value needs reading.
				const at = Number.parseInt(key.slice(prefix.length, prefix.length + 9), 36);
				if (oldest === undefined || at < oldest) oldest = at;
			}
			return { waiting, ...(oldest !== undefined && { oldest }) };
		},
		async get(target: string, eventId: string): Promise<ForwardEntry | undefined> {
			return (await store.forwards.get(forwardKey(target, eventId))) as ForwardEntry | undefined;
		},
		async update(entry: ForwardEntry): Promise<void> {
			await bookkeep([
				{ collection: 'forwards', key: forwardKey(entry.target, entry.event.id), value: entry },
			]);
		},
		/** The target answered 2xx: the entry is done (not fenced, like a delivered alert: it was sent). */
		async remove(entry: ForwardEntry): Promise<void> {
			await store.forwards.delete(forwardKey(entry.target, entry.event.id));
		},
		async state(target: string): Promise<TargetState> {
			return ((await store.targets.get(target)) as TargetState | undefined) ?? {};
		},
		/** Stores a target's state, with other changes of the same step (an entry's, a decision's). */
		async setState(target: string, state: TargetState, alongside: Change[] = []): Promise<void> {
			await bookkeep([...alongside, { collection: 'targets', key: target, value: state }]);
		},
		async decision(target: string, eventId: string): Promise<DecisionRecord | undefined> {
			return (await store.targets.get(decisionKey(target, eventId))) as DecisionRecord | undefined;
		},
		/**
		 * Records a decision about the callback a target is paused at, unless one is recorded already: then
		 * that one is returned and nothing is written. First wins across instances on Redis and PostgreSQL
		 * (the write expects the key absent); SQLite and memory serve one process, whose caller serialises.
		 * The leader carries the decision out (once: the pause it answers then ends).
		 */
		async decide(
			target: string,
			eventId: string,
			record: DecisionRecord,
		): Promise<{ recorded: boolean; decision: DecisionRecord }> {
			const key = decisionKey(target, eventId);
			const earlier = await store.read('targets', key);
			if (earlier.value) return { recorded: false, decision: earlier.value as DecisionRecord };
			// Kept a week: long after the pause it answers has been carried out.
			const write: Write = { collection: 'targets', key, value: record, ttlMs: 7 * 86_400_000, expect: null };
			if (await store.commit([write])) return { recorded: true, decision: record };
			const winner = (await store.targets.get(key)) as DecisionRecord | undefined;
			return { recorded: false, decision: winner ?? record };
		},
	};
}

export type Forwards = ReturnType<typeof createForwards>;
