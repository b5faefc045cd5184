/**
 * `npx tsx bench/handover.ts --store redis|postgres [--lease 15s] [--rounds 3] [--backlog 20]`: two
 * identical hookcord processes on one store (REDIS_URL / POSTGRES_URL, on a private prefix removed
 * afterwards) against the Discord double. Each round: Discord answers 503 so the leader holds a
 * backlog, the leader is SIGKILLed, Discord recovers, and the time until the other process has delivered
 * the whole backlog is printed; then the killed one is restarted (it follows) for the next round.
 */
import { parseArgs } from 'node:util';
import type { APIEmbed } from 'discord-api-types/v10';
import { request } from 'undici';
import { snowflake, startDiscordDouble } from '../test/doubles/discord.js';
import {
	footerIds,
	onDiscordDouble,
	postMofh,
	type RunningHookcord,
	scratchDir,
	startHookcord,
} from '../test/process.js';
import { privateStore, unavailable } from '../test/stores.js';

const { values } = parseArgs({
	options: {
		store: { type: 'string', default: 'redis' },
		lease: { type: 'string', default: '15s' },
		rounds: { type: 'string', default: '3' },
		backlog: { type: 'string', default: '20' },
	},
});
const kind = values.store === 'postgres' ? 'postgres' : 'redis';
const missing = unavailable(kind);
if (missing) throw new Error(`${missing}: the handover needs a shared store`);
const SECRET = 'bench-secret-0123456789';
const POST = /\/channels\/\d+\/messages$/;

const store = privateStore(kind);
const scratch = scratchDir();
const discord = await startDiscordDouble();
const channel = snowflake();
const start = (name: string) =>
	startHookcord(
		{
			...onDiscordDouble(discord, store.url, SECRET),
			ALERTS_CHANNEL: channel,
			RETRY_SCHEDULE: '200ms',
			LEADER_LEASE: values.lease,
			INSTANCE_ID: name,
			LOG_LEVEL: 'warn',
		},
		scratch.path,
		60_000,
	);
const role = async (hookcord: RunningHookcord) =>
	((await (await request(`${hookcord.url}/readyz`)).body.json()) as { leadership: { role: string } })
		.leadership.role;
const delivered = () => new Set(footerIds(discord.messages));

let serial = 0;
const processes = [await start('p0'), await start('p1')];
const times: number[] = [];
try {
	for (let round = 0; round < Number(values.rounds); round++) {
		let leader = -1;
		while (leader < 0) {
			const roles = await Promise.all(processes.map(role));
			leader = roles.indexOf('leader');
			if (leader < 0) await new Promise((resolve) => setTimeout(resolve, 100));
		}
		const outage = discord.fail({ method: 'POST', path: POST, status: 503, times: Number.POSITIVE_INFINITY });
		const ids: string[] = [];
		for (let i = 0; i < Number(values.backlog); i++) {
			ids.push(
				await postMofh(processes[leader] as RunningHookcord, SECRET, {
					username: `hb${++serial}`,
					status: 'ACTIVATED',
					comments: 'x',
				}),
			);
		}
		await discord.waitFor(() => outage.hits > 0, 10_000);
		const killedAt = Date.now();
		await processes[leader]?.kill('SIGKILL');
		discord.clearFaults();
		await discord.waitFor(() => ids.every((id) => delivered().has(id)), 120_000, 'the backlog arrives');
		const seconds = (Date.now() - killedAt) / 1000;
		times.push(seconds);
		const copies = discord.messages.flatMap((m) => (m.body.embeds ?? []) as APIEmbed[]).length;
		console.log(
			`round ${round + 1}: SIGKILL of the leader -> ${ids.length} alerts delivered in ${seconds.toFixed(1)} s` +
				` (${copies} embeds posted for ${delivered().size} alerts so far)`,
		);
		processes[leader] = await start(`p${leader}`);
	}
	const sorted = [...times].sort((a, b) => a - b);
	console.log(
		`${kind}, LEADER_LEASE=${values.lease}: min ${sorted[0]?.toFixed(1)} s, median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} s, max ${sorted.at(-1)?.toFixed(1)} s`,
	);
} finally {
	await Promise.all(processes.map((hookcord) => hookcord.kill('SIGKILL')));
	await discord.close();
	await store.drop();
	scratch.remove();
}
