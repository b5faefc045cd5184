import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ingest } from '../../state/ingest.js';
import { flattenFields } from '../fields.js';
import { arrivalOf, type HookRouteOptions, hookRoute } from '../guard.js';
import { parseXolphin } from './parse.js';

/** Xolphin calls with GET and query parameters; a POST with form fields is taken too. Answers `OK`. */
export async function xolphinRoutes(app: FastifyInstance, opts: HookRouteOptions & { ingest: Ingest }) {
	// Form fields or none: a JSON or text body is a content type this route does not take (415).
	app.removeContentTypeParser(['application/json', 'text/plain']);
	await app.register(formbody, { bodyLimit: 16 * 1024 });
	const handler = async (request: FastifyRequest, reply: FastifyReply) => {
		const parsed = parseXolphin(flattenFields(request.query, request.body));
		await opts.ingest(parsed, [], await arrivalOf(request));
		return reply.type('text/plain; charset=utf-8').send('OK');
	};
	const routeOptions = hookRoute(opts, 16 * 1024);
	// No implicit HEAD route: a HEAD probe must not store an event and alert.
	app.get('/hooks/xolphin/:secret', { ...routeOptions, exposeHeadRoute: false }, handler);
	app.post('/hooks/xolphin/:secret', routeOptions, handler);
}
