/** Text measured and cut as people see it: in code points, not UTF-16 units (an emoji is one). */

export function codePoints(text: string): number {
	let count = 0;
	for (const _ of text) count++;
	return count;
}

/** `text` cut to at most `max` code points, the cut marked with an ellipsis (counted in `max`). */
export function truncate(text: string, max: number): string {
	if (text.length <= max) return text; // UTF-16 length ≥ code points: already fits
	const chars = [...text];
	if (chars.length <= max) return text;
	return `${chars
		.slice(0, max - 1)
		.join('')
		.trimEnd()}…`;
}
