import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import type { Ingest } from '../../state/ingest.js';
import { flattenFields, MAX_FIELD_LENGTH } from '../fields.js';
import { type HookRouteOptions, hookRoute } from '../guard.js';
import { parseMofh } from './parse.js';

/** MOFH posts form fields: urlencoded or multipart (NOTES.md A.1 cannot tell which), or in the query. */
export async function mofhRoutes(app: FastifyInstance, opts: HookRouteOptions & { ingest: Ingest }) {
	await app.register(formbody, { bodyLimit: 64 * 1024 });
	await app.register(multipart, {
		attachFieldsToBody: 'keyValues',
		limits: { files: 0, fields: 32, parts: 32, fieldSize: MAX_FIELD_LENGTH, fieldNameSize: 100 },
	});
	app.post<{ Params: { secret: string } }>(
		'/hooks/mofh/:secret',
		hookRoute(opts, 64 * 1024),
		async (request) => {
			const { id, duplicate } = await opts.ingest(parseMofh(flattenFields(request.query, request.body)));
			return { ok: true, id, ...(duplicate && { duplicate }) };
		},
	);
}
