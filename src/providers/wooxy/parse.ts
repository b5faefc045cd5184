import { z } from 'zod';
import type { ParsedEvent } from '../../events/event.js';
import { PayloadError } from '../fields.js';

const text = (max: number) => z.string().trim().max(max);

/**
 * Wooxy's webhook body (docs/providers.md C.1). Only `event` is required: the shapes of
 * viber, sms and web-push events are undocumented, so everything else is optional and an unknown
 * event name is accepted as it is.
 */
const WooxyBody = z.object({
	event: text(100).min(1),
	// Epoch seconds; a number is bounded like the 12-digit string so `occurredAt` is always a valid Date.
	datetime: z
		.union([z.number().finite().nonnegative().lt(1e12), z.string().regex(/^\d{1,12}(\.\d+)?$/)])
		.optional(),
	email: text(320).optional(),
	id: z.union([text(200), z.number()]).optional(),
	userId: z.union([text(200), z.number()]).optional(),
	headers: z
		.record(z.string().max(200), z.union([z.string().max(2000), z.number(), z.boolean()]))
		.refine((headers) => Object.keys(headers).length <= 50, 'at most 50 headers')
		.optional()
		.nullable(),
});

export function parseWooxy(body: unknown): ParsedEvent {
	if (typeof body !== 'object' || body === null || Array.isArray(body)) {
		throw new PayloadError('expected a JSON object');
	}
	const result = WooxyBody.safeParse(body);
	if (!result.success) {
		const issue = result.error.issues[0];
		throw new PayloadError(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
	}
	const { event, datetime, email, id, userId, headers } = result.data;
	return {
		provider: 'wooxy',
		kind: 'email.event',
		event,
		...(email && { email }),
		...(id !== undefined && id !== '' && { messageId: String(id) }),
		...(userId !== undefined && userId !== '' && { userId: String(userId) }),
		...(datetime !== undefined && { occurredAt: Math.round(Number(datetime) * 1000) }),
		headers: Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name, String(value)])),
	};
}
