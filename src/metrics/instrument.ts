import type { FastifyInstance } from 'fastify';
import type { Failure } from '../delivery/errors.js';
import type { DestinationKind, Kinds } from '../delivery/kind.js';
import type { Provider } from '../events/event.js';
import { type Ingest, InProgressError, StoreUnavailableError } from '../state/ingest.js';
import type { FailureReason } from './labels.js';
import type { Metrics } from './metrics.js';

/**
 * Where metrics meet the flow: wrappers around the ingest and the sender, and a response hook on the
 * receiver. Each records after the work, never changes what it returns or throws.
 */

/** Counts each parsed callback by outcome and times its ingest. `busy`: INGEST_MAX_PENDING was reached. */
export function meterIngest(ingest: Ingest, metrics: Metrics, isBusy: (error: unknown) => boolean): Ingest {
	return async (parsed, ...rest) => {
		const started = performance.now();
		try {
			const result = await ingest(parsed, ...rest);
			const seconds = (performance.now() - started) / 1000;
			metrics.callback(parsed.provider, parsed.kind, result.duplicate ? 'duplicate' : 'stored', seconds);
			return result;
		} catch (error) {
			const outcome = isBusy(error)
				? 'busy'
				: error instanceof InProgressError
					? 'in_progress'
					: error instanceof StoreUnavailableError
						? 'unavailable'
						: undefined;
			if (outcome) metrics.callback(parsed.provider, parsed.kind, outcome);
			throw error;
		}
	};
}

const HOOK_ROUTE = /^\/hooks\/(mofh|xolphin|wooxy)\//;

/**
 * Counts what a hook route refused before a callback was parsed (wrong secret, address outside the
 * allowlist, malformed payload, too large, rate limited), by provider. Unknown paths are not callbacks
 * and are not counted; answers from the ingest (200, 503) are counted by meterIngest.
 */
export function meterRefusals(app: FastifyInstance, metrics: Metrics): void {
	app.addHook('onResponse', (request, reply, done) => {
		const status = reply.statusCode;
		if (status >= 400 && status !== 503) {
			const provider = HOOK_ROUTE.exec(request.routeOptions.url ?? '')?.[1] as Provider | undefined;
			if (provider) metrics.refused(provider, status);
		}
		done();
	});
}

/** Alertmanager's reason for a failed attempt, and whether it was rate-limited. */
export function failureReason({ kind, message }: Failure): { failure: FailureReason; rateLimited: boolean } {
	if (/^rate limited\b/.test(message)) return { failure: 'clientError', rateLimited: true };
	const status = Number(/^(?:Discord|webhook answered) (\d{3})\b/.exec(message)?.[1]);
	if (status === 429) return { failure: 'clientError', rateLimited: true };
	if (status >= 500) return { failure: 'serverError', rateLimited: false };
	if (status >= 400) return { failure: 'clientError', rateLimited: false };
	if (/timeout|timed out|aborted/i.test(message))
		return { failure: 'contextDeadlineExceeded', rateLimited: false };
	if (kind !== 'retry') return { failure: 'clientError', rateLimited: false };
	return { failure: 'other', rateLimited: false };
}

/**
 * Times and counts each send of every destination kind: its alerts when it went through, else the
 * failure as the kind itself classifies it. Each kind's name is created at 0 first.
 */
export function meterKinds(kinds: Kinds, metrics: Metrics): Kinds {
	metrics.knowDestinationKinds([...kinds.keys()]);
	return new Map(
		[...kinds].map(([name, kind]): [string, DestinationKind] => [
			name,
			{
				...kind,
				async send(destination, record, entries) {
					const started = performance.now();
					try {
						await kind.send(destination, record, entries);
					} catch (error) {
						const failure = kind.classify(error);
						metrics.notification(name, (performance.now() - started) / 1000, failureReason(failure));
						throw error;
					}
					metrics.notification(name, (performance.now() - started) / 1000, { alerts: record.ids.length });
				},
			},
		]),
	);
}
