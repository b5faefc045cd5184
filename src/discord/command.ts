import type {
	APIApplicationCommandOptionChoice,
	APIInteraction,
	RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import type { FastifyBaseLogger } from 'fastify';
import type { createWooxyClient } from '../clients/wooxy.js';
import type { Config } from '../config.js';
import type { Outbox } from '../delivery/outbox.js';
import type { Worker } from '../delivery/worker.js';
import type { AccountIndex } from '../state/account-index.js';
import type { Store } from '../state/store.js';
import type { Responder } from './responder.js';

export type WooxyClient = ReturnType<typeof createWooxyClient>;

/** What command handlers may use: state reads, provider API clients, the outbox. */
export interface CommandDeps {
	config: Config;
	store: Store;
	accounts: AccountIndex;
	wooxy: WooxyClient;
	outbox: Outbox;
	worker: Pick<Worker, 'enqueue' | 'kick'>;
	/** The receiver's Wooxy callback URL: the default target of `/wooxy create`. */
	wooxyCallbackUrl: string;
	hookSecret: string;
	log: FastifyBaseLogger;
	now: () => number;
}

/** One invocation, already unpacked: subcommand, flat options, the focused option for autocomplete. */
export interface Invocation {
	interaction: APIInteraction;
	subcommand?: string;
	options: Record<string, string | number | boolean>;
	focused?: { name: string; value: string };
	respond: Responder;
}

export interface Command {
	/** The registration body (`SlashCommandBuilder#toJSON()`). */
	data: RESTPostAPIChatInputApplicationCommandsJSONBody;
	execute(invocation: Invocation, deps: CommandDeps): Promise<void>;
	autocomplete?(invocation: Invocation, deps: CommandDeps): Promise<APIApplicationCommandOptionChoice[]>;
}
