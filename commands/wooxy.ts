import { InteractionContextType, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import type { APIEmbed } from 'discord-api-types/v10';
import type { WooxyWebhook } from '../src/clients/wooxy.js';
import type { Command } from '../src/discord/command.js';
import { fitEmbed } from '../src/discord/limits.js';
import { COLOURS, inline } from '../src/discord/render.js';
import { WOOXY_EVENTS } from '../src/providers/wooxy/parse.js';

/** `/wooxy create|list|remove`: manage Wooxy webhooks; `create` points at this receiver by default. */
export const wooxy: Command = {
	data: new SlashCommandBuilder()
		.setName('wooxy')
		.setDescription('Wooxy e-mail webhooks')
		.setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
		.setContexts(InteractionContextType.Guild)
		.addSubcommand((sub) =>
			sub
				.setName('create')
				.setDescription('Create a Wooxy webhook (by default it posts to this bot)')
				.addStringOption((o) =>
					o.setName('title').setDescription('Title of the webhook').setRequired(true).setMaxLength(250),
				)
				.addStringOption((o) =>
					o
						.setName('events')
						.setDescription('Comma-separated event names, e.g. hard, soft, complaint')
						.setRequired(true)
						.setAutocomplete(true),
				)
				.addStringOption((o) =>
					o.setName('domain').setDescription('Sending domain name (or give domain_id)').setMaxLength(253),
				)
				.addStringOption((o) =>
					o.setName('domain_id').setDescription('Wooxy domain id (or give domain)').setMaxLength(64),
				)
				.addStringOption((o) =>
					o
						.setName('url')
						.setDescription("Target URL; default: this bot's Wooxy callback URL")
						.setMaxLength(2048),
				),
		)
		.addSubcommand((sub) => sub.setName('list').setDescription('List the Wooxy webhooks of the account'))
		.addSubcommand((sub) =>
			sub
				.setName('remove')
				.setDescription('Remove a Wooxy webhook')
				.addStringOption((o) =>
					o.setName('id').setDescription('Webhook id (see /wooxy list)').setRequired(true).setMaxLength(20),
				),
		)
		.toJSON(),

	async execute({ subcommand, options, respond }, deps) {
		const mask = (url: string) => url.split(deps.hookSecret).join('[secret]');
		if (subcommand === 'create') {
			const events = parseEvents(String(options.events ?? ''));
			const domain = optionalText(options.domain);
			const domainId = optionalText(options.domain_id);
			const url = optionalText(options.url) ?? deps.wooxyCallbackUrl;
			const problem =
				events.length === 0
					? 'Give at least one event name, e.g. `hard, soft, complaint`.'
					: (domain === undefined) === (domainId === undefined)
						? 'Give exactly one of `domain` and `domain_id`.'
						: !/^https?:\/\/\S+$/.test(url)
							? 'The url must start with http:// or https://.'
							: undefined;
			if (problem) return respond.reply({ content: problem });
			await respond.defer(true);
			const created = await deps.wooxy.createWebhook({
				title: String(options.title ?? '').trim(),
				url,
				events,
				...(domain !== undefined ? { domain } : { domainId: domainId as string }),
			});
			return respond.reply({ embeds: [renderWebhook(created, mask, 'Wooxy webhook created')] });
		}
		if (subcommand === 'list') {
			await respond.defer(true);
			const hooks = await deps.wooxy.listWebhooks();
			if (hooks.length === 0) return respond.reply({ content: 'The Wooxy account has no webhooks.' });
			return respond.reply({ embeds: hooks.slice(0, 10).map((hook) => renderWebhook(hook, mask)) });
		}
		if (subcommand === 'remove') {
			const id = String(options.id ?? '').trim();
			if (!/^\d+$/.test(id))
				return respond.reply({ content: 'A webhook id is a number: see `/wooxy list`.' });
			await respond.defer(true);
			await deps.wooxy.removeWebhook(id);
			return respond.reply({ content: `Removed Wooxy webhook ${id}.` });
		}
		return respond.reply({ content: 'Use /wooxy create, /wooxy list or /wooxy remove.' });
	},

	/** Completes the last name of the comma-separated list over the documented event names. */
	async autocomplete({ focused }) {
		if (focused?.name !== 'events') return [];
		const parts = focused.value.split(',');
		const partial = (parts.pop() ?? '').trim().toLowerCase();
		const chosen = parts.map((part) => part.trim()).filter(Boolean);
		const prefix = chosen.length ? `${chosen.join(', ')}, ` : '';
		return Object.keys(WOOXY_EVENTS)
			.filter((name) => name.includes(partial) && !chosen.includes(name))
			.sort((a, b) => Number(!a.startsWith(partial)) - Number(!b.startsWith(partial)))
			.map((name) => `${prefix}${name}`)
			.filter((value) => value.length <= 100)
			.slice(0, 25)
			.map((value) => ({ name: value, value }));
	},
};

export function parseEvents(text: string): string[] {
	return [
		...new Set(
			text
				.split(',')
				.map((name) => name.trim())
				.filter(Boolean),
		),
	];
}

function optionalText(value: unknown): string | undefined {
	const text = typeof value === 'string' ? value.trim() : '';
	return text === '' ? undefined : text;
}

function renderWebhook(hook: WooxyWebhook, mask: (url: string) => string, title?: string): APIEmbed {
	return fitEmbed({
		title: title ?? `Webhook ${hook.id}: ${hook.title}`,
		color: COLOURS.info,
		fields: [
			{ name: 'Id', value: inline(hook.id), inline: true },
			{ name: 'Title', value: inline(hook.title), inline: true },
			{
				name: 'Domain',
				value: hook.domain ? `${inline(hook.domain.name)} (id ${inline(hook.domain.id)})` : '—',
				inline: true,
			},
			{ name: 'URL', value: inline(mask(hook.url)), inline: false },
			{ name: 'Events', value: hook.events.map(inline).join(', ') || '—', inline: false },
		],
		...(hook.createdAt && { footer: { text: `Created ${hook.createdAt}` } }),
	});
}
