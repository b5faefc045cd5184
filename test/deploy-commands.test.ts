import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DiscordDouble, snowflake, startDiscordDouble } from './doubles/discord.js';
import { scratchDir } from './process.js';

/** `npm run commands:deploy` against the Discord double, which validates command bodies like Discord. */

const ROOT = resolve(import.meta.dirname, '..');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');

async function deploy(env: Record<string, string>, cwd: string) {
	const child = spawn(process.execPath, ['--import', TSX, join(ROOT, 'scripts', 'deploy-commands.ts')], {
		cwd,
		env: { PATH: process.env.PATH ?? '', ...env },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let out = '';
	child.stdout.on('data', (chunk) => {
		out += chunk;
	});
	child.stderr.on('data', (chunk) => {
		out += chunk;
	});
	const [code] = await once(child, 'exit');
	return { code: code as number, out };
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
		assert.deepEqual(commands.map((c) => c.name).sort(), ['account', 'alerts', 'cert', 'wooxy']);
		for (const command of commands) {
			assert.equal(command.default_member_permissions, '32', 'Manage Server by default');
		}
		assert.match(out, /Registered 4 command\(s\) for guild/);
		assert.match(out, /\/wooxy create\|list\|remove/);
		assert.ok(!out.includes(discord.token));
	});

	it('registers globally without DISCORD_GUILD_ID', async () => {
		const { code, out } = await deploy(
			{
				DISCORD_TOKEN: discord.token,
				DISCORD_API_URL: discord.apiUrl,
				DISCORD_APPLICATION_ID: discord.applicationId,
			},
			dir.path,
		);
		assert.equal(code, 0, out);
		assert.equal(discord.commandRegistrations.at(-1)?.guildId, null);
		assert.match(out, /global/);
	});

	it('says what is missing without a token or application id', async () => {
		const { code, out } = await deploy(
			{ DISCORD_API_URL: discord.apiUrl, DISCORD_GUILD_ID: snowflake() },
			dir.path,
		);
		assert.equal(code, 78);
		assert.match(out, /DISCORD_TOKEN and DISCORD_APPLICATION_ID/);
	});
});
