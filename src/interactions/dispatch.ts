import type { REST } from '@discordjs/rest';
import {
	type APIApplicationCommandInteractionDataOption,
	type APIInteraction,
	ApplicationCommandOptionType,
	ComponentType,
	InteractionType,
} from 'discord-api-types/v10';
import type { FastifyBaseLogger } from 'fastify';
import { UserFacingError } from '../errors.js';
import { COMPONENT_LIMITS } from '../render/components.js';
import { codePoints, LIMITS } from '../render/limits.js';
import { line } from '../render/markdown.js';
import type { ButtonHandler, Command, Invocation, ModalHandler } from './define-command.js';
import { Responder, type SendInitial } from './responder.js';
import { refuseStaff, type StaffPolicy } from './staff.js';

/** Answer before Discord's 3-second window closes (docs/discord.md §1). */
const AUTO_DEFER_MS = 2_200;

export type Dispatch = (interaction: APIInteraction, sendInitial: SendInitial) => Promise<void>;

/**
 * The one entry for interactions from the gateway and from `POST /interactions`: slash commands,
 * autocomplete and button clicks. Refuses anyone outside the staff policy before anything else, unpacks
 * the options (or matches the button's custom id), runs the handler, defers for it if it is slow, and
 * turns a failure into an ephemeral message instead of Discord's "The application did not respond".
 */
export interface DispatchDeps {
	staff: StaffPolicy;
	log: FastifyBaseLogger;
	/** Told how each command or button ended (`name`: the command, or `button`) and how long it took. */
	observe?: (name: string, outcome: 'ok' | 'error' | 'refused', seconds: number) => void;
}

export function createDispatcher(commands: Command[], deps: DispatchDeps, rest: REST): Dispatch {
	const byName = new Map(commands.map((command) => [command.data.name, command]));
	const buttons = commands.flatMap((command) => command.buttons);
	const modals = commands.flatMap((command) => command.modals);
	return async (interaction, sendInitial) => {
		const respond = new Responder(interaction, sendInitial, rest);
		const autocomplete = interaction.type === InteractionType.ApplicationCommandAutocomplete;
		// First, so a stranger's interaction reads nothing, calls nothing and learns nothing.
		const refusal = refuseStaff(interaction, deps.staff);
		if (refusal) {
			if (!autocomplete) deps.observe?.(commandName(interaction, byName), 'refused', 0);
			return autocomplete ? respond.choices([]) : respond.reply({ content: refusal });
		}
		if (interaction.type === InteractionType.MessageComponent) {
			// The custom id is data from Discord: only an exact match of a known pattern is acted on.
			const customId: unknown = interaction.data?.custom_id;
			const valid =
				interaction.data?.component_type === ComponentType.Button &&
				typeof customId === 'string' &&
				customId.length <= COMPONENT_LIMITS.customId;
			const match = valid ? matchHandler(buttons, customId) : undefined;
			if (!match) return respond.reply({ content: 'hookcord does not know this button.' });
			return run(
				respond,
				`button ${match.match[0].split(':')[0]}`,
				() => match.handler.execute(match.match, { interaction, respond }),
				'button',
			);
		}
		if (interaction.type === InteractionType.ModalSubmit) {
			// Checked again at submit: a modal open in someone's client outlives a role taken away meanwhile.
			const customId: unknown = interaction.data?.custom_id;
			const valid = typeof customId === 'string' && customId.length <= COMPONENT_LIMITS.customId;
			const match = valid ? matchHandler(modals, customId) : undefined;
			if (!match) return respond.reply({ content: 'hookcord does not know this form.' });
			const values = modalValues(interaction.data.components);
			return run(respond, `modal ${match.match[0].split(':').slice(0, 2).join(':')}`, () =>
				match.handler.execute(match.match, values, { interaction, respond }),
			);
		}
		if (
			interaction.type !== InteractionType.ApplicationCommand &&
			interaction.type !== InteractionType.ApplicationCommandAutocomplete
		) {
			return respond.reply({ content: 'hookcord only answers slash commands and its own buttons.' });
		}
		const command = byName.get(interaction.data.name);
		const invocation = unpack(interaction, respond);
		if (!command)
			return autocomplete
				? respond.choices([])
				: respond.reply({ content: `Unknown command /${interaction.data.name}.` });

		if (autocomplete) {
			const choices = await command.autocomplete(invocation).catch((error) => {
				deps.log.warn({ err: error, command: interaction.data.name }, 'autocomplete failed');
				return [];
			});
			return respond.choices(
				choices
					.filter(
						(choice) =>
							codePoints(choice.name) <= LIMITS.choiceName &&
							String(choice.value).length <= LIMITS.choiceValue,
					)
					.slice(0, LIMITS.choices),
			);
		}
		return run(respond, command.data.name, () => command.execute(invocation));
	};

	/** Runs a handler, defers for it if it is slow, and turns a failure into an ephemeral message. */
	async function run(
		respond: Responder,
		name: string,
		work: () => Promise<void>,
		label = name,
	): Promise<void> {
		const timer = setTimeout(() => void respond.defer(true).catch(() => {}), AUTO_DEFER_MS);
		const started = performance.now();
		const observe = (outcome: 'ok' | 'error') =>
			deps.observe?.(label, outcome, (performance.now() - started) / 1000);
		try {
			await work();
			if (!respond.acknowledged) await respond.reply({ content: 'Done.' });
			observe('ok');
		} catch (error) {
			observe('error');
			deps.log.error({ err: error, command: name }, 'command failed');
			// Provider API errors are written for staff (and never carry a token); anything else stays in the log.
			// They quote the provider, so they are shown as data.
			const message =
				error instanceof UserFacingError
					? line(error.message)
					: 'Something went wrong; the details are in the log.';
			await respond
				.reply({ content: `⚠️ ${message}` })
				.catch((err) => deps.log.error({ err }, 'could not report a command failure'));
		} finally {
			clearTimeout(timer);
		}
	}
}

/** What a refused interaction was, for counting: a known command's name, `button`, or `other`. */
function commandName(interaction: APIInteraction, known: ReadonlyMap<string, unknown>): string {
	if (interaction.type === InteractionType.MessageComponent) return 'button';
	const name = interaction.type === InteractionType.ApplicationCommand ? interaction.data.name : '';
	return known.has(name) ? name : 'other';
}

function matchHandler<H extends ButtonHandler | ModalHandler>(
	handlers: readonly H[],
	customId: string,
): { handler: H; match: RegExpExecArray } | undefined {
	for (const handler of handlers) {
		const match = handler.pattern.exec(customId);
		if (match && match[0] === customId) return { handler, match };
	}
	return undefined;
}

/**
 * A modal submit's text inputs by custom id, in either layout Discord sends back: action rows holding a
 * text input, or labels wrapping one (discord.js 14.2x). Anything else in it is ignored.
 */
export function modalValues(components: unknown): Record<string, string> {
	const values: Record<string, string> = {};
	const take = (input: unknown) => {
		const { custom_id: id, value } = (input ?? {}) as { custom_id?: unknown; value?: unknown };
		if (typeof id === 'string' && typeof value === 'string') values[id] = value;
	};
	for (const component of Array.isArray(components) ? components : []) {
		const { component: inner, components: row } = (component ?? {}) as {
			component?: unknown;
			components?: unknown;
		};
		if (inner) take(inner);
		if (Array.isArray(row)) for (const input of row) take(input);
	}
	return values;
}

function unpack(interaction: APIInteraction, respond: Responder): Invocation {
	const invocation: Invocation = { interaction, subcommand: '', options: {}, respond };
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
