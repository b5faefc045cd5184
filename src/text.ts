/** Text measured and cut as people see it: in code points, not UTF-16 units (an emoji is one). */

export function codePoints(text: string): number {
	let count = 0;
	for (const _ of text) count++;
	return count;
}

/**
 * `text` cut to at most `max` code points, the cut marked with an ellipsis (counted in `max`). Reads no
 * further than the cut, so a megabyte costs no more than `max` code points. With `trim`, surrounding
 * white space goes first, as Discord trims a text before counting it.
 */
export function truncate(input: string, max: number, { trim = false }: { trim?: boolean } = {}): string {
	const text = trim ? input.trim() : input;
	if (text.length <= max) return text; // UTF-16 length ≥ code points: already fits
	let index = 0;
	let count = 0;
	/** Where the first `max - 1` code points end: the cut, when there are more than `max`. */
	let cut = 0;
	while (index < text.length) {
		index += (text.codePointAt(index) as number) > 0xffff ? 2 : 1;
		count++;
		if (count === max - 1) cut = index;
		if (count > max) return `${text.slice(0, cut).trimEnd()}…`;
	}
	return text;
}

/** The first `max` UTF-16 units of `text`, not ending in half a surrogate pair. */
export function prefix(text: string, max: number): string {
	if (text.length <= max) return text;
	const last = text.charCodeAt(max - 1);
	return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/**
 * The bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069): they make text read differently
 * from what it is (an override reverses the text after it, in Discord as in a terminal).
 */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/gu;

/** Text without bidi controls. */
export function dropBidiControls(text: string): string {
	return text.replace(BIDI_CONTROLS, '');
}
