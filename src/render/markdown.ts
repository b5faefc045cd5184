import { codeBlock as fence, inlineCode } from '@discordjs/formatters';
import { dropBidiControls, prefix, truncate } from '../text.js';
import { LIMITS } from './limits.js';

/**
 * Provider text as data in Discord markdown. Everything a callback or a provider API says goes through
 * one of `line`, `block`, `inline` or `code` before it reaches a message: it cannot add a line to a
 * headline, format or link anything (a masked link `[x](https://…)` stays text), or mention anyone, not
 * even where `allowed_mentions` does not apply (a mention rendered in an embed is a highlighted link).
 */

/** C0 and C1 controls except the newline: in a terminal an ESC starts an escape sequence. */
const CONTROLS = /(?!\n)\p{Cc}/gu;

/** Removes control characters and bidi controls (tabs become spaces); newlines stay. Safe for a terminal. */
export function stripControls(text: string): string {
	return dropBidiControls(text.replace(/\t/g, ' ').replace(CONTROLS, ''));
}

/** A zero-width space, invisible, that breaks Discord's mention and angle-bracket syntax. */
const ZWSP = '\u200b';

/**
 * `<@id>`, `<@&id>`, `<#id>`, `</cmd:id>`, `<t:…>` and every other `<…>` token, and `@everyone`/`@here`
 * (in any case and anywhere in a word, to be safe), made inert.
 */
export function neutraliseMentions(text: string): string {
	return text.replace(/</g, `<${ZWSP}`).replace(/@(everyone|here)/gi, `@${ZWSP}$1`);
}

/**
 * Markdown escaping, in one linear pass. A backslash before any ASCII punctuation is consumed by Discord's
 * parser, so escaping every character markdown uses (`\ * _ ~ | ` [ ] ( ) > #`, and list markers at the
 * start of a line) shows the text as it was and formats nothing: no bold, no heading, no quote, no
 * subtext (`-#`), no masked link (`[x](https://…)` keeps its brackets and parentheses as text).
 * `escapeMarkdown` from @discordjs/formatters is not used: its regexes take seconds on a few kilobytes
 * of crafted text (`[a](` repeated), and ticket text is up to 32 KB.
 */
function escapeProse(text: string): string {
	const escaped = text
		.replace(/[\\*_~|`[\]()>#]/g, '\\$&')
		.replace(/^( *)([-+]|\d+\.)(?= )/gm, (_, indent: string, marker: string) =>
			marker.endsWith('.') ? `${indent}${marker.slice(0, -1)}\\.` : `${indent}\\${marker}`,
		);
	return neutraliseMentions(escaped);
}

/**
 * The most of a text any one of these renders: more than any part of a message can show (a description
 * is 4096 code points, a field 1024), and escaping never shortens text. Escaping a megabyte only to cut
 * it to a field's length afterwards would take the event loop for no one.
 */
const RENDERED_INPUT = 8 * 1024;

const shown = (text: string) => prefix(text, RENDERED_INPUT);

/** One line of provider text, escaped: for titles and headlines, where a newline would forge a line. */
export function line(text: string): string {
	return escapeProse(stripControls(shown(text)).replace(/\s+/g, ' ').trim());
}

/** Provider text that may span lines (ticket replies), escaped line by line. */
export function block(text: string): string {
	return escapeProse(stripControls(shown(text)));
}

/**
 * Inline code: nothing inside is formatted, linked or mentioned, and backticks and line breaks cannot
 * close it. Mentions are broken here too, for clients that show message text raw (push notifications),
 * but `@here` inside an address (`ops@here.example`) stays as written, so it can be copied.
 */
export function inline(text: string): string {
	const clean = stripControls(shown(text))
		.replace(/`/g, 'ˋ')
		.replace(/\s+/g, ' ')
		.replace(/</g, `<${ZWSP}`)
		.replace(/(?<![\w.+-])@(everyone|here)/gi, `@${ZWSP}$1`);
	const cut = truncate(clean, 1000, { trim: true });
	return cut ? inlineCode(cut) : '—';
}

/** A code block that fits one field value; ``` inside cannot close it. */
export function code(text: string): string {
	const body = neutraliseMentions(stripControls(shown(text)).replace(/```/g, 'ˋˋˋ'));
	const room = LIMITS.fieldValue - 8;
	const chars = [...body];
	return fence(chars.length > room ? `${chars.slice(0, room - 1).join('')}…` : body);
}
