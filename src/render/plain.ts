import type { APIEmbed } from 'discord-api-types/v10';
import { stripControls } from './markdown.js';

/**
 * Discord markup that reads badly in a terminal: `<t:1700000000:D>` timestamps, inline code, the
 * backslashes that escape provider text and the zero-width spaces that break its mentions.
 */
function plain(text: string): string {
	return text
		.replace(/\u200b/g, '')
		.replace(/\\([\\*_~|`[\]()>#.+-])/g, '$1')
		.replace(/ \(<t:\d+:R>\)/g, '')
		.replace(/<t:(\d+)(?::([tTdDfFsSR]))?>/g, (_, seconds: string, style?: string) => {
			const iso = new Date(Number(seconds) * 1000).toISOString();
			return style === 't' || style === 'T' ? `${iso.slice(11, 19)} UTC` : iso.slice(0, 10);
		})
		.replace(/```\n?/g, '')
		.replace(/`/g, '')
		.trimEnd();
}

/**
 * A readable rendering of an embed for dry runs (no DISCORD_TOKEN) and `npm run alerts`: what staff would
 * have seen. It goes to a terminal, so no control character or bidi override gets through, whatever a
 * provider sent (also one an HTML entity such as `&#27;` decoded into).
 */
export function embedToText(embed: APIEmbed, intended?: string): string {
	return stripControls(textLines(embed, intended).join('\n'));
}

function textLines(embed: APIEmbed, intended?: string): string[] {
	const lines = [`── ${plain(embed.title ?? 'alert')}${intended ? `  → ${intended} (dry run)` : ''}`];
	if (embed.description)
		lines.push(
			...plain(embed.description)
				.split('\n')
				.map((line) => `   ${line}`),
		);
	for (const field of embed.fields ?? [])
		lines.push(`   ${plain(field.name)}: ${plain(field.value).replace(/\n/g, '\n      ')}`);
	const footer = [embed.footer?.text, embed.timestamp].filter(Boolean).join(' · ');
	if (footer) lines.push(`   ${footer}`);
	return lines;
}
