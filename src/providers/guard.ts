import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { createAllowlist } from '../net/allowlist.js';

export const NOT_FOUND = { error: 'not found' } as const;

/** What every provider route is given by the app. */
export interface HookRouteOptions {
	secret: string;
	allowedIps: string[];
	/** Callbacks accepted per client address and minute. */
	rateLimit: number;
}

function sha256(text: string): Buffer {
	return createHash('sha256').update(text).digest();
}

/**
 * The gate in front of every provider route. Order matters:
 * 1. `onRequest`: per-address rate limit (@fastify/rate-limit), so guessing secrets is throttled too;
 * 2. `preParsing`, before the body is read: a wrong secret answers exactly like an unknown path (404),
 *    compared in constant time (hashing first makes the comparison independent of the guess's length);
 *    a known secret from outside the allowlist gets 403;
 * 3. then the body is parsed within `bodyLimit` (413 above it).
 */
export function hookRoute(options: HookRouteOptions, bodyLimit: number): RouteShorthandOptions {
	const expected = sha256(options.secret);
	const allowed = createAllowlist(options.allowedIps);
	return {
		bodyLimit,
		config: { rateLimit: { max: options.rateLimit, timeWindow: 60_000 } },
		preParsing: async (request: FastifyRequest, reply: FastifyReply, payload) => {
			const given = (request.params as { secret?: string }).secret ?? '';
			if (!timingSafeEqual(sha256(given), expected)) return reply.code(404).send(NOT_FOUND);
			if (!allowed(request.ip)) {
				request.log.warn({ ip: request.ip }, 'callback from an address outside the allowlist');
				return reply.code(403).send({ error: `address ${request.ip} is not allowed to send callbacks` });
			}
			return payload;
		},
	};
}
