import type { Command } from '../src/discord/command.js';
import { account } from './account.js';
import { alerts } from './alerts.js';
import { cert } from './cert.js';
import { wooxy } from './wooxy.js';

/** Every slash command: registered by `npm run commands:deploy`, dispatched by name. */
export const COMMANDS: Command[] = [account, wooxy, cert, alerts];
