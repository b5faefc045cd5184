/**
 * `npm run bench -- --storm`: hookcord (a child process, SQLite store) posting into the Discord double,
 * which enforces Discord's per-channel limit (5 messages per 5 s, real 429s and rate-limit headers).
 *
 * 1. Storm: 500 MOFH suspensions into one channel as fast as the receiver takes them.
 * 2. Lone alert: one suspension on the quiet channel.
 * 3. Outage: Discord answers 5xx while 2,000 alerts for three channels queue up, then recovers.
 *
 * Prints messages sent, seconds to the last username visible in Discord, and 429s for each.
 */
import { parseArgs } from 'node:util';
import type { APIEmbed } from 'discord-api-types/v10';
import { Pool } from 'undici';
import { DiscordDouble } from '../test/doubles/discord.js';
import { scratchDir, startHookcord } from '../test/process.js';
import { postCallbacks, SECRET } from './callbacks.js';

const CHANNELS = {
	SUSPENSIONS: '100000000000000101',
	ACCOUNTS: '100000000000000102',
	DOMAINS: '100000000000000103',
};

const { values } = parseArgs({
	options: {
		storm: { type: 'boolean', default: true },
		count: { type: 'string', default: '500' },
		outage: { type: 'string', default: '60', short: 'o' },
		queued: { type: 'string', default: '2000' },
	},
});
const STORM = Number(values.count);
const OUTAGE_S = Number(values.outage);
const QUEUED = Number(values.queued);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const out = (line: string) => process.stdout.write(`${line}\n`);

/** Posts MOFH callbacks over `connections` connections; resolves when all are acknowledged. */
function post(pool: Pool, bodies: Record<string, string>[], connections = 50): Promise<void> {
	return postCallbacks(pool, bodies, connections, (status) => {
		if (status !== 200) throw new Error(`callback answered ${status}`);
	});
}

/** Usernames matching `pattern` in each message created since `from` (content, embeds, digests). */
function seen(discord: DiscordDouble, from: number, pattern: RegExp): Set<string>[] {
	return discord.messages
		.slice(from)
		.map((message) => new Set(JSON.stringify(message.body).match(new RegExp(pattern, 'g')) ?? []));
}

/** Polls the double until every name is visible; returns seconds since `t0` and the per-message sets. */
async function untilVisible(
	discord: DiscordDouble,
	from: number,
	names: string[],
	pattern: RegExp,
	t0: number,
) {
	const deadline = performance.now() + 180_000;
	for (;;) {
		const sets = seen(discord, from, pattern);
		const visible = new Set(sets.flatMap((set) => [...set]));
		if (names.every((name) => visible.has(name))) return { seconds: (performance.now() - t0) / 1000, sets };
		if (performance.now() > deadline) throw new Error(`only ${visible.size} of ${names.length} visible`);
		await sleep(10);
	}
}

function doubled(sets: Set<string>[]): number {
	const counts = new Map<string, number>();
	for (const set of sets) for (const name of set) counts.set(name, (counts.get(name) ?? 0) + 1);
	return [...counts.values()].filter((count) => count > 1).length;
}

const REASONS = ['DAILY_HIT', 'DAILY_HIT', 'DAILY_HIT', 'DAILY_CPU', 'DAILY_CPU', 'AUTO_IDLE', 'PHISHING'];

