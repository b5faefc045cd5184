import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ingest } from '../../state/ingest.js';
import { flattenFields } from '../fields.js';
import { hookGuard } from '../guard.js';
import { parseXolphin } from './parse.js';

/** Xolphin calls with GET and query parameters; a POST with form fields is taken too. Answers `OK`. */
export async function xolphinRoutes(
	app: FastifyInstance,
	opts: { ingest: Ingest; secret: string; allowedIps: string[] },
) {
	await app.register(formbody, { bodyLimit: 16 * 1024 });
	const handler = async (request: FastifyRequest, reply: FastifyReply) => {
		await opts.ingest(parseXolphin(flattenFields(request.query, request.body)));
		return reply.type('text/plain; charset=utf-8').send('OK');
	};
	const routeOptions = { onRequest: hookGuard(opts.secret, opts.allowedIps), bodyLimit: 16 * 1024 };
	app.get('/hooks/xolphin/:secret', routeOptions, handler);
	app.post('/hooks/xolphin/:secret', routeOptions, handler);
}
