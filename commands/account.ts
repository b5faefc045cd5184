import {
	InteractionContextType,
	ApplicationCommandOptionType as OptionType,
	PermissionFlagsBits,
} from 'discord-api-types/v10';
import type { MofhClient } from '../src/clients/mofh.js';
import { type ButtonHandler, defineCommand } from '../src/interactions/define-command.js';
import type { Responder } from '../src/interactions/responder.js';
import { COLOURS } from '../src/render/alert.js';
import { STATUS_BUTTON } from '../src/render/components.js';
import { fitEmbed, LIMITS } from '../src/render/limits.js';
import { inline, line } from '../src/render/markdown.js';
import { renderAccountStatus } from '../src/render/state.js';
import type { AccountIndex } from '../src/state/account-index.js';
import type { AccountState } from '../src/state/projections.js';
import type { Store } from '../src/store/store.js';
import { type AccountActionDeps, accountActions } from './account-actions.js';

const KEY_OPTION = {
	type: OptionType.String,
	name: 'key',
	description: 'Account key (up to 8 letters/digits chosen at creation), not the vPanel username',
	required: true,
	min_length: 1,
	max_length: 8,
} as const;

/** The vPanel username an account is known by to hookcord, autocompleted from the accounts it has seen. */
const USERNAME_OPTION = {
	type: OptionType.String,
	name: 'user',
	description: 'vPanel username, e.g. host_12345678',
	required: true,
	autocomplete: true,
	max_length: 64,
} as const;

const USER_HINT_OPTION = {
	type: OptionType.String,
	name: 'user',
	description: "The account's vPanel username, if you know it: shown as given by you, unverified",
	max_length: 64,
} as const;

export const ACCOUNT = {
	name: 'account',
	description: 'MyOwnFreeHost hosting accounts',
	default_member_permissions: String(PermissionFlagsBits.ManageGuild),
	contexts: [InteractionContextType.Guild],
	options: [
		{
			type: OptionType.Subcommand,
			name: 'status',
			description: "An account's status, suspension reason, SQL cluster, domains and history",
			options: [USERNAME_OPTION],
		},
		{
			type: OptionType.Subcommand,
			name: 'domains',
			description: "An account's domains, live from the MOFH reseller API",
			options: [USERNAME_OPTION],
		},
		{
			type: OptionType.Subcommand,
			name: 'suspend',
			description: 'Suspend an account at MOFH (asks for confirmation first)',
			options: [
				KEY_OPTION,
				{
					type: OptionType.String,
					name: 'reason',
					description: 'Why; MOFH stores it as "RES_CLOSE : <reason>"',
					required: true,
					min_length: 1,
					max_length: 200,
				},
				{
					type: OptionType.Boolean,
					name: 'linked',
					description: 'Also suspend accounts with the same e-mail or IP address',
				},
				USER_HINT_OPTION,
			],
		},
		{
			type: OptionType.Subcommand,
			name: 'unsuspend',
			description: 'Lift a suspension you made at MOFH (asks for confirmation first)',
			options: [KEY_OPTION, USER_HINT_OPTION],
		},
	],
} as const;

export interface AccountCommandDeps extends AccountActionDeps {
	store: AccountActionDeps['store'] & Pick<Store, 'accounts'>;
	accounts: AccountIndex;
	mofh: AccountActionDeps['mofh'] & Pick<MofhClient, 'getUserDomains'>;
}

/**
 * `/account status|domains|suspend|unsuspend`, the Status button on alerts, and the Confirm/Cancel
 * buttons of suspend and unsuspend. State comes from the callbacks seen; domains, suspend and
 * unsuspend go to the MOFH reseller API.
 */
export function account({ store, accounts, mofh, ingest, lock, now }: AccountCommandDeps) {
	const { ask, actionButton } = accountActions({ store, mofh, ingest, lock, now });

	async function showStatus(user: string, respond: Responder): Promise<void> {
		await respond.defer(true);
		const name = user.trim();
		const state = (await store.accounts.get(name.toLowerCase())) as AccountState | undefined;
		if (!state) {
			await respond.reply({
				content: `No callbacks seen for ${inline(name)} yet. hookcord knows an account once MOFH has sent a callback about it.`,
			});
			return;
		}
		await respond.reply({ embeds: [renderAccountStatus(state)] });
	}

	const statusButton: ButtonHandler = {
		pattern: STATUS_BUTTON,
		execute: (match, { respond }) => showStatus(match[1] as string, respond),
	};

	return defineCommand(
		ACCOUNT,
		{
			status: {
				execute: ({ user }, { respond }) => showStatus(user, respond),
				async autocomplete({ value }) {
					return accounts.search(value, LIMITS.choices).map((name) => ({ name, value: name }));
				},
			},
			domains: {
				async execute({ user }, { respond }) {
					await respond.defer(true);
					const name = user.trim();
					const rows = await mofh.getUserDomains(name);
					if (rows.length === 0) {
						await respond.reply({
							content: `MOFH lists no domains for ${inline(name)}. It takes the vPanel username (\`host_12345678\`), not the account key.`,
						});
						return;
					}
					await respond.reply({
						embeds: [
							fitEmbed({
								title: `Domains of ${name} at MOFH (${rows.length})`,
								color: COLOURS.info,
								description: rows.map((row) => `${inline(row.domain)} — ${line(row.status)}`).join('\n'),
							}),
						],
					});
				},
				async autocomplete({ value }) {
					return accounts.search(value, LIMITS.choices).map((name) => ({ name, value: name }));
				},
			},
			suspend: {
				execute: ({ key, reason, linked, user }, context) =>
					ask({ action: 'suspend', key, reason, linked: linked ?? false, user }, context),
			},
			unsuspend: {
				execute: ({ key, user }, context) => ask({ action: 'unsuspend', key, linked: false, user }, context),
			},
		},
		[statusButton, actionButton],
	);
}
