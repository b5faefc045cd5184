/**
 * How a failed send is handled:
 * - `retry`: transient (5xx, timeout, network, a rate limit longer than we wait in place); back off.
 * - `pause`: this destination is unusable (403, 404, a dead webhook); keep its events, try it later.
 * - `halt`: the bot token is refused (401); stop all bot sends, each more would count toward Discord's
 *   invalid-request ban (PLATFORM.md §1).
 * - `reject`: Discord refused the payload itself (400); sending it again cannot help.
 */
export type FailureKind = 'retry' | 'pause' | 'halt' | 'reject';

export class DeliveryError extends Error {
	override name = 'DeliveryError';
	constructor(
		readonly kind: FailureKind,
		message: string,
		readonly retryAfterMs?: number,
	) {
		super(message);
	}
}

/** Maps an HTTP status from Discord to how the worker reacts. */
export function classifyStatus(status: number, botRoute: boolean): FailureKind {
	if (status === 401) return botRoute ? 'halt' : 'pause';
	if (status === 403 || status === 404) return 'pause';
	if (status === 429 || status >= 500 || status === 408) return 'retry';
	return 'reject';
}
