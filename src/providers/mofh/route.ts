import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import { errorCodes, type FastifyError, type FastifyInstance } from 'fastify';
import type { Ingest } from '../../state/ingest.js';
import { clip, flattenFields, MAX_FIELD_LENGTH, PayloadError } from '../fields.js';
import { arrivalOf, type HookRouteOptions, hookRoute } from '../guard.js';
import { parseMofh } from './parse.js';

const BODY_LIMIT = 64 * 1024;

/** MOFH posts form fields: urlencoded or multipart (docs/providers.md A.1 cannot tell which), or in the query. */
export async function mofhRoutes(app: FastifyInstance, opts: HookRouteOptions & { ingest: Ingest }) {
	// Form fields (urlencoded or multipart) or none: JSON and text bodies get 415.
	app.removeContentTypeParser(['application/json', 'text/plain']);
	await app.register(formbody, { bodyLimit: BODY_LIMIT });
	await app.register(multipart, {
		limits: { files: 0, fields: 32, parts: 32, fieldSize: MAX_FIELD_LENGTH, fieldNameSize: 100 },
	});
	// Multipart fields are read here rather than with `attachFieldsToBody`, for three reasons: busboy reports
	// a malformed body (no boundary, truncated data) with plain errors, which would answer 500; it silently
	// cuts a value over `fieldSize`; and the plugin streams past Fastify's `bodyLimit`. The first two are a
	// malformed callback (400), the last gets the 413 any other body gets; the plugin's own errors (file
	// part, too many parts, `__proto__` name) keep their status.
	app.addHook('preValidation', async (request) => {
		if (!request.isMultipart()) return;
		const tooLarge = () => new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
		if (Number(request.headers['content-length']) > BODY_LIMIT) throw tooLarge();
		const body: Record<string, unknown> = Object.create(null);
		let size = 0;
		try {
			for await (const part of request.parts()) {
				if (part.type === 'file') throw new PayloadError('file uploads are not accepted');
				size += Buffer.byteLength(part.fieldname) + Buffer.byteLength(String(part.value));
				if (size > BODY_LIMIT) throw tooLarge();
				if (part.fieldnameTruncated || part.valueTruncated) {
					throw new PayloadError(`field "${clip(part.fieldname)}" is longer than ${MAX_FIELD_LENGTH} bytes`);
				}
				const earlier = body[part.fieldname];
				body[part.fieldname] = earlier === undefined ? part.value : [earlier, part.value];
			}
		} catch (error) {
			if (error instanceof PayloadError || (error as FastifyError).statusCode) throw error;
			throw new PayloadError(`malformed multipart body: ${(error as Error).message}`);
		}
		request.body = body;
	});
	app.post<{ Params: { secret: string } }>(
		'/hooks/mofh/:secret',
		hookRoute(opts, BODY_LIMIT),
		async (request) => {
			const parsed = parseMofh(flattenFields(request.query, request.body));
			const { id, duplicate } = await opts.ingest(parsed, [], await arrivalOf(request));
			return { ok: true, id, ...(duplicate && { duplicate }) };
		},
	);
}
