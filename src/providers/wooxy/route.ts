import type { FastifyInstance } from 'fastify';
import type { Ingest } from '../../state/ingest.js';
import { hookGuard } from '../guard.js';
import { parseWooxy } from './parse.js';

/** Wooxy posts one JSON event and retries unless it gets a 200 within 1.5 s: store, answer, deliver later. */
export async function wooxyRoutes(
	app: FastifyInstance,
	opts: { ingest: Ingest; secret: string; allowedIps: string[] },
) {
	app.post<{ Params: { secret: string } }>(
		'/hooks/wooxy/:secret',
		{ onRequest: hookGuard(opts.secret, opts.allowedIps), bodyLimit: 64 * 1024 },
		async (request) => {
			const { id, duplicate } = await opts.ingest(parseWooxy(request.body));
			return { ok: true, id, ...(duplicate && { duplicate }) };
		},
	);
}
