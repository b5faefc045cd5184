import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientKey } from './allowlist.js';

/** Why a request was refused; counted for `/readyz`. */
export type RefusalReason = 'notFound' | 'forbidden' | 'badSignature' | 'malformedUrl';

export interface RefusalOptions {
	/** Refusals per client address and window before that address gets 429. */
	max: number;
	windowMs?: number;
	/** Addresses tracked at once; the oldest window is dropped past it, so a spray of addresses cannot grow memory. */
	maxAddresses?: number;
	now?: () => number;
}

export interface Refusals {
	/**
	 * Answers a refused request with `status` and `body`, counted against the client address; once the address
	 * has used up its refusals in the window it gets 429 with `Retry-After` instead. Only what an attacker
	 * does is refused (a wrong secret, an unknown path, an address outside an allowlist, a bad signature), so
	 * a provider sending well-formed callbacks with the right secret never reaches the limit, and is never
	 * asked this question: its callbacks go through whatever its address did before.
	 */
	refuse(
		request: FastifyRequest,
		reply: FastifyReply,
		reason: RefusalReason,
		status: number,
		body: unknown,
	): FastifyReply;
	/** An `onRequest` hook: 429 before the body is read to an address that has used up its refusals. */
	gate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
	/** Whether `request` was refused (its log line goes at debug level, so floods do not flood the log). */
	wasRefused(request: FastifyRequest): boolean;
	/** Refusals since start, by reason, and the 429s answered to addresses past the limit. */
	counts(): Record<RefusalReason | 'rateLimited', number>;
}

/** A fixed window per client address (an IPv6 client's /64) of the requests refused from it. */
export function createRefusals({
	max,
	windowMs = 60_000,
	maxAddresses = 10_000,
	now = Date.now,
}: RefusalOptions): Refusals {
	const windows = new Map<string, { count: number; resetAt: number }>();
	const refused = new WeakSet<FastifyRequest>();
	const counts = { notFound: 0, forbidden: 0, badSignature: 0, malformedUrl: 0, rateLimited: 0 };

	const current = (key: string) => {
		const window = windows.get(key);
		if (window && window.resetAt > now()) return window;
		if (window) windows.delete(key);
		return undefined;
	};
	const limited = (request: FastifyRequest, reply: FastifyReply, resetAt: number) => {
		refused.add(request);
		counts.rateLimited++;
		const seconds = Math.max(1, Math.ceil((resetAt - now()) / 1000));
		return reply
			.code(429)
			.header('retry-after', String(seconds))
			.send({ error: `too many refused requests from this address, retry in ${seconds} s` });
	};

	return {
		refuse(request, reply, reason, status, body) {
			const key = clientKey(request.ip);
			const window = current(key);
			if (window && window.count >= max) return limited(request, reply, window.resetAt);
			if (window) window.count++;
			else {
				// Windows are created in time order, so the first ones are the oldest: drop those that ended,
				// and past `maxAddresses` the oldest that has not.
				for (const [oldKey, { resetAt }] of windows) {
					if (resetAt > now() && windows.size < maxAddresses) break;
					windows.delete(oldKey);
				}
				windows.set(key, { count: 1, resetAt: now() + windowMs });
			}
			refused.add(request);
			counts[reason]++;
			return reply.code(status).send(body);
		},
		async gate(request, reply) {
			const window = current(clientKey(request.ip));
			if (window && window.count >= max) return limited(request, reply, window.resetAt);
			return undefined;
		},
		wasRefused: (request) => refused.has(request),
		counts: () => ({ ...counts }),
	};
}
