import { REST } from '@discordjs/rest';
import type { FastifyBaseLogger } from 'fastify';
import { recordInterruptedActions } from '../commands/account-actions.js';
import { type CommandDeps, createCommands } from '../commands/index.js';
import { createMofhClient } from './clients/mofh.js';
import { createWooxyClient } from './clients/wooxy.js';
import type { Config } from './config.js';
import { createDispatcher, type Dispatch } from './interactions/dispatch.js';
import { staffPolicy } from './interactions/staff.js';

export interface StaffCommands {
	dispatch: Dispatch;
	/** Closes the commands' HTTP clients (Wooxy, MOFH) and stops the check for interrupted actions. */
	close(): Promise<void>;
}

/** How often every instance with commands looks for confirmed actions left without an audit event. */
const INTERRUPTED_CHECK_MS = 60_000;

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
	const log = logger.child({ component: 'commands' });
	// A staff action confirmed on a process that stopped before storing its audit event still gets one.
	const interrupted = setInterval(() => {
		recordInterruptedActions(deps).then(
			(count) => {
				if (count > 0) log.warn(`recorded the audit event of ${count} staff action(s) cut off by a stop`);
			},
			(error) => log.warn({ err: error }, 'could not check for interrupted staff actions'),
		);
	}, INTERRUPTED_CHECK_MS);
	interrupted.unref();
	return {
		dispatch: createDispatcher(
			createCommands({ ...deps, wooxy, mofh }),
			{ staff: staffPolicy(config), log },
			rest,
		),
		async close() {
			clearInterval(interrupted);
			await Promise.all([wooxy.close(), mofh.close()]);
		},
	};
}
