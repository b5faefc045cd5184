/**
 * What a failed send means, as a destination kind classifies it (the worker's `decide` acts on it):
 * - `retry`: transient (5xx, timeout, network, a rate limit longer than we wait in place); back off.
 * - `pause`: this destination is unusable for now (403, 404, a dead webhook); keep its events, try it
 *   again after a while.
 * - `hold`: stop this destination at the entry in flight until a person decides (resend or skip); the
 *   hold is kept in the store, so it survives a restart.
 * - `halt`: the kind's credentials are refused (the bot token, 401); stop every destination of the
 *   kind: each more request would count toward Discord's invalid-request ban.
 * - `reject`: the destination refused the payload itself (400); sending it again cannot help.
 */
export type FailureKind = 'retry' | 'pause' | 'hold' | 'halt' | 'reject';

export interface Failure {
	kind: FailureKind;
	message: string;
	/** How long the destination asked us to wait (Retry-After), when it said. */
	retryAfterMs?: number;
}

export class DeliveryError extends Error implements Failure {
	override name = 'DeliveryError';
	constructor(
		readonly kind: FailureKind,
		message: string,
		readonly retryAfterMs?: number,
		/** Discord's JSON error code, when it sent one (e.g. 220001: a forum webhook needs a thread). */
		readonly code?: number,
	) {
		super(message);
	}
}

/** A DeliveryError as it is; anything else thrown by a send is taken as transient. */
export function toFailure(error: unknown): Failure {
	if (error instanceof DeliveryError) return error;
	return { kind: 'retry', message: String(error) };
}

/** Maps an HTTP status from Discord to how the worker reacts. */
export function classifyStatus(status: number, botRoute: boolean): FailureKind {
	if (status === 401) return botRoute ? 'halt' : 'pause';
	if (status === 403 || status === 404) return 'pause';
	if (status === 429 || status >= 500 || status === 408) return 'retry';
	return 'reject';
}

/** Thrown in place of a send once this instance no longer holds the delivery lease. */
export const notLeading = () =>
	new DeliveryError('pause', 'this instance no longer holds the delivery lease');
