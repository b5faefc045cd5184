import {
	type APIApplicationCommandOptionChoice,
	type APIInteraction,
	type InteractionContextType,
	ApplicationCommandOptionType as OptionType,
} from 'discord-api-types/v10';
import { UserFacingError } from '../errors.js';
import type { Responder } from './responder.js';

/**
 * A slash command is its registration body plus one handler per subcommand. The handlers' argument
 * types are derived from the body (as discord-utils-bot's `ArgumentsOf` does), so renaming or retyping
 * an option in the definition breaks the handler at compile time, and the dispatcher checks at run
 * time that what Discord sent matches the definition before any handler sees it.
 */

type LeafType =
	| OptionType.String
	| OptionType.Integer
	| OptionType.Number
	| OptionType.Boolean
	| OptionType.User
	| OptionType.Channel
	| OptionType.Role
	| OptionType.Mentionable;

export interface LeafOption {
	readonly type: LeafType;
	readonly name: string;
	readonly description: string;
	readonly required?: boolean;
	readonly autocomplete?: boolean;
	readonly min_length?: number;
	readonly max_length?: number;
	readonly min_value?: number;
	readonly max_value?: number;
	readonly choices?: readonly { readonly name: string; readonly value: string | number }[];
}

export interface SubcommandOption {
	readonly type: OptionType.Subcommand;
	readonly name: string;
	readonly description: string;
	readonly options?: readonly LeafOption[];
}

interface CommandBase {
	readonly name: string;
	readonly description: string;
	readonly default_member_permissions?: string;
	readonly contexts?: readonly InteractionContextType[];
}

/** The registration body of a chat-input command with subcommands (what `commands:deploy` sends). */
export interface SubcommandsData extends CommandBase {
	readonly options: readonly SubcommandOption[];
}

/** A command without subcommands, its options directly under it: `/stats [period]`. */
export interface PlainCommandData extends CommandBase {
	readonly options?: readonly LeafOption[];
}

export type CommandData = SubcommandsData | PlainCommandData;

type ValueOf<O extends LeafOption> = O['type'] extends OptionType.String
	? O extends { readonly choices: readonly { readonly value: infer V }[] }
		? V
		: string
	: O['type'] extends OptionType.Integer | OptionType.Number
		? number
		: O['type'] extends OptionType.Boolean
			? boolean
			: string;

/** `{ user: string; linked?: boolean }` from a subcommand's options. */
export type ArgumentsOf<Options extends readonly LeafOption[] | undefined> =
	Options extends readonly LeafOption[]
		? { [O in Options[number] as O['required'] extends true ? O['name'] : never]: ValueOf<O> } & {
				[O in Options[number] as O['required'] extends true ? never : O['name']]?: ValueOf<O>;
			}
		: Record<string, never>;

type SubcommandOf<D extends SubcommandsData, N extends string> = Extract<D['options'][number], { name: N }>;

/** What a handler is given besides its arguments. */
export interface Context {
	interaction: APIInteraction;
	respond: Responder;
}

export interface SubcommandHandler<Args> {
	execute(args: Args, context: Context): Promise<void>;
	/** Choices for the focused option; the dispatcher keeps Discord's limits (25 choices, 100 characters). */
	autocomplete?(
		focused: { name: keyof Args & string; value: string },
		context: Context,
	): Promise<APIApplicationCommandOptionChoice[]>;
}

export type Handlers<D extends SubcommandsData> = {
	[N in D['options'][number]['name']]: SubcommandHandler<ArgumentsOf<SubcommandOf<D, N>['options']>>;
};

/** A command as the dispatcher sees it: invocations already unpacked, not yet checked. */
export interface Invocation {
	interaction: APIInteraction;
	subcommand: string;
	options: Record<string, unknown>;
	focused?: { name: string; value: string };
	respond: Responder;
}

/**
 * A button a command's replies (or its alerts) carry. The custom id is data from Discord: the dispatcher
 * runs `execute` only when `pattern` (anchored, strict) matches the whole id, and only after the same
 * guild and staff checks as a slash command, at click time.
 */
export interface ButtonHandler {
	readonly pattern: RegExp;
	execute(match: RegExpExecArray, context: Context): Promise<void>;
}

/**
 * A modal a command or button opened, answered when the member submits it (interaction type 5). Like a
 * button's, its custom id is data: `execute` runs only when `pattern` matches the whole id, and only after
 * the same guild and staff checks, at submit time. `values` are the text inputs by custom id.
 */
