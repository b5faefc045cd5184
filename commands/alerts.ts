import {
	InteractionContextType,
	ApplicationCommandOptionType as OptionType,
	PermissionFlagsBits,
} from 'discord-api-types/v10';
import type { Worker } from '../src/delivery/worker.js';
import { defineCommand } from '../src/interactions/define-command.js';
import { inline } from '../src/render/markdown.js';
import { renderFailed } from '../src/render/state.js';
import type { Outbox } from '../src/state/outbox.js';

export const ALERTS = {
	name: 'alerts',
	description: 'Alert deliveries that failed',
	default_member_permissions: String(PermissionFlagsBits.ManageGuild),
	contexts: [InteractionContextType.Guild],
	options: [
		{
			type: OptionType.Subcommand,
			name: 'failed',
			description: 'List alerts whose delivery ran out of retries',
		},
		{
			type: OptionType.Subcommand,
			name: 'replay',
			description: 'Send failed alerts again, with a fresh retry budget',
			options: [
				{
					type: OptionType.String,
					name: 'id',
					description: 'An event id from /alerts failed, or "all"',
					required: true,
					max_length: 40,
				},
			],
		},
	],
} as const;

/** `/alerts failed` and `/alerts replay id:<event id | all>`: the dead letter of delivery. */
export function alerts({
	outbox,
	worker,
}: {
	outbox: Pick<Outbox, 'listFailed' | 'replay'>;
	worker: Pick<Worker, 'enqueue'>;
}) {
	return defineCommand(ALERTS, {
		failed: {
			async execute(_args, { respond }) {
				await respond.defer(true);
				await respond.reply({ embeds: [renderFailed(await outbox.listFailed())] });
			},
		},
		replay: {
			async execute({ id }, { respond }) {
				await respond.defer(true);
				const wanted = id.trim();
				const ids =
					wanted.toLowerCase() === 'all'
						? (await outbox.listFailed()).map((entry) => entry.event.id)
						: [wanted];
				const replayed = await outbox.replay(ids);
				for (const entry of replayed) worker.enqueue(entry);
				await respond.reply({
					content: replayed.length
						? `Replaying ${replayed.length} alert(s).`
						: `No failed delivery with id ${inline(wanted)}.`,
				});
			},
		},
	});
}
