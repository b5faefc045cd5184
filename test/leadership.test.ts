import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import {
	type DiscordDouble,
	type RecordedRequest,
	snowflake,
	startDiscordDouble,
} from './doubles/discord.js';
import {
	footerIds,
	onDiscordDouble,
	postMofh,
	type RunningHookcord,
	scratchDir,
	startHookcord,
} from './process.js';
import { type Step, scenariosOnStores } from './scenarios.js';
import { privateStore, type StoreKind } from './stores.js';

/**
 * Several identical hookcord processes on one Redis or PostgreSQL store, against the Discord double:
 * exactly one delivers and holds the gateway session, every one receives callbacks; SIGKILL, SIGSTOP past
 * the lease and SIGTERM of the leader hand over to another, which resumes the shared outbox. Every check
 * covers the whole history: each alert acknowledged so far is on Discord exactly once.
 *
 * Each store's scenarios run in turn on one cluster (each starts from the processes the previous one
 * left); the two stores run side by side. Skipped without REDIS_URL / POSTGRES_URL.
 */

const SECRET = 'leadership-secret-0123456789';
/**
 * Renewed every 1.3 s; a leader that stops renewing stops itself after 3.2 s, the store frees it at 4 s.
 * (Shorter makes a leader starved of CPU by the rest of the suite give its lease up now and then.)
 */
const LEASE = '4s';
/** Bound for "it gets there": the processes share two cores with the rest of the suite. */
const ARRIVES_MS = 20_000;
const CHANNEL_POST = /\/channels\/\d+\/messages$/;

interface Cluster {
	kind: StoreKind;
	discord: DiscordDouble;
	channel: string;
	/** Running processes by INSTANCE_ID. */
	live: Map<string, RunningHookcord>;
	/** Every process started, killed ones too. */
	all: RunningHookcord[];
	/** Every event id a callback was answered 200 with. */
	acknowledged: string[];
	start(name: string, env?: Record<string, string>): Promise<RunningHookcord>;
	close(): Promise<void>;
}

async function openCluster(kind: StoreKind): Promise<Cluster> {
	const scratch = scratchDir();
	const store = privateStore(kind);
	const discord = await startDiscordDouble();
	const channel = snowflake();
	const all: RunningHookcord[] = [];
	const cluster: Cluster = {
		kind,
		discord,
		channel,
		live: new Map(),
		all,
		acknowledged: [],
		async start(name, env = {}) {
			const hookcord = await startHookcord(
				{
					...onDiscordDouble(discord, store.url, SECRET),
					ALERTS_CHANNEL: channel,
					RETRY_SCHEDULE: '50ms,100ms,1s',
					DELIVERY_TIMEOUT: '2s',
					LEADER_LEASE: LEASE,
					// Callbacks taken by followers reach the leader at its next sweep.
					OUTBOX_SWEEP: '300ms',
					INSTANCE_ID: name,
					...env,
				},
				scratch.path,
			);
			all.push(hookcord);
			cluster.live.set(name, hookcord);
			return hookcord;
		},
		async close() {
			await Promise.all(
				all.map((hookcord) => {
					hookcord.child.kill('SIGCONT');
					return hookcord.kill('SIGKILL');
				}),
			);
			await discord.close();
			await store.drop();
			scratch.remove();
		},
	};
	return cluster;
}

const run = Math.random().toString(36).slice(2, 8);
let serial = 0;

/** One MOFH activation callback to `hookcord`; resolves with the event id of its 200 answer. */
async function callback(cluster: Cluster, hookcord: RunningHookcord): Promise<string> {
	const id = await postMofh(hookcord, SECRET, {
		username: `l${run}_${++serial}`,
		status: 'ACTIVATED',
		comments: 'GENERIC ACTIVATION',
	});
	cluster.acknowledged.push(id);
	return id;
}

/** `count` callbacks, spread over the given processes in turn. */
async function callbacks(cluster: Cluster, to: RunningHookcord[], count: number): Promise<string[]> {
	const ids: string[] = [];
	for (let i = 0; i < count; i++) ids.push(await callback(cluster, to[i % to.length] as RunningHookcord));
	return ids;
}