export interface ModalHandler {
	readonly pattern: RegExp;
	execute(match: RegExpExecArray, values: Record<string, string>, context: Context): Promise<void>;
}

export interface Command {
	readonly data: CommandData;
	readonly buttons: readonly ButtonHandler[];
	readonly modals: readonly ModalHandler[];
	execute(invocation: Invocation): Promise<void>;
	autocomplete(invocation: Invocation): Promise<APIApplicationCommandOptionChoice[]>;
}

/** Discord's registration and the code disagree (an old `commands:deploy`): say how to fix it. */
export class StaleRegistrationError extends UserFacingError {
	constructor(command: string, detail: string) {
		super(
			`/${command} is registered differently from this version (${detail}): run \`npm run commands:deploy\`.`,
		);
	}
}

export function defineCommand<const D extends SubcommandsData>(
	data: D,
	handlers: Handlers<D>,
	buttons: readonly ButtonHandler[] = [],
	modals: readonly ModalHandler[] = [],
): Command {
	const table = handlers as Record<string, SubcommandHandler<Record<string, unknown>>>;
	const resolve = (subcommand: string) => {
		const definition = data.options.find((option) => option.name === subcommand);
		const handler = definition && table[subcommand];
		if (!handler) throw new StaleRegistrationError(data.name, `no subcommand "${subcommand}"`);
		return { definition, handler };
	};
	return {
		data,
		buttons,
		modals,
		async execute(invocation) {
			const { definition, handler } = resolve(invocation.subcommand);
			await handler.execute(
				checkArguments(data.name, definition.options ?? [], invocation.options),
				invocation,
			);
		},
		// While a member types, required options may still be missing: only the focused one is read.
		async autocomplete(invocation) {
			const { definition, handler } = resolve(invocation.subcommand);
			const focused = invocation.focused;
			const option = definition.options?.find((candidate) => candidate.name === focused?.name);
			if (!handler.autocomplete || !focused || !option?.autocomplete) return [];
			return handler.autocomplete(focused, invocation);
		},
	};
}

/**
 * A command without subcommands (`/stats [period]`): one handler, its arguments derived and checked the
 * same way as a subcommand's.
 */
export function definePlainCommand<const D extends PlainCommandData>(
	data: D,
	handler: SubcommandHandler<ArgumentsOf<D['options']>>,
	buttons: readonly ButtonHandler[] = [],
	modals: readonly ModalHandler[] = [],
): Command {
	const table = handler as unknown as SubcommandHandler<Record<string, unknown>>;
	const definitions = data.options ?? [];
	const check = (invocation: Invocation) => {
		if (invocation.subcommand)
			throw new StaleRegistrationError(data.name, `no subcommand "${invocation.subcommand}"`);
	};
	return {
		data,
		buttons,
		modals,
		async execute(invocation) {
			check(invocation);
			await table.execute(checkArguments(data.name, definitions, invocation.options), invocation);
		},
		async autocomplete(invocation) {
			check(invocation);
			const focused = invocation.focused;
			const option = definitions.find((candidate) => candidate.name === focused?.name);
			if (!table.autocomplete || !focused || !option?.autocomplete) return [];
			return table.autocomplete(focused, invocation);
		},
	};
}

const RUNTIME_TYPE: Record<LeafType, 'string' | 'number' | 'boolean'> = {
	[OptionType.String]: 'string',
	[OptionType.Integer]: 'number',
	[OptionType.Number]: 'number',
	[OptionType.Boolean]: 'boolean',
	[OptionType.User]: 'string',
	[OptionType.Channel]: 'string',
	[OptionType.Role]: 'string',
	[OptionType.Mentionable]: 'string',
};

/** Only the options the definition names, each of its declared type; required ones present. */
function checkArguments(
	command: string,
	definitions: readonly LeafOption[],
	given: Record<string, unknown>,
): Record<string, unknown> {
	const args: Record<string, unknown> = {};
	for (const option of definitions) {
		const value = given[option.name];
		if (value === undefined) {
			if (option.required) throw new StaleRegistrationError(command, `option "${option.name}" missing`);
			continue;
		}
		if (typeof value !== RUNTIME_TYPE[option.type])
			throw new StaleRegistrationError(command, `option "${option.name}" has the wrong type`);
		args[option.name] = value;
	}
	return args;
}
