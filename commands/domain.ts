import {
	type APIEmbedField,
	InteractionContextType,
	ApplicationCommandOptionType as OptionType,
	PermissionFlagsBits,
} from 'discord-api-types/v10';
import type { MofhClient } from '../src/clients/mofh.js';
import { defineCommand } from '../src/interactions/define-command.js';
import { COLOURS } from '../src/render/alert.js';
import { statusButtons } from '../src/render/components.js';
import { fitEmbed } from '../src/render/limits.js';
import { inline, line } from '../src/render/markdown.js';
import { STATUS_LABELS } from '../src/render/state.js';
import type { AccountState } from '../src/state/projections.js';
import type { Store } from '../src/store/store.js';

export const DOMAIN = {
	name: 'domain',
	description: 'Domains at MyOwnFreeHost',
	default_member_permissions: String(PermissionFlagsBits.ManageGuild),
	contexts: [InteractionContextType.Guild],
	options: [
		{
			type: OptionType.Subcommand,
			name: 'lookup',
			description: 'Which account owns a domain (MOFH reseller API), with what hookcord knows of it',
			options: [
				{
					type: OptionType.String,
					name: 'domain',
					description: 'Domain name, e.g. shop.example.com',
					required: true,
					max_length: 253,
				},
			],
		},
	],
} as const;

/** `/domain lookup domain:<name>`: MOFH's getdomainuser, joined with the account hookcord keeps. */
export function domain({
	mofh,
	store,
}: {
	mofh: Pick<MofhClient, 'getDomainUser'>;
	store: Pick<Store, 'accounts'>;
}) {
	return defineCommand(DOMAIN, {
		lookup: {
			async execute({ domain: name }, { respond }) {
				await respond.defer(true);
				const owner = await mofh.getDomainUser(name);
				if (!owner) {
					await respond.reply({
						content: `Not found: MOFH has no account with the domain ${inline(name.trim())}.`,
					});
					return;
				}
				const known = (await store.accounts.get(owner.username.toLowerCase())) as AccountState | undefined;
				const fields: APIEmbedField[] = [
					{ name: 'vPanel user', value: inline(owner.username), inline: true },
					{ name: 'Status at MOFH', value: inline(owner.status), inline: true },
					{ name: 'Key', value: known?.key ? inline(known.key) : '_not known to hookcord_', inline: true },
					{ name: 'Document root', value: inline(owner.documentRoot), inline: false },
					{
						name: 'hookcord knows',
						value: known
							? `${STATUS_LABELS[known.status]} since <t:${Math.floor((known.statusAt ?? known.firstSeen) / 1000)}:f>, ${known.history.length} event(s) kept${known.suspension ? `, suspended for ${inline(known.suspension.code)}` : ''}`
							: 'No callbacks seen for this account yet.',
						inline: false,
					},
				];
				const components = known ? statusButtons([owner.username]) : [];
				await respond.reply({
					embeds: [
						fitEmbed({
							title: `Domain ${line(owner.domain || name.trim())}`,
							color: owner.status.toUpperCase() === 'ACTIVE' ? COLOURS.good : COLOURS.danger,
							fields,
						}),
					],
					components,
				});
			},
		},
	});
}
