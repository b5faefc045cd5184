import { shownTarget } from '../../net/target-url.js';

/** What came of one attempt, as the sender saw it. */
export type Outcome =
	| { answered: true; status: number; location?: string; retryAfter?: string }
	| {
			answered: false;
			/** Whether the whole request was handed to the network before it failed. */
			written: boolean;
			/** No answer within FORWARD_TIMEOUT (else a network error, named by `error`). */
			timedOut: boolean;
			error: string;
	  };

/**
 * - `delivered`: a 2xx (panels answer 200 even when they failed inside; it is all there is to go on);
 * - `retry`: the target cannot have acted (nothing reached it whole, or it said so: 429, 502, 503, 504);
 *   sent again on RETRY_SCHEDULE, or after Retry-After when later;
 * - `pause`: it may have acted (no panel is idempotent: a second ACTIVATED mails the password again), so
 *   a person decides.
 */
export type Verdict =
	| { verdict: 'delivered'; answer: string }
	| { verdict: 'retry'; reason: string; retryAfterMs?: number }
	| { verdict: 'pause'; reason: string };

const GATEWAY_REFUSALS = new Set([502, 503, 504]);

/** Pure: how the forwarder reacts to an attempt's outcome. `now` reads a Retry-After date. */
export function classifyForward(
	outcome: Outcome,
	timeoutMs: number,
	now: number,
	targetUrl: string,
): Verdict {
	if (!outcome.answered) {
		if (!outcome.written) return { verdict: 'retry', reason: `not sent: ${outcome.error}` };
		if (outcome.timedOut)
			return { verdict: 'pause', reason: `no answer within ${seconds(timeoutMs)} (the request was sent)` };
		return {
			verdict: 'pause',
			reason: `the connection was cut after the request was sent (${outcome.error})`,
		};
	}
	const { status } = outcome;
	if (status >= 200 && status < 300) return { verdict: 'delivered', answer: `answered ${status}` };
	if (status === 429 || GATEWAY_REFUSALS.has(status)) {
		const wait = retryAfterMs(outcome.retryAfter, now);
		return {
			verdict: 'retry',
			reason: `answered ${status}`,
			...(wait !== undefined && { retryAfterMs: wait }),
		};
	}
	if (status >= 300 && status < 400) {
		const where = outcome.location ? locationShown(outcome.location, targetUrl) : 'no Location';
		return { verdict: 'pause', reason: `answered ${status}, a redirect to ${where} (not followed)` };
	}
	return { verdict: 'pause', reason: `answered ${status}` };
}

/** Retry-After in seconds or as an HTTP date; capped at a day (a panel's typo must not park it for years). */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
	if (!header) return undefined;
	const text = header.trim();
	const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
	if (!Number.isFinite(ms)) return undefined;
	return Math.min(Math.max(ms, 0), 86_400_000);
}

/** A redirect's Location as scheme, host and path (it may carry a query with a key, like the target). */
function locationShown(location: string, targetUrl: string): string {
	try {
		return shownTarget(new URL(location, targetUrl));
	} catch {
		return 'an unreadable Location';
	}
}

function seconds(ms: number): string {
	return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
