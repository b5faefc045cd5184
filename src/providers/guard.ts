import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { errorCodes, type FastifyReply, type FastifyRequest, type RouteShorthandOptions } from 'fastify';
import { createAllowlist } from '../net/allowlist.js';
import type { Refusals } from '../net/refusals.js';
import type { Arrival } from '../state/forwards.js';

export const NOT_FOUND = { error: 'not found' } as const;

/** What every provider route is given by the app. */
export interface HookRouteOptions {
	secret: string;
	allowedIps: string[];
	/** Counts refused requests per client address; 429 past the limit. */
	refusals: Refusals;
	/** The provider has forward targets: keep each callback's bytes as they arrived (see `arrivalOf`). */
	forward?: boolean;
}

/** The body bytes of requests whose arrival is kept, as they are read. */
const bodies = new WeakMap<FastifyRequest, { chunks: Buffer[]; size: number; limit: number }>();

/**
 * Records the body's bytes as whatever parses it reads them (Fastify's form and JSON parsers, or
 * busboy, which reads the raw request itself for multipart). A listener on the raw request sees every
 * chunk its reader sees; pausing at once keeps the listener from starting the flow before the reader
 * is there (both resume the stream when they start).
 */
function keepBody(request: FastifyRequest, limit: number): void {
	const body = { chunks: [] as Buffer[], size: 0, limit };
	bodies.set(request, body);
	request.raw.on('data', (chunk: Buffer) => {
		body.size += chunk.length;
		if (body.size <= limit) body.chunks.push(chunk);
	});
	request.raw.pause();
}

/**
 * The callback as it arrived, for a panel behind hookcord: method, Content-Type, query string, body
 * bytes, the client's address. Undefined unless the route keeps arrivals. Waits for the body's last
 * bytes (busboy may finish at the closing boundary, before an epilogue); a body over the route's limit
 * is refused as too large, like any other.
 */
export async function arrivalOf(request: FastifyRequest): Promise<Arrival | undefined> {
	const body = bodies.get(request);
	if (!body) return undefined;
	const raw = request.raw;
	if (request.method !== 'GET' && !raw.readableEnded && !raw.destroyed) {
		const ended = once(raw, 'end');
		raw.resume();
		await ended;
	}
	if (body.size > body.limit) throw new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
	const url = request.raw.url ?? '';
	const mark = url.indexOf('?');
	const contentType = request.headers['content-type'];
	return {
		method: request.method,
		...(contentType && { contentType }),
		query: mark === -1 ? '' : url.slice(mark + 1),
		body: request.method === 'GET' ? '' : Buffer.concat(body.chunks).toString('base64'),
		address: request.ip,
	};
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
			if (options.forward) keepBody(request, bodyLimit);
			return payload;
		},
	};
}
