import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DiscordDouble, snowflake, startDiscordDouble } from './doubles/discord.js';
import { runScript, scratchDir } from './process.js';

/** `npm run commands:deploy` against the Discord double, which validates command bodies like Discord. */

async function deploy(env: Record<string, string>, cwd: string) {
	const { code, stdout, stderr } = await runScript('scripts/deploy-commands.ts', { env, cwd });
	return { code, out: stdout + stderr };
}

describe('npm run commands:deploy', () => {
	let discord: DiscordDouble;
	const dir = scratchDir();
	before(async () => {
		discord = await startDiscordDouble();
	});
	after(async () => {
		await discord.close();
		dir.remove();
	});

	it('registers every command for the guild and prints what it did', async () => {
		const { code, out } = await deploy(
			{
				DISCORD_TOKEN: discord.token,
				DISCORD_API_URL: discord.apiUrl,
				DISCORD_APPLICATION_ID: discord.applicationId,
				DISCORD_GUILD_ID: discord.guildId,
			},
			dir.path,
		);
		assert.equal(code, 0, out);
		const [registration] = discord.commandRegistrations;
		assert.ok(registration, 'one bulk registration');
		assert.equal(registration.guildId, discord.guildId);
		const commands = registration.body as { name: string; default_member_permissions: string }[];
		assert.deepEqual(commands.map((c) => c.name).sort(), [
			'account',
			'alerts',
			'cert',
			'domain',
			'forwards',
			'stats',
			'ticket',
			'wooxy',
		]);
		for (const command of commands) {
			assert.equal(command.default_member_permissions, '32', 'Manage Server by default');
		}
		assert.match(out, /Registered 8 command\(s\) for guild \d+ \(guild-scoped/);
		assert.match(out, /\/wooxy create\|list\|remove/);
		assert.match(out, /\/account status\|domains\|suspend\|unsuspend/);
		assert.match(out, /\/domain lookup/);
		assert.match(out, /\/stats \[period\]/);
		assert.ok(!out.includes(discord.token));
	});

	it('registers in every guild of a DISCORD_GUILD_ID list, guild-scoped, and never globally', async () => {
		const second = snowflake();
		const before = discord.commandRegistrations.length;
		const { code, out } = await deploy(
			{
				DISCORD_TOKEN: discord.token,
				DISCORD_API_URL: discord.apiUrl,
				DISCORD_APPLICATION_ID: discord.applicationId,
				DISCORD_GUILD_ID: `${discord.guildId}, ${second}`,
			},
			dir.path,
		);
		assert.equal(code, 0, out);
		const registrations = discord.commandRegistrations.slice(before);
		assert.deepEqual(
			registrations.map((registration) => registration.guildId),
			[discord.guildId, second],
		);
		assert.match(out, new RegExp(`for guild ${discord.guildId} \\(guild-scoped`));
		assert.match(out, new RegExp(`for guild ${second} \\(guild-scoped`));
	});

	it('without DISCORD_GUILD_ID registers nothing and says that commands refuse until it is set', async () => {
		const before = discord.commandRegistrations.length;
		const { code, out } = await deploy(
			{
				DISCORD_TOKEN: discord.token,
				DISCORD_API_URL: discord.apiUrl,
				DISCORD_APPLICATION_ID: discord.applicationId,
			},
			dir.path,
		);
		assert.equal(code, 78, out);
		assert.equal(discord.commandRegistrations.length, before, 'no global registration');
		assert.match(out, /needs DISCORD_GUILD_ID/);
		assert.match(out, /refuses every staff command/);
	});

	it('says what is missing without a token or application id', async () => {
		const { code, out } = await deploy(
			{ DISCORD_API_URL: discord.apiUrl, DISCORD_GUILD_ID: snowflake() },
			dir.path,
		);
		assert.equal(code, 78);
		assert.match(out, /needs DISCORD_TOKEN, DISCORD_APPLICATION_ID/);
	});
});
