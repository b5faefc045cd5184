import { InteractionContextType, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import type { Command } from '../src/discord/command.js';
import { inline } from '../src/discord/render.js';
import { renderCertStatus } from '../src/discord/render-state.js';
import type { CertState } from '../src/state/project.js';

/** `/cert status request:<RequestId>`: a Xolphin request's timeline from its webhooks. */
export const cert: Command = {
	data: new SlashCommandBuilder()
		.setName('cert')
		.setDescription('Xolphin SSL certificate requests')
		.setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
		.setContexts(InteractionContextType.Guild)
		.addSubcommand((sub) =>
			sub
				.setName('status')
				.setDescription("A request's validation steps and issuance, from Xolphin's webhooks")
				.addStringOption((option) =>
					option.setName('request').setDescription('Xolphin RequestId').setRequired(true).setMaxLength(20),
				),
		)
		.toJSON(),

	async execute({ options, respond }, { store }) {
		await respond.defer(true);
		const request = String(options.request ?? '').trim();
		const state = /^\d+$/.test(request)
			? ((await store.certs.get(request)) as CertState | undefined)
			: undefined;
		if (!state) {
			await respond.reply({
				content: `No Xolphin webhooks seen for request ${inline(request)} yet.`,
			});
			return;
		}
		await respond.reply({ embeds: [renderCertStatus(state)] });
	},
};
