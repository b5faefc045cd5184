import { InteractionContextType, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import type { Command } from '../src/discord/command.js';
import { inline } from '../src/discord/render.js';
import { renderAccountStatus } from '../src/discord/render-state.js';
import type { AccountState } from '../src/state/project.js';

/** `/account status user:<vPanel username>`: an account's state and history, from the callbacks seen. */
export const account: Command = {
	data: new SlashCommandBuilder()
		.setName('account')
		.setDescription('MyOwnFreeHost hosting accounts')
		.setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
		.setContexts(InteractionContextType.Guild)
		.addSubcommand((sub) =>
			sub
				.setName('status')
				.setDescription("An account's status, suspension reason, SQL cluster, domains and history")
				.addStringOption((option) =>
					option
						.setName('user')
						.setDescription('vPanel username, e.g. host_12345678')
						.setRequired(true)
						.setAutocomplete(true)
						.setMaxLength(64),
				),
		)
		.toJSON(),

	async execute({ options, respond }, { store }) {
		await respond.defer(true);
		const user = String(options.user ?? '').trim();
		const state = (await store.accounts.get(user.toLowerCase())) as AccountState | undefined;
		if (!state) {
			await respond.reply({
				content: `No callbacks seen for ${inline(user)} yet. hookcord knows an account once MOFH has sent a callback about it.`,
			});
			return;
		}
		await respond.reply({ embeds: [renderAccountStatus(state)] });
	},

	async autocomplete({ focused }, { accounts }) {
		return accounts.search(focused?.value ?? '').map((name) => ({ name, value: name }));
	},
};
