import type { Command, CommandData } from '../src/command/command.js';
import { ACCOUNT, account } from './account.js';
import { ALERTS, alerts } from './alerts.js';
import { CERT, cert } from './cert.js';
import { DOMAIN, domain } from './domain.js';
import { WOOXY, type WooxyCommandDeps, wooxy } from './wooxy.js';

/** Every slash command's registration body, for `npm run commands:deploy`. */
export const COMMAND_DATA: readonly CommandData[] = [ACCOUNT, DOMAIN, WOOXY, CERT, ALERTS];

/** What the commands together need; each command is handed only its own part. */
export type CommandDeps = Parameters<typeof account>[0] &
	Parameters<typeof alerts>[0] &
	Parameters<typeof cert>[0] &
	Parameters<typeof domain>[0] &
	WooxyCommandDeps;

/** Every slash command, bound to its dependencies and dispatched by name. */
export function createCommands(deps: CommandDeps): Command[] {
	return [account(deps), domain(deps), wooxy(deps), cert(deps), alerts(deps)];
}
