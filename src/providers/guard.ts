import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createAllowlist } from '../net/allowlist.js';

export const NOT_FOUND = { error: 'not found' } as const;

function sha256(text: string): Buffer {
	return createHash('sha256').update(text).digest();
}

/**
 * The gate in front of every provider route, run before the body is read: a wrong secret answers
 * exactly like an unknown path (404) and is compared in constant time (hashing first makes the
 * comparison independent of the guess's length); a known secret from outside the allowlist gets 403.
 */
export function hookGuard(secret: string, allowedIps: string[]) {
	const expected = sha256(secret);
	const allowed = createAllowlist(allowedIps);
	return async (request: FastifyRequest<{ Params: { secret?: string } }>, reply: FastifyReply) => {
		const given = request.params.secret ?? '';
		if (!timingSafeEqual(sha256(given), expected)) return reply.code(404).send(NOT_FOUND);
		if (!allowed(request.ip)) {
			request.log.warn({ ip: request.ip }, 'callback from an address outside the allowlist');
			return reply.code(403).send({ error: `address ${request.ip} is not allowed to send callbacks` });
		}
	};
}
