import type { ParsedEvent } from '../../events/event.js';
import { XOLPHIN_STATES, type XolphinState } from '../../vocabulary/xolphin.js';
import { type Fields, PayloadError, required } from '../fields.js';

const REQUEST_ID = /^\d{1,18}$/;
const DOMAIN = /^(?=.{1,253}$)(?:\*\.)?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/i;

/** Case-insensitive lookup of a documented state, so `dcv` and `DCV` are the same step. */
function documentedState(state: string): XolphinState | undefined {
	return XOLPHIN_STATES.find((known) => known.toLowerCase() === state.toLowerCase());
}

/**
 * Xolphin webhook parameters (RequestId, Status, State, Domain; docs/providers.md B.1) ─▶ event.
 * Status values outside Issued/Updated/Deleted are kept as `unrecognized`.
 */
export function parseXolphin(fields: Fields): ParsedEvent {
	const requestId = required(fields, 'RequestId', REQUEST_ID, 'a numeric Xolphin request id');
	const status = required(fields, 'Status');
	switch (status.toLowerCase()) {
		case 'issued':
			return { provider: 'xolphin', kind: 'cert.issued', requestId };
		case 'deleted':
			return { provider: 'xolphin', kind: 'cert.deleted', requestId };
		case 'updated': {
			const rawState = fields.State?.trim();
			const state = rawState ? (documentedState(rawState) ?? rawState) : undefined;
			if (state && state.length > 64) throw new PayloadError('field "State" is too long');
			const domain = fields.Domain?.trim().toLowerCase();
			if (domain && !DOMAIN.test(domain)) throw new PayloadError(`field "Domain" must be a domain name`);
			return {
				provider: 'xolphin',
				kind: 'cert.updated',
				requestId,
				...(state && { state }),
				...(domain && { domain }),
			};
		}
		default:
			return {
				provider: 'xolphin',
				kind: 'unrecognized',
				note: `undocumented Xolphin Status "${status}" for request ${requestId}`,
				fields: { ...fields },
			};
	}
}
