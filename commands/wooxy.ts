import {
	type APIEmbed,
	InteractionContextType,
	ApplicationCommandOptionType as OptionType,
	PermissionFlagsBits,
} from 'discord-api-types/v10';
import type { WooxyClient, WooxyWebhook } from '../src/clients/wooxy.js';
import { defineCommand } from '../src/interactions/define-command.js';
import { COLOURS } from '../src/render/alert.js';
import { firstMessageSize, fitEmbed, LIMITS } from '../src/render/limits.js';
import { inline, line } from '../src/render/markdown.js';
import { WOOXY_EVENTS } from '../src/vocabulary/wooxy.js';

export const WOOXY = {
	name: 'wooxy',
	description: 'Wooxy e-mail webhooks',
	default_member_permissions: String(PermissionFlagsBits.ManageGuild),
	contexts: [InteractionContextType.Guild],
	options: [
		{
			type: OptionType.Subcommand,
			name: 'create',
			description: 'Create a Wooxy webhook (by default it posts to this bot)',
			options: [
				{
					type: OptionType.String,
					name: 'title',
					description: 'Title of the webhook',
					required: true,
					max_length: 250,
				},
				{
					type: OptionType.String,
					name: 'events',
					description: 'Comma-separated event names, e.g. hard, soft, complaint',
					required: true,
					autocomplete: true,
				},
				{
					type: OptionType.String,
					name: 'domain',
					description: 'Sending domain name (or give domain_id)',
					max_length: 253,
				},
				{
					type: OptionType.String,
					name: 'domain_id',
					description: 'Wooxy domain id (or give domain)',
					max_length: 64,
				},
				{
					type: OptionType.String,
					name: 'url',
					description: "Target URL; default: this bot's Wooxy callback URL",
					max_length: 2048,
				},
			],
		},
		{ type: OptionType.Subcommand, name: 'list', description: 'List the Wooxy webhooks of the account' },
		{
			type: OptionType.Subcommand,
			name: 'remove',
			description: 'Remove a Wooxy webhook',
			options: [
				{
					type: OptionType.String,
					name: 'id',
					description: 'Webhook id (see /wooxy list)',
					required: true,
					max_length: 20,
				},
			],
		},
	],
} as const;

export interface WooxyCommandDeps {
	wooxy: Pick<WooxyClient, 'createWebhook' | 'listWebhooks' | 'removeWebhook'>;
	/** The receiver's Wooxy callback URL: the default target of `/wooxy create`. */
	callbackUrl: string;
	/** Masked wherever a webhook URL is shown. */
	hookSecret: string;
}

/** `/wooxy create|list|remove`: manage Wooxy webhooks; `create` points at this receiver by default. */
export function wooxy({ wooxy: client, callbackUrl, hookSecret }: WooxyCommandDeps) {
	const mask = (url: string) => url.split(hookSecret).join('[secret]');
	return defineCommand(WOOXY, {
		create: {
			async execute(options, { respond }) {
				const events = parseEvents(options.events);
				const domain = optionalText(options.domain);
				const domainId = optionalText(options.domain_id);
				const url = optionalText(options.url) ?? callbackUrl;
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
				const created = await client.createWebhook({
					title: options.title.trim(),
					url,
					events,
					...(domain !== undefined ? { domain } : { domainId: domainId as string }),
				});
				await respond.reply({ embeds: [renderWebhook(created, mask, 'Wooxy webhook created')] });
			},
			autocomplete: async ({ name, value }) => (name === 'events' ? completeEvents(value) : []),
		},
		list: {
			async execute(_args, { respond }) {
				await respond.defer(true);
				const hooks = await client.listWebhooks();
				if (hooks.length === 0) return respond.reply({ content: 'The Wooxy account has no webhooks.' });
				// One message holds ten embeds and 6,000 characters of them: as many as fit, and the count of the rest.
				const embeds = hooks.slice(0, LIMITS.embedsPerMessage).map((hook) => renderWebhook(hook, mask));
				const shown = firstMessageSize(embeds);
				const left = hooks.length - shown;
				await respond.reply({
					...(left > 0 && {
						content: `${shown} of ${hooks.length} webhooks shown; ${left} left out (one message holds ${LIMITS.embedsPerMessage} embeds of ${LIMITS.total.toLocaleString('en')} characters in all).`,
					}),
					embeds: embeds.slice(0, shown),
				});
			},
		},
		remove: {
			async execute({ id }, { respond }) {
				const wanted = id.trim();
				if (!/^\d+$/.test(wanted))
					return respond.reply({ content: 'A webhook id is a number: see `/wooxy list`.' });
				await respond.defer(true);
				await client.removeWebhook(wanted);
				await respond.reply({ content: `Removed Wooxy webhook ${wanted}.` });
			},
		},
	});
}

/** Completes the last name of the comma-separated list over the documented event names. */
function completeEvents(value: string) {
	const parts = value.split(',');
	const partial = (parts.pop() ?? '').trim().toLowerCase();
	const chosen = parts.map((part) => part.trim()).filter(Boolean);
	const prefix = chosen.length ? `${chosen.join(', ')}, ` : '';
	return Object.keys(WOOXY_EVENTS)
		.filter((name) => name.includes(partial) && !chosen.includes(name))
		.sort((a, b) => Number(!a.startsWith(partial)) - Number(!b.startsWith(partial)))
		.map((name) => `${prefix}${name}`)
		.map((name) => ({ name, value: name }));
}

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
		title: title ?? `Webhook ${line(hook.id)}: ${line(hook.title)}`,
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
