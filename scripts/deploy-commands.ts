/**
 * `npm run commands:deploy`: registers hookcord's slash commands (a bulk overwrite, so removed commands
 * disappear too). Guild-scoped when DISCORD_GUILD_ID is set (instant), global otherwise (Discord may take
 * up to an hour to show them). Run it after changing commands, not on every start: creates are limited
 * per day (PLATFORM.md §2).
 */
import { REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import { COMMANDS } from '../commands/index.js';
import { ConfigError, loadConfig } from '../src/config.js';

async function main(): Promise<void> {
	const config = loadConfig();
	const { token, applicationId, guildId, apiUrl } = config.discord;
	if (!token || !applicationId) {
		throw new ConfigError(
			'commands:deploy needs DISCORD_TOKEN and DISCORD_APPLICATION_ID (and DISCORD_GUILD_ID for one server).',
		);
	}
	const rest = new REST({ api: apiUrl }).setToken(token);
	const route = guildId
		? Routes.applicationGuildCommands(applicationId, guildId)
		: Routes.applicationCommands(applicationId);
	const registered = (await rest.put(route, { body: COMMANDS.map((command) => command.data) })) as {
		name: string;
		id: string;
	}[];
	const scope = guildId ? `guild ${guildId}` : 'all servers (global; may take up to an hour to appear)';
	process.stdout.write(`Registered ${registered.length} command(s) for ${scope}:\n`);
	for (const command of COMMANDS) {
		const id = registered.find((entry) => entry.name === command.data.name)?.id ?? '?';
		const subcommands = (command.data.options ?? [])
			.filter((option) => option.type === 1)
			.map((option) => option.name);
		process.stdout.write(
			`  /${command.data.name}${subcommands.length ? ` ${subcommands.join('|')}` : ''}  (id ${id})\n`,
		);
	}
}

main().catch((error) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(error instanceof ConfigError ? 78 : 1);
});
