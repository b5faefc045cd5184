import { InteractionContextType, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import type { Command } from '../src/discord/command.js';
import { inline } from '../src/discord/render.js';
import { renderFailed } from '../src/discord/render-state.js';

/** `/alerts failed` and `/alerts replay id:<event id | all>`: the dead letter of delivery. */
export const alerts: Command = {
	data: new SlashCommandBuilder()
		.setName('alerts')
		.setDescription('Alert deliveries that failed')
		.setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
		.setContexts(InteractionContextType.Guild)
		.addSubcommand((sub) =>
			sub.setName('failed').setDescription('List alerts whose delivery ran out of retries'),
		)
		.addSubcommand((sub) =>
			sub
				.setName('replay')
				.setDescription('Send failed alerts again, with a fresh retry budget')
				.addStringOption((o) =>
					o
						.setName('id')
						.setDescription('An event id from /alerts failed, or "all"')
						.setRequired(true)
						.setMaxLength(40),
				),
		)
		.toJSON(),

	async execute({ subcommand, options, respond }, { outbox, worker }) {
		await respond.defer(true);
		if (subcommand === 'failed') return respond.reply({ embeds: [renderFailed(await outbox.listFailed())] });
		const id = String(options.id ?? '').trim();
		const ids =
			id.toLowerCase() === 'all' ? (await outbox.listFailed()).map((entry) => entry.event.id) : [id];
		const replayed = await outbox.replay(ids);
		for (const entry of replayed) worker.enqueue(entry);
		worker.kick();
		return respond.reply({
			content: replayed.length
				? `Replaying ${replayed.length} alert(s).`
				: `No failed delivery with id ${inline(id)}.`,
		});
	},
};
