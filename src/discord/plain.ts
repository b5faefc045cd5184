import type { APIEmbed } from 'discord-api-types/v10';

/** Discord markup that reads badly in a terminal: `<t:1700000000:D>` timestamps and inline code. */
function plain(text: string): string {
	return text
		.replace(/ \(<t:\d+:R>\)/g, '')
		.replace(/<t:(\d+):[tTdDfFR]>/g, (_, seconds: string) =>
			new Date(Number(seconds) * 1000).toISOString().slice(0, 10),
		)
		.replace(/`/g, '');
}

/** A readable rendering of an embed for dry runs (no DISCORD_TOKEN): what staff would have seen. */
export function embedToText(embed: APIEmbed, intended?: string): string {
	const lines = [`── ${embed.title ?? 'alert'}${intended ? `  → ${intended} (dry run)` : ''}`];
	if (embed.description)
		lines.push(
			...plain(embed.description)
				.split('\n')
				.map((line) => `   ${line}`),
		);
	for (const field of embed.fields ?? [])
		lines.push(`   ${field.name}: ${plain(field.value).replace(/\n/g, '\n      ')}`);
	const footer = [embed.footer?.text, embed.timestamp].filter(Boolean).join(' · ');
	if (footer) lines.push(`   ${footer}`);
	return lines.join('\n');
}
