import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { createAllowlist } from '../net/allowlist.js';
import type { Refusals } from '../net/refusals.js';

export const NOT_FOUND = { error: 'not found' } as const;

/** What every provider route is given by the app. */
export interface HookRouteOptions {
	secret: string;
	allowedIps: string[];
	/** Counts refused requests per client address; 429 past the limit. */
	refusals: Refusals;
}

function sha256(text: string): Buffer {
	return createHash('sha256').update(text).digest();
}

/**
 * The gate in front of every provider route, before the body is read (`preParsing`):
 * 1. a wrong secret answers exactly like an unknown path (404), compared in constant time (hashing first
 *    makes the comparison independent of the guess's length); a known secret from outside the allowlist
 *    gets 403. Both count against the client address, which gets 429 once it has used up HOOK_RATE_LIMIT
 *    refusals in a minute. The right secret from an allowed address is never limited: a provider's
 *    sweep of thousands of callbacks from one server all goes through (MOFH does not retry a 429);
 * 2. then the body is parsed within `bodyLimit` (413 above it).
 */
export function hookRoute(options: HookRouteOptions, bodyLimit: number): RouteShorthandOptions {
	const expected = sha256(options.secret);
	const allowed = createAllowlist(options.allowedIps);
	return {
		bodyLimit,
		preParsing: async (request: FastifyRequest, reply: FastifyReply, payload) => {
			const given = (request.params as { secret?: string }).secret ?? '';
			const { refusals } = options;
			if (!timingSafeEqual(sha256(given), expected))
				return refusals.refuse(request, reply, 'notFound', 404, NOT_FOUND);
			if (!allowed(request.ip)) {
				refusals.refuse(request, reply, 'forbidden', 403, {
					error: `address ${request.ip} is not allowed to send callbacks`,
				});
				// The right secret from elsewhere: a provider's new address, or a proxy missing from TRUST_PROXY.
				// Warned up to HOOK_RATE_LIMIT times a minute per address (then it gets 429, logged at debug).
				if (reply.statusCode === 403)
					request.log.warn({ ip: request.ip }, 'callback from an address outside the allowlist');
				return reply;
			}
			return payload;
		},
	};
}
