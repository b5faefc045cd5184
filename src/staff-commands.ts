import { REST } from '@discordjs/rest';
import type { FastifyBaseLogger } from 'fastify';
import { type CommandDeps, createCommands } from '../commands/index.js';
import { createMofhClient } from './clients/mofh.js';
import { createWooxyClient } from './clients/wooxy.js';
import type { Config } from './config.js';
import { createDispatcher, type Dispatch } from './interactions/dispatch.js';
import { staffPolicy } from './interactions/staff.js';

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
	deps: Omit<CommandDeps, 'wooxy' | 'mofh'>,
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
	return {
		dispatch: createDispatcher(
			createCommands({ ...deps, wooxy, mofh }),
			{ staff: staffPolicy(config), log: logger.child({ component: 'commands' }) },
			rest,
		),
		async close() {
			await Promise.all([wooxy.close(), mofh.close()]);
		},
	};
}
