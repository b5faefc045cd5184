import type { APIEmbed, APIEmbedField } from 'discord-api-types/v10';
import { codePoints, truncate } from '../text.js';

/** Discord's message limits (docs/discord.md §1). Counted in code points, not UTF-16 units. */
export const LIMITS = {
	title: 256,
	description: 4096,
	fields: 25,
	fieldName: 256,
	fieldValue: 1024,
	footer: 2048,
	author: 256,
	/** Sum of the texts above over every embed of one message. */
	total: 6000,
	embedsPerMessage: 10,
	content: 2000,
	nonce: 25,
	/** Autocomplete: choices per answer, and characters of a choice's name and of a string value. */
	choices: 25,
	choiceName: 100,
	choiceValue: 100,
} as const;

export { codePoints };

/** The characters an embed counts toward the 6000 total. */
export function embedLength(embed: APIEmbed): number {
	let total = codePoints(embed.title ?? '') + codePoints(embed.description ?? '');
	total += codePoints(embed.footer?.text ?? '') + codePoints(embed.author?.name ?? '');
	for (const field of embed.fields ?? []) total += codePoints(field.name) + codePoints(field.value);
	return total;
}

/**
 * Brings any embed within every per-embed limit and the 6000 total. Empty field names or values (which
 * Discord rejects) become a dash; when the total is over, the description is cut first, then fields.
 */
export function fitEmbed(embed: APIEmbed): APIEmbed {
	const fitted: APIEmbed = { ...embed };
	if (embed.title !== undefined) fitted.title = truncate(embed.title, LIMITS.title, { trim: true });
	if (embed.description !== undefined)
		fitted.description = truncate(embed.description, LIMITS.description, { trim: true });
	if (embed.footer)
		fitted.footer = { ...embed.footer, text: truncate(embed.footer.text, LIMITS.footer, { trim: true }) };
	if (embed.author)
		fitted.author = { ...embed.author, name: truncate(embed.author.name, LIMITS.author, { trim: true }) };
	if (embed.fields) {
		fitted.fields = embed.fields.slice(0, LIMITS.fields).map(
			(field): APIEmbedField => ({
				...field,
				name: truncate(field.name, LIMITS.fieldName, { trim: true }) || '—',
				value: truncate(field.value, LIMITS.fieldValue, { trim: true }) || '—',
			}),
		);
	}
	if (fitted.description === '') delete fitted.description;
	let over = embedLength(fitted) - LIMITS.total;
	if (over > 0 && fitted.description) {
		const keep = Math.max(0, codePoints(fitted.description) - over);
		fitted.description = keep > 1 ? truncate(fitted.description, keep, { trim: true }) : undefined;
		if (!fitted.description) delete fitted.description;
		over = embedLength(fitted) - LIMITS.total;
	}
	while (over > 0 && fitted.fields && fitted.fields.length > 0) {
		fitted.fields = fitted.fields.slice(0, -1);
		over = embedLength(fitted) - LIMITS.total;
	}
	return fitted;
}

/**
 * Groups already-fitted embeds, in order, into messages of at most ten embeds and 6000 characters.
 * Returns how many of the leading items go into the first message (at least one).
 */
export function firstMessageSize(embeds: APIEmbed[]): number {
	let total = 0;
	let count = 0;
	for (const embed of embeds) {
		const length = embedLength(embed);
		if (count === LIMITS.embedsPerMessage || (count > 0 && total + length > LIMITS.total)) break;
		total += length;
		count++;
	}
	return Math.max(1, Math.min(count, embeds.length));
}
