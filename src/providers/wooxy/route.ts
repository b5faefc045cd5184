import type { FastifyInstance } from 'fastify';
import type { Ingest } from '../../state/ingest.js';
import { arrivalOf, type HookRouteOptions, hookRoute } from '../guard.js';
import { parseWooxy } from './parse.js';

/** Wooxy posts one JSON event and retries unless it gets a 200 within 1.5 s: store, answer, deliver later. */
export async function wooxyRoutes(app: FastifyInstance, opts: HookRouteOptions & { ingest: Ingest }) {
	app.post<{ Params: { secret: string } }>(
		'/hooks/wooxy/:secret',
		hookRoute(opts, 64 * 1024),
		async (request) => {
			const parsed = parseWooxy(request.body);
			const { id, duplicate } = await opts.ingest(parsed, [], await arrivalOf(request));
			return { ok: true, id, ...(duplicate && { duplicate }) };
		},
	);
}