async function main(): Promise<void> {
	const dir = scratchDir();
	const discord = await new DiscordDouble({ channels: Object.values(CHANNELS) }).listen();
	const hookcord = await startHookcord(
		{
			STORE_URL: `sqlite://${dir.path}/storm.sqlite`,
			HOOK_SECRET: SECRET,
			// The outage's retry warnings are expected; errors still show.
			LOG_LEVEL: 'error',
			HOOK_RATE_LIMIT: '1000000',
			DISCORD_TOKEN: discord.token,
			DISCORD_API_URL: discord.apiUrl,
			ALERTS_CHANNEL: CHANNELS.SUSPENSIONS,
			...Object.fromEntries(Object.entries(CHANNELS).map(([topic, id]) => [`ALERTS_CHANNEL_${topic}`, id])),
		},
		dir.path,
		30_000,
	);
	const pool = new Pool(hookcord.url, { connections: 50 });
	out(`node ${process.version}; Discord double enforcing 5 messages / 5 s per channel`);
	try {
		// 1. Storm.
		const names = Array.from({ length: STORM }, (_, i) => `st_${String(i).padStart(5, '0')}`);
		let from = discord.messages.length;
		let limited = discord.rateLimited;
		let t0 = performance.now();
		await post(
			pool,
			names.map((username, i) => ({
				username,
				status: 'SUSPENDED',
				comments: REASONS[i % REASONS.length] as string,
			})),
		);
		const posted = (performance.now() - t0) / 1000;
		const storm = await untilVisible(discord, from, names, /st_\d{5}/, t0);
		out(
			`storm: ${STORM} suspensions posted in ${posted.toFixed(2)} s -> every username visible after ${storm.seconds.toFixed(2)} s, ` +
				`${discord.messages.length - from} messages, ${discord.rateLimited - limited} × 429, ${doubled(storm.sets)} doubled`,
		);

		// 2. Lone alert on a quiet channel (its rate window has passed).
		await sleep(5_500);
		from = discord.messages.length;
		t0 = performance.now();
		await post(pool, [{ username: 'lone_00001', status: 'SUSPENDED', comments: 'PHISHING' }], 1);
		const lone = await untilVisible(discord, from, ['lone_00001'], /lone_\d{5}/, t0);
		const embed = (discord.messages[from]?.body.embeds as APIEmbed[] | undefined)?.[0];
		out(
			`lone alert: visible after ${lone.seconds.toFixed(3)} s as "${embed?.title}" with fields ${embed?.fields?.map((f) => f.name).join(', ')}`,
		);

		// 3. Outage: 5xx while QUEUED alerts for three channels arrive, then recovery.
		await sleep(5_500);
		const outage = discord.fail({
			method: 'POST',
			path: /\/channels\/\d+\/messages$/,
			status: 503,
			times: Number.POSITIVE_INFINITY,
		});
		const queued = Array.from({ length: QUEUED }, (_, i) => `ou_${String(i).padStart(5, '0')}`);
		const bodies = queued.map((username, i): Record<string, string> => {
			switch (i % 6) {
				case 0:
				case 1:
					return { username, status: 'SUSPENDED', comments: REASONS[i % REASONS.length] as string };
				case 2:
					return { username, status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' };
				case 3:
					return { username, status: 'sql102', comments: 'SQL_SERVER' };
				default:
					return { username, status: 'CLIENTDOMADD', comments: `${username.replace('_', '')}.example.com` };
			}
		});
		from = discord.messages.length;
		limited = discord.rateLimited;
		const started = performance.now();
		await post(pool, bodies);
		const left = OUTAGE_S * 1000 - (performance.now() - started);
		if (left > 0) await sleep(left);
		const failedPosts = outage.hits;
		discord.clearFaults();
		t0 = performance.now();
		const recovery = await untilVisible(discord, from, queued, /ou_\d{5}/, t0);
		const visible = new Set(recovery.sets.flatMap((set) => [...set]));
		out(
			`outage: ${QUEUED} alerts queued for 3 channels during ${OUTAGE_S} s of 503 (${failedPosts} refused posts) -> ` +
				`all visible ${recovery.seconds.toFixed(2)} s after recovery, ${discord.messages.length - from} messages, ` +
				`${discord.rateLimited - limited} × 429, ${QUEUED - visible.size} lost, ${doubled(recovery.sets)} doubled`,
		);
		// Anything doubled would show up now.
		await sleep(2_000);
		out(
			`after 2 s more: ${doubled(seen(discord, from, /ou_\d{5}/))} doubled, ${discord.messages.length - from} messages`,
		);
	} finally {
		await pool.close();
		await hookcord.kill('SIGTERM');
		process.stderr.write(hookcord.stderr());
		await discord.close();
		dir.remove();
	}
}

main().catch((error) => {
	process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
	process.exit(1);
});
