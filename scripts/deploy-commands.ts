/**
 * `npm run commands:deploy`: registers hookcord's slash commands in each staff server named by
 * DISCORD_GUILD_ID (guild-scoped: they appear at once, and only there). A bulk overwrite, so removed
 * commands disappear too. Run it after changing commands, not on every start: creates are limited per day
 * (docs/discord.md §2). There is no global registration: commands refuse to run outside DISCORD_GUILD_ID, so
 * showing them in every server the bot is in would only show commands that refuse.
 */
import { REST } from '@discordjs/rest';
import { ApplicationCommandOptionType, Routes } from 'discord-api-types/v10';
import { COMMAND_DATA } from '../commands/index.js';
import { ConfigError, loadConfig } from '../src/config.js';

async function main(): Promise<void> {
	const config = loadConfig();
	const { token, applicationId, guildIds, apiUrl } = config.discord;
	if (!token || !applicationId) {
		throw new ConfigError(
			'commands:deploy needs DISCORD_TOKEN, DISCORD_APPLICATION_ID and DISCORD_GUILD_ID.',
		);
	}
	if (guildIds.length === 0) {
		throw new ConfigError(
			'commands:deploy needs DISCORD_GUILD_ID: the id of the staff server (or several, comma-separated).\n' +
				'Slash commands run only in those servers; until DISCORD_GUILD_ID is set, hookcord refuses every ' +
				'staff command, so nothing was registered.',
		);
	}
	const rest = new REST({ api: apiUrl }).setToken(token);
	for (const guildId of guildIds) {
		const registered = (await rest.put(Routes.applicationGuildCommands(applicationId, guildId), {
			body: COMMAND_DATA,
		})) as { name: string; id: string }[];
		process.stdout.write(
			`Registered ${registered.length} command(s) for guild ${guildId} (guild-scoped: only that server):\n`,
		);
		for (const command of COMMAND_DATA) {
			const id = registered.find((entry) => entry.name === command.name)?.id ?? '?';
			const options = command.options ?? [];
			const subcommands = options
				.filter((option) => option.type === ApplicationCommandOptionType.Subcommand)
				.map((option) => option.name);
			// A command without subcommands shows its options instead: `/stats [period]`.
			const shown =
				subcommands.length > 0
					? subcommands.join('|')
					: options
							.map((option) => ('required' in option && option.required ? option.name : `[${option.name}]`))
							.join(' ');
			process.stdout.write(`  /${command.name} ${shown}  (id ${id})\n`);
		}
	}
}

main().catch((error) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(error instanceof ConfigError ? 78 : 1);
});
