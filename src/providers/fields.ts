import { truncate } from '../text.js';

/** A callback that is not well-formed: the route answers 400 with this message. */
export class PayloadError extends Error {
	override name = 'PayloadError';
}

export type Fields = Record<string, string>;

/** Longest single field value hookcord keeps; a body limit already bounds the total. */
export const MAX_FIELD_LENGTH = 32_768;
const MAX_FIELDS = 32;

/**
 * Merges form sources into one flat record of strings, later sources winning (MOFH may send its fields in
 * the body or the query string). A field sent twice in one source, a non-text value or an oversized
 * value is a malformed callback, reported by name.
 */
export function flattenFields(...sources: unknown[]): Fields {
	const fields: Fields = Object.create(null);
	for (const source of sources) {
		if (source === undefined || source === null) continue;
		if (typeof source !== 'object' || Array.isArray(source)) throw new PayloadError('expected form fields');
		for (const [name, value] of Object.entries(source)) {
			if (Array.isArray(value)) throw new PayloadError(`field "${clip(name)}" is repeated`);
			if (typeof value !== 'string') throw new PayloadError(`field "${clip(name)}" must be text`);
			if (value.length > MAX_FIELD_LENGTH) {
				throw new PayloadError(`field "${clip(name)}" is longer than ${MAX_FIELD_LENGTH} characters`);
			}
			fields[name] = value;
		}
	}
	if (Object.keys(fields).length > MAX_FIELDS) throw new PayloadError(`more than ${MAX_FIELDS} fields`);
	return fields;
}

/** A required, non-blank field, trimmed. */
export function required(fields: Fields, name: string, pattern?: RegExp, expected?: string): string {
	const value = fields[name]?.trim();
	if (!value) throw new PayloadError(`field "${name}" is required`);
	if (pattern && !pattern.test(value)) {
		throw new PayloadError(`field "${name}" must be ${expected ?? `like ${pattern}`}, got "${clip(value)}"`);
	}
	return value;
}

/** Quotes user input inside an error message without echoing a whole payload back: 64 characters at most. */
export const clip = (text: string): string => truncate(text, 64 + 1);
