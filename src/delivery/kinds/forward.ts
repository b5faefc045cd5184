import type { Config } from '../../config.js';
import { forwardDestination, orderKey } from '../../state/forwards.js';
import type { InFlightRecord } from '../../state/outbox.js';
import { DeliveryError, toFailure } from '../errors.js';
import { classifyForward } from '../forward/outcome.js';
import { composeForward } from '../forward/request.js';
import { type SendForward, sendForward } from '../forward/send.js';
import type { Destination, DestinationKind } from '../kind.js';

export type ForwardTarget = Config['forward']['targets'][number];

export interface ForwardDestination extends Destination {
	kind: 'forward';
	/** The target's key (a digest of provider and URL). */
	target: string;
	provider: ForwardTarget['provider'];
	/** The whole URL, credentials and query included: used only to send. */
	url: string;
	/** Scheme, host and path: how logs and messages name it. */
	shown: string;
}

/** One callback on its way to a target; `sending` is set while a request may be on the wire. */
export interface ForwardRecord extends InFlightRecord {
	sending?: number;
}

/** What the last attempts to a target came to (kept by the kind, read by the forward-watch job). */
export interface TargetHealth {
	/** Epoch ms of the first failure of the current run of failures (none since the last 2xx). */
	failingSince?: number;
	lastAnswer?: { at: number; text: string };
}

export interface ForwardKindDeps {
	config: Config;
	now: () => number;
	/** `hookcord/<version>` in the User-Agent. */
	version: string;
	/** Replaces the request sender (tests). */
	send?: SendForward;
	/** Where each target's health is kept, by destination key. */
	health: Map<string, TargetHealth>;
}

export function forwardTargetDestination(target: ForwardTarget): ForwardDestination {
	return {
		kind: 'forward',
		key: forwardDestination(target.key),
		target: target.key,
		provider: target.provider,
		url: target.url,
		shown: target.shown,
	};
}

/**
 * A forward target (`*_FORWARD_TO`): the reseller's own panel, which gets every callback of its provider
 * as it arrived (see forward/request.ts). Entries are added only by the receiver, for callbacks whose
 * arrival was kept; `fanOut` lists the targets for every topic so the worker keeps routing to them.
 * - one callback per request; one account's callbacks one after another in stored order, up to
 *   FORWARD_CONCURRENCY accounts at once (1: one lane, everything in stored order); not paced;
 * - a failure where the target cannot have acted is retried on RETRY_SCHEDULE for as long as it takes
 *   (no retry budget, no dead letter); anything else holds the target there until staff decide;
 * - the record is marked `sending` in the store before each attempt: one found at start with the mark
 *   was on the wire when hookcord stopped, so the target is held there, never silently sent again; one
 *   without it was waiting to retry and is sent again.
 */
export function forwardKind(deps: ForwardKindDeps): DestinationKind<ForwardDestination, ForwardRecord> {
	const { config, now, version, health } = deps;
	const send = deps.send ?? sendForward;
	const destinations = config.forward.targets.map(forwardTargetDestination);
	const { concurrency, timeoutMs } = config.forward;
	const record = (destination: ForwardDestination, update: TargetHealth) => {
		health.set(destination.key, { ...health.get(destination.key), ...update });
	};
	return {
		name: 'forward',
		fanOut: () => destinations,
		lanes: () => ({
			concurrency,
			orderKey: concurrency === 1 ? () => '' : (entry) => orderKey(entry.event),
		}),
		paced: false,
		durable: true,
		marksAttempts: true,
		// Several instances receive on a shared store: one stored a moment ago elsewhere must go first. Alone
		// (SQLite, memory) every entry is handed over in stored order, and reading the store again for each
		// would cost the receiver.
		readsInOrder: /^(redis|rediss|postgres|postgresql):/.test(config.storeUrl),
		retryBudget: Number.POSITIVE_INFINITY,
		compose: (_destination, ready) => {
			const at = now();
			return { ids: [(ready[0] as (typeof ready)[0]).event.id], since: at, sending: at };
		},
		async send(destination, _record, entries) {
			const [entry] = entries;
			if (!entry?.request) throw new DeliveryError('hold', 'this callback was stored without its request');
			const outcome = await send(
				composeForward(destination.url, { event: entry.event, request: entry.request }, version),
				timeoutMs,
			);
			const verdict = classifyForward(outcome, timeoutMs, now(), destination.url);
			if (verdict.verdict === 'delivered') {
				health.set(destination.key, { lastAnswer: { at: now(), text: verdict.answer } });
				return;
			}
			record(destination, {
				failingSince: health.get(destination.key)?.failingSince ?? now(),
				lastAnswer: { at: now(), text: verdict.reason },
			});
			throw new DeliveryError(
				verdict.verdict === 'retry' ? 'retry' : 'hold',
				verdict.reason,
				verdict.verdict === 'retry' ? verdict.retryAfterMs : undefined,
			);
		},
		classify: toFailure,
		recover: (stored) => (stored.sending !== undefined ? 'hold' : 'resend'),
	};
}
