/**
 * The closed sets of metric labels besides the events' own (events/labels.ts): what happened to a
 * callback, where an alert went and why it failed, how a command ended.
 */

/** What happened to a callback hookcord parsed, and to one it refused before parsing. */
export const STORED_OUTCOMES = ['stored', 'duplicate', 'unavailable', 'in_progress', 'busy'] as const;
export const REFUSED_OUTCOMES = [
	'malformed',
	'forbidden',
	'not_found',
	'too_large',
	'rate_limited',
	'other',
] as const;
export type CallbackOutcome = (typeof STORED_OUTCOMES)[number] | (typeof REFUSED_OUTCOMES)[number];

/** The refusal an HTTP status on a hook route stands for (2xx and 503 are counted where they happen). */
export function refusalOf(status: number): (typeof REFUSED_OUTCOMES)[number] {
	switch (status) {
		case 400:
		case 415:
			return 'malformed';
		case 403:
			return 'forbidden';
		case 404:
			return 'not_found';
		case 413:
			return 'too_large';
		case 429:
			return 'rate_limited';
		default:
			return 'other';
	}
}

/** Alertmanager's closed set of notification failure reasons (notify/metrics.go). */
export const FAILURE_REASONS = ['clientError', 'serverError', 'contextDeadlineExceeded', 'other'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const COMMAND_OUTCOMES = ['ok', 'error', 'refused'] as const;
export type CommandOutcome = (typeof COMMAND_OUTCOMES)[number];
