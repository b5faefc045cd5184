import {
	InteractionContextType,
	ApplicationCommandOptionType as OptionType,
	PermissionFlagsBits,
} from 'discord-api-types/v10';
import { defineCommand } from '../src/interactions/define-command.js';
import { inline } from '../src/render/markdown.js';
import { renderCertStatus } from '../src/render/state.js';
import type { CertState } from '../src/state/projections.js';
import type { Store } from '../src/store/store.js';

export const CERT = {
	name: 'cert',
	description: 'Xolphin SSL certificate requests',
	default_member_permissions: String(PermissionFlagsBits.ManageGuild),
	contexts: [InteractionContextType.Guild],
	options: [
		{
			type: OptionType.Subcommand,
			name: 'status',
			description: "A request's validation steps and issuance, from Xolphin's webhooks",
			options: [
				{
					type: OptionType.String,
					name: 'request',
					description: 'Xolphin RequestId',
					required: true,
					max_length: 20,
				},
			],
		},
	],
} as const;

/** `/cert status request:<RequestId>`: a Xolphin request's timeline from its webhooks. */
export function cert({ store }: { store: Pick<Store, 'certs'> }) {
	return defineCommand(CERT, {
		status: {
			async execute({ request }, { respond }) {
				await respond.defer(true);
				const id = request.trim();
				const state = /^\d+$/.test(id) ? ((await store.certs.get(id)) as CertState | undefined) : undefined;
				if (!state) {
					await respond.reply({ content: `No Xolphin webhooks seen for request ${inline(id)} yet.` });
					return;
				}
				await respond.reply({ embeds: [renderCertStatus(state)] });
			},
		},
	});
}
