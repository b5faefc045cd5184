import type { REST } from '@discordjs/rest';
import {
	type APIApplicationCommandInteractionDataOption,
	type APIInteraction,
	ApplicationCommandOptionType,
	InteractionType,
} from 'discord-api-types/v10';
import { WooxyError } from '../clients/wooxy.js';
import type { Command, CommandDeps, Invocation } from './command.js';
import { Responder, type SendInitial } from './responder.js';

/** Answer before Discord's 3-second window closes (PLATFORM.md §1). */
const AUTO_DEFER_MS = 2_200;

export type Dispatch = (interaction: APIInteraction, sendInitial: SendInitial) => Promise<void>;

/**
 * The one entry for interactions from the gateway and from `POST /interactions`: unpacks the options,
 * checks staff roles, runs the handler, defers for it if it is slow, and turns a failure into an
 * ephemeral message instead of Discord's "The application did not respond".
 */
export function createDispatcher(commands: Command[], deps: CommandDeps, rest: REST): Dispatch {
	const byName = new Map(commands.map((command) => [command.data.name, command]));
	return async (interaction, sendInitial) => {
		const respond = new Responder(interaction, sendInitial, rest);
		if (
			interaction.type !== InteractionType.ApplicationCommand &&
			interaction.type !== InteractionType.ApplicationCommandAutocomplete
		) {
			return respond.reply({ content: 'hookcord only answers slash commands.' });
		}
		const command = byName.get(interaction.data.name);
		const invocation = unpack(interaction, respond);
		const autocomplete = interaction.type === InteractionType.ApplicationCommandAutocomplete;
		if (!command)
			return autocomplete
				? respond.choices([])
				: respond.reply({ content: `Unknown command /${interaction.data.name}.` });

		const refusal = refuse(interaction, deps);
		if (refusal) return autocomplete ? respond.choices([]) : respond.reply({ content: refusal });

		if (autocomplete) {
			const choices = command.autocomplete
				? await command.autocomplete(invocation, deps).catch(() => [])
				: [];
			return respond.choices(choices);
		}
		const timer = setTimeout(() => void respond.defer(true).catch(() => {}), AUTO_DEFER_MS);
		try {
			await command.execute(invocation, deps);
			if (!respond.acknowledged) await respond.reply({ content: 'Done.' });
		} catch (error) {
			deps.log.error({ err: error, command: interaction.data.name }, 'command failed');
			// Provider API errors are written for staff (and never carry a token); anything else stays in the log.
			const message =
				error instanceof WooxyError ? error.message : 'Something went wrong; the details are in the log.';
			await respond
				.reply({ content: `⚠️ ${message}` })
				.catch((err) => deps.log.error({ err }, 'could not report a command failure'));
		} finally {
			clearTimeout(timer);
		}
	};
}

/** Why a member may not run staff commands, or undefined. Discord applies permissions per command only. */
function refuse(interaction: APIInteraction, deps: CommandDeps): string | undefined {
	if (!interaction.guild_id || !interaction.member) return 'Staff commands work only inside the server.';
	const staff = deps.config.staffRoleIds;
	if (staff.length === 0) return undefined;
	const roles = interaction.member.roles ?? [];
	if (roles.some((role) => staff.includes(role))) return undefined;
	return `This command is for staff: you need one of the roles ${staff.map((id) => `<@&${id}>`).join(', ')}.`;
}

function unpack(interaction: APIInteraction, respond: Responder): Invocation {
	const invocation: Invocation = { interaction, options: {}, respond };
	if (!('data' in interaction) || !interaction.data || !('options' in interaction.data)) return invocation;
	let options: APIApplicationCommandInteractionDataOption[] = (interaction.data.options ??
		[]) as APIApplicationCommandInteractionDataOption[];
	const first = options[0];
	if (first?.type === ApplicationCommandOptionType.SubcommandGroup) {
		invocation.subcommand = first.name;
		options = (first.options ?? []) as APIApplicationCommandInteractionDataOption[];
	}
	const sub = options[0];
	if (sub?.type === ApplicationCommandOptionType.Subcommand) {
		invocation.subcommand = invocation.subcommand ? `${invocation.subcommand} ${sub.name}` : sub.name;
		options = sub.options ?? [];
	}
	for (const option of options) {
		if (!('value' in option)) continue;
		invocation.options[option.name] = option.value;
		if ('focused' in option && option.focused)
			invocation.focused = { name: option.name, value: String(option.value) };
	}
	return invocation;
}
