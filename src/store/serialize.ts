import { defaultDeserialize, defaultSerialize } from '@keyv/serialize';

/**
 * Keyv's stored form, written and read faster. Keyv's own serializer walks every value in JavaScript to
 * escape strings that start with ':' (its marker for Buffers); native JSON gives the same text whenever
 * no string starts with ':', which a look at the JSON shows: such a string opens with `":` right after
 * `:`, `,` or `[` (hookcord's keys never start with ':'). Anything else takes Keyv's own path, so stored
 * values stay readable by either.
 */
const MARKED = /(^|[:,[])":/;

export function serialize(data: unknown): string {
	const text = JSON.stringify(data) ?? 'null';
	return MARKED.test(text) ? defaultSerialize(data) : text;
}

export function deserialize<T>(text: string): T {
	return (MARKED.test(text) ? defaultDeserialize(text) : JSON.parse(text)) as T;
}

/** A stored entry's value as Keyv reads it: `live` is false once its `expires` has passed. */
export function storedValue(text: string, now = Date.now()): { value: unknown; live: boolean } {
	const data = deserialize<{ value?: unknown; expires?: number } | null>(text);
	return { value: data?.value, live: typeof data?.expires !== 'number' || data.expires > now };
}