/** Waits until every acknowledged alert arrived, then checks each is there exactly once. */
async function expectAllOnce(cluster: Cluster, label: string): Promise<void> {
	const ids = [...cluster.acknowledged];
	await cluster.discord.waitFor(
		(d) => {
			const seen = new Set(footerIds(d.messages));
			return ids.every((id) => seen.has(id));
		},
		ARRIVES_MS,
		`${label}: all ${ids.length} alerts arrive`,
	);
	const counts = new Map<string, number>();
	for (const id of footerIds(cluster.discord.messages)) counts.set(id, (counts.get(id) ?? 0) + 1);
	const report = {
		doubled: [...counts].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`),
		foreign: [...counts.keys()].filter((id) => !ids.includes(id)),
	};
	assert.deepEqual(report, { doubled: [], foreign: [] }, `${label}: each alert exactly once`);
}

interface Readyz {
	status: string;
	leadership: { instance: string; role: string; leader?: string; epoch?: number };
	delivery: { pending: number };
}

async function readyz(hookcord: RunningHookcord): Promise<Readyz> {
	const res = await request(`${hookcord.url}/readyz`);
	return (await res.body.json()) as Readyz;
}

/**
 * Waits until exactly one running process says it leads and every other names it as the leader;
 * resolves with its name.
 */
async function settledLeader(cluster: Cluster, label: string): Promise<string> {
	const deadline = Date.now() + ARRIVES_MS;
	let last = '';
	for (;;) {
		const views = await Promise.all(
			[...cluster.live].map(async ([name, hookcord]) => ({ name, ...(await readyz(hookcord)).leadership })),
		);
		const leaders = views.filter((view) => view.role === 'leader');
		const leader = leaders[0]?.name;
		if (leaders.length === 1 && views.every((view) => view.leader === leader)) return leader as string;
		last = JSON.stringify(views);
		assert.ok(Date.now() < deadline, `${label}: one leader, known to all (last seen ${last})`);
		await sleep(50);
	}
}

/** How many terms of leadership the processes logged, killed ones included. */
const terms = (cluster: Cluster) =>
	cluster.all.flatMap(logLines).filter((line) => /^this instance \(\w+\) leads/.test(line.msg)).length;

/**
 * Waits until the double has exactly one gateway socket open and has seen one IDENTIFY per term of
 * leadership (a follower that opened a session would add one); returns the number of terms.
 */
async function oneSessionPerTerm(cluster: Cluster, label: string): Promise<number> {
	await cluster.discord.waitFor(
		(d) => d.openGatewaySockets === 1 && d.identifies.length === terms(cluster),
		ARRIVES_MS,
		`${label}: one gateway session, one IDENTIFY per leader (${terms(cluster)} terms)`,
	);
	return terms(cluster);
}

const channelPosts = (requests: RecordedRequest[]) =>
	requests.filter((r) => r.method === 'POST' && CHANNEL_POST.test(r.path));

const logLines = (hookcord: RunningHookcord) =>
	hookcord
		.stderr()
		.split('\n')
		.filter((line) => line.startsWith('{'))
		.map((line) => JSON.parse(line) as { msg: string; [key: string]: unknown });

function scenarios(step: Step<Cluster>, kind: StoreKind): void {
	step('three identical instances: one leads and holds the only gateway session; all receive', async (c) => {
		await c.start('a');
		await c.start('b');
		await c.start('c');
		const name = await settledLeader(c, 'start-up');
		await oneSessionPerTerm(c, 'start-up');
		const views = await Promise.all([...c.live.values()].map(readyz));
		assert.deepEqual(views.map((view) => [view.status, view.leadership.role]).sort(), [
			['ready', 'follower'],
			['ready', 'follower'],
			['ready', 'leader'],
		]);
		await callbacks(c, [...c.live.values()], 9);
		await expectAllOnce(c, 'three instances');
		assert.ok(
			logLines(c.live.get(name) as RunningHookcord).some((line) =>
				line.msg.startsWith(`this instance (${name}) leads`),
			),
			'the leader says so in its log',
		);
		await oneSessionPerTerm(c, 'three instances');
	});

	step(
		'SIGKILL of the leader with a backlog: a follower takes over, re-sends the unconfirmed batch with its nonce',
		async (c, t) => {
			const { discord } = c;
			const leader = c.live.get(await settledLeader(c, 'before the kill')) as RunningHookcord;
			// The first post reaches Discord but its answer is lost; every retry fails: the leader keeps the
			// batch recorded and unconfirmed.
			const outage = discord.fail({
				method: 'POST',
				path: CHANNEL_POST,
				responses: [{ createThenFail: 503 }, { status: 503, times: Number.POSITIVE_INFINITY }],
			});
			const before = discord.messages.length;
			await callbacks(c, [...c.live.values()], 6);
			await discord.waitFor(() => outage.hits >= 3, ARRIVES_MS, 'the leader met the outage');
			const inFlight = channelPosts(discord.requests).at(-1)?.body as { nonce: string };
			const killedAt = Date.now();
			assert.equal(await leader.kill('SIGKILL'), 'SIGKILL');
			c.live.delete([...c.live].find(([, p]) => p === leader)?.[0] as string);
			discord.clearFaults();

			// The message the old leader created already shows every alert: the positive sign of the handover is
			// the new leader's re-send of that recorded batch, with its nonce.
			await discord.waitFor(
				() =>
					channelPosts(discord.requests).some(
						(r) => r.at > killedAt && (r.body as { nonce: string }).nonce === inFlight.nonce,
					),
				60_000,
				'the new leader re-sent the recorded batch with the same nonce',
			);
			const handover = (Date.now() - killedAt) / 1000;
			t.diagnostic(
				`${kind}: SIGKILL of the leader -> backlog re-sent by the new leader in ${handover.toFixed(1)} s`,
			);
			assert.ok(handover < 45, `backlog re-sent ${handover} s after the kill`);
			await expectAllOnce(c, 'after SIGKILL');
			const resent = discord.messages.slice(before).map((message) => message.nonce);
			assert.equal(resent[0], inFlight.nonce, 'the message the old leader created is the first, once');
			await settledLeader(c, 'after SIGKILL');
			assert.ok((await oneSessionPerTerm(c, 'after SIGKILL')) >= 2, 'the new leader opened the one session');
		},
	);

	step('SIGSTOP of the leader past its lease, then SIGCONT: it sends nothing more', async (c) => {
		const { discord } = c;
		const name = await settledLeader(c, 'before the pause');
		const leader = c.live.get(name) as RunningHookcord;
		const outage = discord.fail({
			method: 'POST',
			path: CHANNEL_POST,
			status: 503,
			times: Number.POSITIVE_INFINITY,
		});
		// Sent to the leader itself: they sit in its queue. After a third failure it waits 1 s: stopped
		// then, it is between sends (not between the lease check and the write of one), and due again at once
		// when it wakes.
		await callbacks(c, [leader], 4);
		await discord.waitFor(() => outage.hits >= 3, ARRIVES_MS, 'the leader met the outage three times');
		leader.child.kill('SIGSTOP');
		discord.clearFaults();
		await expectAllOnce(c, 'while the old leader is stopped');
		// The new leader has confirmed everything (a post of its own that timed out under load would be
		// retried, same nonce, and look like the old leader's).
		const other = [...c.live.values()].find((hookcord) => hookcord !== leader) as RunningHookcord;
		for (const deadline = Date.now() + ARRIVES_MS; ; await sleep(50)) {
			const view = await readyz(other);
			if (view.leadership.role === 'leader' && view.delivery.pending === 0) break;
			assert.ok(Date.now() < deadline, `the new leader is idle: ${JSON.stringify(view)}`);
		}

		const resumedAt = Date.now();
		leader.child.kill('SIGCONT');
		const deposed = await discord.waitFor(
			() => logLines(leader).find((line) => /no longer leads/.test(line.msg)),
			ARRIVES_MS,
			'the old leader notices',
		);
		assert.match(deposed.msg, /this instance \(\w+\) no longer leads/);
		const newLeader = await settledLeader(c, 'after SIGCONT');
		assert.notEqual(newLeader, name, 'the instance that took over keeps leading');
		assert.deepEqual(
			channelPosts(discord.requests).filter((r) => r.at >= resumedAt),
			[],
			'no post after the old leader woke up (the new one had nothing left to send)',
		);
		await oneSessionPerTerm(c, 'after SIGCONT');
		await expectAllOnce(c, 'after SIGCONT');
	});

	step(
		'restart of the old leader and a receiver-only one; SIGTERM of the leader hands over at once',
		async (c, t) => {
			await c.start('a');
			const receiver = await c.start('r', { DELIVERY: 'off' });
			c.live.delete('r'); // never leads, names no leader: checked on its own below
			const name = await settledLeader(c, 'after the restart');
			assert.notEqual(name, 'a', 'the restarted instance follows');
			const leader = c.live.get(name) as RunningHookcord;
			const identifies = c.discord.identifies.length;
			const stoppedAt = Date.now();
			assert.equal(await leader.kill('SIGTERM'), 0, 'SIGTERM exits 0');
			c.live.delete(name);
			const next = await settledLeader(c, 'after SIGTERM');
			const took = (Date.now() - stoppedAt) / 1000;
			t.diagnostic(`${kind}: SIGTERM of the leader -> ${next} leads ${took.toFixed(1)} s later`);
			assert.ok((await oneSessionPerTerm(c, 'after SIGTERM')) > identifies);
			await callbacks(c, [receiver, ...c.live.values()], 6);
			await expectAllOnce(c, 'after SIGTERM');
			const view = await readyz(receiver);
			assert.deepEqual([view.status, view.leadership], ['ready', { instance: 'r', role: 'receiver' }]);
			await oneSessionPerTerm(c, 'with a receiver');
			assert.ok(
				!logLines(receiver).some((line) => /^this instance \(r\) leads/.test(line.msg)),
				'the receiver never led',
			);
		},
	);
}

scenariosOnStores(
	'several instances on one store: one leads, the others take over',
	['redis', 'postgres'] as const,
	openCluster,
	scenarios,
);
