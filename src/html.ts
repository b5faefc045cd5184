/**
 * HTML and XML fragments from outside (a MOFH answer, a ticket reply) ─▶ text, in one pass over a bounded
 * prefix. Regular expressions such as `<[^>]*>` or `<script[\s\S]*?<\/script>` rescan the rest of the
 * text from every unclosed `<` or `<script`: quadratic, minutes for one megabyte. Here every character is
 * looked at a bounded number of times:
 * - a tag with no `>` after it means no later `<` has one either, so the rest of them are text;
 * - a `<script` or `<style` with no end tag swallows the rest of the text, as in a browser, so its end is
 *   searched for once;
 * - an entity is read within a bounded window.
 */

import { prefix } from './text.js';

/** The entities providers use; anything else is kept as written (never looked up on a prototype). */
const NAMED: Readonly<Record<string, string>> = Object.freeze(
	Object.assign(Object.create(null), { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }),
);

/** `&` + `#x10FFFF` or a name + `;`: nothing longer is an entity hookcord decodes. */
const ENTITY_WINDOW = 32;

/** Elements whose content is code, not text. */
const RAW_TEXT = new Set(['script', 'style']);
const RAW_END: Record<string, RegExp> = { script: /<\/script\s*>/gi, style: /<\/style\s*>/gi };

/** Tags that end a line when line breaks are kept (a ticket reply's `<br>` and block ends). */
const LINE_ENDS = new Set([
	'br',
	'br/',
	'/p',
	'/div',
	'/li',
	'/tr',
	'/h1',
	'/h2',
	'/h3',
	'/h4',
	'/h5',
	'/h6',
]);

export interface MarkupTextOptions {
	/** Only this many UTF-16 units of the input are read (the texts that matter are far shorter). */
	maxInput: number;
	/** What a tag or a script/style element becomes: `' '` keeps words apart, `''` joins them. */
	tag: string;
	/** `<br>` and block ends become a newline. */
	lineBreaks?: boolean;
	/** Entities are decoded (default); false for a second pass over text already decoded once. */
	entities?: boolean;
	/** What a numeric entity outside Unicode (or a surrogate, or zero) becomes; kept as written if unset. */
	badNumber?: string;
}

/**
 * Tags dropped, `<script>`/`<style>` elements dropped with their content, CDATA sections unwrapped,
 * entities decoded. Whitespace and control characters are left to the caller.
 */
export function markupToText(html: string, options: MarkupTextOptions): string {
	const text = prefix(html, options.maxInput);
	const out: string[] = [];
	const length = text.length;
	/** No `>` at or after this index: every later `<` is text. */
	let noCloseFrom = length + 1;
	let runStart = 0;
	let i = 0;
	const flush = (end: number) => {
		if (end > runStart) out.push(text.slice(runStart, end));
	};
	while (i < length) {
		const char = text.charCodeAt(i);
		if (char === 0x3c /* < */) {
			if (text.startsWith('<![CDATA[', i)) {
				flush(i);
				const end = text.indexOf(']]>', i + 9);
				const stop = end < 0 ? length : end;
				out.push(text.slice(i + 9, stop));
				i = end < 0 ? length : end + 3;
				runStart = i;
				continue;
			}
			const next = text.charCodeAt(i + 1);
			const opensTag =
				isLetter(next) || next === 0x2f /* / */ || next === 0x21 /* ! */ || next === 0x3f; /* ? */
			const close = opensTag && i < noCloseFrom ? text.indexOf('>', i + 1) : -1;
			if (close < 0) {
				if (opensTag) noCloseFrom = Math.min(noCloseFrom, i);
				i++;
				continue;
			}
			flush(i);
			const name = tagName(text, i + 1, close);
			i = close + 1;
			if (RAW_TEXT.has(name)) {
				const end = RAW_END[name] as RegExp;
				end.lastIndex = i;
				const found = end.exec(text);
				// Unclosed: the rest is inside the element.
				i = found ? found.index + found[0].length : length;
			}
			out.push(options.lineBreaks && LINE_ENDS.has(name) ? '\n' : options.tag);
			runStart = i;
			continue;
		}
		if (char === 0x26 /* & */ && options.entities !== false) {
			const decoded = entityAt(text, i, options.badNumber);
			if (decoded) {
				flush(i);
				out.push(decoded.text);
				i += decoded.length;
				runStart = i;
				continue;
			}
		}
		i++;
	}
	flush(length);
	return out.join('');
}

function isLetter(code: number): boolean {
	return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function isEntityChar(code: number): boolean {
	return isLetter(code) || isDigit(code) || code === 0x23; /* # */
}

function isDigit(code: number): boolean {
	return code >= 0x30 && code <= 0x39;
}

/** `br`, `/p`, `br/`, `script`: the tag's name, lower case, with its leading `/`, from `<` + 1 to `>`. */
function tagName(text: string, from: number, close: number): string {
	let end = from;
	if (text.charCodeAt(end) === 0x2f) end++;
	while (end < close && end - from < 12 && isLetter(text.charCodeAt(end))) end++;
	// Up to six digits for h1–h6; a self-closing `<br/>` keeps its slash.
	while (end < close && end - from < 12 && isDigit(text.charCodeAt(end))) end++;
	let name = text.slice(from, end).toLowerCase();
	if (name === 'br' && text.slice(end, close).trim() === '/') name = 'br/';
	return name;
}

/** The entity starting at `at` (`&…;`), decoded, and how many units it spans; undefined if none. */
function entityAt(
	text: string,
	at: number,
	badNumber?: string,
): { text: string; length: number } | undefined {
	// Only letters, digits and `#` can come before the `;`, within the window: a run of `&`, or of
	// anything else, costs one look each.
	let end = at + 1;
	const limit = Math.min(text.length, at + ENTITY_WINDOW);
	while (end < limit && isEntityChar(text.charCodeAt(end))) end++;
	if (end >= limit || text.charCodeAt(end) !== 0x3b /* ; */) return undefined;
	const body = text.slice(at + 1, end);
	const length = end - at + 1;
	const numeric = /^#(?:[xX]([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(body);
	if (numeric) {
		const point = numeric[1] !== undefined ? Number.parseInt(numeric[1], 16) : Number(numeric[2]);
		const valid = point > 0 && point <= 0x10ffff && (point < 0xd800 || point > 0xdfff);
		if (valid) return { text: String.fromCodePoint(point), length };
		return badNumber === undefined ? undefined : { text: badNumber, length };
	}
	if (!/^[A-Za-z]{1,10}$/.test(body)) return undefined;
	const named = NAMED[body.toLowerCase()];
	return named === undefined ? undefined : { text: named, length };
}
