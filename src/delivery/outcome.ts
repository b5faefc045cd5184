import type { OutboxEntry } from '../state/outbox.js';
import type { Failure } from './errors.js';

export interface Policy {
	now: number;
	/** Wait after the n-th failed attempt (the last value repeats). */
	retrySchedule: readonly number[];
	/** After this long since receipt (or the last replay), a still-failing entry is dead-lettered. */
	retryBudget: number;
	/** How long a destination that cannot be used (403, 404) rests before it is tried again. */
	pauseMs: number;
}

/** One entry's state after a failed attempt that is to be retried. */
export interface Retry {
	id: string;
	attempts: number;
	notBefore: number;
	lastError: string;
}

/** What a failed send means for the entries it carried and their destination. */
export interface Decision {
	/** Entries to try again later, with their new bookkeeping. */
	retry: Retry[];
	/** Entries given up on, and why: moved to the failed deliveries, kept for replay. */
	deadLetter?: { ids: string[]; reason: string };
	/** Entries of a refused batch, to be sent one message each from now on. */
	alone?: string[];
	/** The in-flight record is dropped: what is left of it is composed afresh. */
	dropRecord: boolean;
	/** The destination rests until then. */
	pause?: { until: number; reason: string };
	/** The destination stops at this record until a person decides. */
	hold?: string;
	/** Every destination of this kind stops. */
	halt?: string;
}

/**
 * What a failure means (alertmanager's retry stage as a pure function): the worker applies the answer.
 * A retry keeps the in-flight record (the same message goes again); a refused batch is split; a refused
 * single entry, or one past its retry budget, is dead-lettered.
 */
export function decide(failure: Failure, entries: readonly OutboxEntry[], policy: Policy): Decision {
	const { now } = policy;
	switch (failure.kind) {
		case 'halt':
			return { retry: [], dropRecord: false, halt: failure.message };
		case 'hold':
			return { retry: [], dropRecord: false, hold: failure.message };
		case 'pause':
			return {
				retry: [],
				dropRecord: false,
				pause: { until: now + policy.pauseMs, reason: failure.message },
			};
		case 'reject': {
			const ids = entries.map((entry) => entry.event.id);
			if (ids.length > 1) return { retry: [], alone: ids, dropRecord: true };
			return { retry: [], deadLetter: { ids, reason: failure.message }, dropRecord: true };
		}
		case 'retry': {
			const expired = entries.filter(
				(entry) => now - (entry.budgetFrom ?? entry.event.receivedAt) >= policy.retryBudget,
			);
			const retry = entries
				.filter((entry) => !expired.includes(entry))
				.map((entry) => {
					const attempts = entry.attempts + 1;
					const schedule = policy.retrySchedule;
					const wait = schedule[Math.min(attempts, schedule.length) - 1] ?? 1000;
					const notBefore = now + Math.max(wait, failure.retryAfterMs ?? 0);
					return { id: entry.event.id, attempts, notBefore, lastError: failure.message };
				});
			if (expired.length === 0) return { retry, dropRecord: false };
			const ids = expired.map((entry) => entry.event.id);
			return {
				retry,
				deadLetter: { ids, reason: `retry budget spent: ${failure.message}` },
				dropRecord: true,
			};
		}
	}
}
