import { REST } from '@discordjs/rest';
import type { FastifyBaseLogger } from 'fastify';
import { createMofhClient } from '../src/clients/mofh.js';
import { createWooxyClient } from '../src/clients/wooxy.js';
import type { Config } from '../src/config.js';
import type { Command, CommandData } from '../src/interactions/define-command.js';
import { createDispatcher, type Dispatch } from '../src/interactions/dispatch.js';
import { staffPolicy } from '../src/interactions/staff.js';
import type { Metrics } from '../src/metrics/metrics.js';
import { ACCOUNT, account } from './account.js';
import { ALERTS, alerts } from './alerts.js';
import { CERT, cert } from './cert.js';
import { DOMAIN, domain } from './domain.js';
import { FORWARDS, forwards } from './forwards.js';
import { STATS, type StatsDeps, stats } from './stats.js';
import { TICKET, ticket } from './ticket.js';
import { WOOXY, type WooxyCommandDeps, wooxy } from './wooxy.js';

/** Every slash command's registration body, for `npm run commands:deploy`. */
export const COMMAND_DATA: readonly CommandData[] = [
	ACCOUNT,
	DOMAIN,
	WOOXY,
	CERT,
	ALERTS,
	TICKET,
	FORWARDS,
	STATS,
];

/** What the commands together need; each command is handed only its own part. */
export type CommandDeps = Parameters<typeof account>[0] &
	Parameters<typeof alerts>[0] &
	Parameters<typeof cert>[0] &
	Parameters<typeof domain>[0] &
	Parameters<typeof forwards>[0] &
	Parameters<typeof ticket>[0] &
	StatsDeps &
	WooxyCommandDeps;

/** Every slash command, bound to its dependencies and dispatched by name. */
export function createCommands(deps: CommandDeps): Command[] {
	return [
		account(deps),
		domain(deps),
		wooxy(deps),
		cert(deps),
		alerts(deps),
		ticket(deps),
		forwards(deps),
		stats(deps),
	];
}

export interface StaffCommands {
	dispatch: Dispatch;
	/** Closes the commands' HTTP clients (Wooxy, MOFH). */
	close(): Promise<void>;
}

/**
 * The slash commands bound to their clients, behind the staff gate: what answers Discord's interactions
 * on both paths (gateway and `POST /interactions`). Loaded only by a process Discord can reach (a bot
 * token or an interactions key): a receiver or a dry run never loads the commands, their HTTP clients
 * or discord.js REST.
 */
export function createStaffCommands(
	config: Config,
	deps: Omit<CommandDeps, 'wooxy' | 'mofh'> & { metrics?: Metrics | undefined },
	logger: FastifyBaseLogger,
): StaffCommands {
	const wooxy = createWooxyClient({
		apiUrl: config.wooxy.apiUrl,
		secrets: [deps.hookSecret],
		...(config.wooxy.apiToken && { token: config.wooxy.apiToken }),
	});
	const mofh = createMofhClient({
		apiUrl: config.mofh.apiUrl,
		...(config.mofh.username && { username: config.mofh.username }),
		...(config.mofh.password && { password: config.mofh.password }),
	});
	// Interaction answers use the interaction token, not the bot token: this REST works in both modes.
	const rest = new REST({ api: config.discord.apiUrl });
	if (config.discord.token) rest.setToken(config.discord.token);
	const log = logger.child({ component: 'commands' });
	const commands = createCommands({ ...deps, wooxy, mofh, timeZone: config.report.timeZone });
	const { metrics } = deps;
	metrics?.knowCommands(commands.map((command) => command.data.name));
	return {
		dispatch: createDispatcher(
			commands,
			{ staff: staffPolicy(config), log, ...(metrics && { observe: metrics.command }) },
			rest,
		),
		async close() {
			await Promise.all([wooxy.close(), mofh.close()]);
		},
	};
}
