import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client, request } from 'undici';
import {
	type DiscordDouble,
	type RecordedRequest,
	snowflake,
	startDiscordDouble,
} from './doubles/discord.js';
import {
	footerIds,
	onDiscordDouble,
	type RunningHookcord,
	readyz,
	runScript,
	scratchDir,
	startHookcord,
	waitForPending,
} from './process.js';
import { type Step, scenariosOnStores } from './scenarios.js';
import { privateStore, type StoreKind } from './stores.js';

/**
 * Delivery under Discord faults, with the real process (`node --import tsx src/main.ts`) against the
 * Discord double on 127.0.0.1: 5xx and timeouts, 429 of every scope, 401, 403/404, SIGKILL and SIGTERM in
 * the middle of a backlog, the dead letter and its replay. Every scenario fails if an alert is lost or
 * doubled: the event ids in the embed footers (`event <id>`), across bot-channel and webhook messages,
 * must be exactly the ids the callbacks were answered 200 with.
 *
 * Runs on SQLite, and on Redis / PostgreSQL when REDIS_URL / POSTGRES_URL are set (each run on its own
 * `?prefix=`, removed afterwards). The three stores run side by side; the scenarios of one store in turn,
 * each starting from the process the previous one left (see `Lab`).
 */

const SECRET = 'faults-secret-0123456789abcdef';
/** Upper bound for "it gets there": generous, the three stores share two cores with the rest of CI. */
const ARRIVES_MS = 15_000;

type Topic = 'ACCOUNTS' | 'SUSPENSIONS' | 'DOMAINS' | 'EMAIL';
const FAULT_STORES = ['sqlite', 'redis', 'postgres'] as const satisfies readonly StoreKind[];

// ---------------------------------------------------------------------------------------------------------
// The lab: one Discord double and one store, and the hookcord processes run on them one after the other
// ---------------------------------------------------------------------------------------------------------

/**
 * The scenarios of one store run in turn on one lab: the restart that ends a scenario is the process the
 * next one starts from (a process start costs about 2 s of CPU, and there are three stores). So every
 * check covers the whole history: each alert acknowledged so far is on Discord exactly once.
 */
interface Lab {
	discord: DiscordDouble;
	storeUrl: string;
	dir: string;
	/** ACCOUNTS ─▶ A, SUSPENSIONS ─▶ B, DOMAINS ─▶ C (bot channels), EMAIL ─▶ a webhook URL. */
	A: string;
	B: string;
	C: string;
	hook: { id: string; token: string };
	/** The running process. */
	hookcord: RunningHookcord;
	/** Every event id a callback was answered 200 with, in this lab. */
	acknowledged: string[];
	start(env?: Record<string, string>): Promise<RunningHookcord>;
	close(): Promise<void>;
}

async function openLab(kind: StoreKind): Promise<Lab> {
	const scratch = scratchDir();
	const store = privateStore(kind);
	const hook = { id: snowflake(), token: randomBytes(24).toString('base64url') };
	const discord = await startDiscordDouble({ webhooks: [hook] });
	const [A, B, C] = [snowflake(), snowflake(), snowflake()] as [string, string, string];
	const running: RunningHookcord[] = [];
	const lab: Lab = {
		discord,
		storeUrl: store.url,
		dir: scratch.path,
		A,
		B,
		C,
		hook,
		hookcord: undefined as unknown as RunningHookcord,
		acknowledged: [],
		async start(env = {}) {
			const hookcord = await startHookcord(
				{
					...onDiscordDouble(discord, store.url, SECRET),
					WOOXY_ALLOWED_IPS: '*',
					ALERTS_CHANNEL_ACCOUNTS: A,
					ALERTS_CHANNEL_SUSPENSIONS: B,
					ALERTS_CHANNEL_DOMAINS: C,
					ALERTS_CHANNEL_EMAIL: `${discord.apiUrl}/webhooks/${hook.id}/${hook.token}`,
					RETRY_SCHEDULE: '50ms,100ms,200ms',
					// Webhooks have no nonce: a timeout that fires under load after Discord posted would post
					// twice. Scenarios that need a shorter timeout ask for it.
					DELIVERY_TIMEOUT: '2s',
					RATE_LIMIT_MAX_WAIT: '500ms',
					// A restart after SIGKILL on Redis/Postgres waits for the dead process's delivery lease.
					LEADER_LEASE: '2s',
					...env,
				},
				scratch.path,
			);
			running.push(hookcord);
			lab.hookcord = hookcord;
			return hookcord;
		},
		async close() {
			await Promise.all(running.map((hookcord) => hookcord.kill('SIGKILL')));
			await discord.close();
			await store.drop();
			scratch.remove();
		},
	};
	return lab;
}

// ---------------------------------------------------------------------------------------------------------
// Callbacks and what reached Discord
// ---------------------------------------------------------------------------------------------------------

const run = randomBytes(3).toString('hex');
let serial = 0;

/** One callback whose alert goes to `topic`; resolves with the event id of its 200 answer. */
async function callback(base: string, topic: Topic): Promise<string> {
	const n = ++serial;
	const username = `f${run}_${n}`;
	const send =
		topic === 'EMAIL'
			? {
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({
						datetime: 1767225600 + n,
						event: 'hard',
						email: `${username}@example.com`,
						id: `m${run}${n}`,
						userId: 'u1',
						headers: {},
					}),
					path: 'wooxy',
				}
			: {
					headers: { 'content-type': 'application/x-www-form-urlencoded' },
					body: new URLSearchParams(
						topic === 'ACCOUNTS'
							? { username, status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' }
							: topic === 'SUSPENSIONS'
								? { username, status: 'SUSPENDED', comments: 'ADMIN_CLOSE : DAILY_HIT' }
								: { username, status: 'CLIENTDOMADD', comments: `${username.replace('_', '-')}.example.com` },
					).toString(),
					path: 'mofh',
				};
	const res = await request(`${base}/hooks/${send.path}/${SECRET}`, {
		method: 'POST',
		headers: send.headers,
		body: send.body,
	});
	const text = await res.body.text();
	assert.equal(res.statusCode, 200, `callback answered ${res.statusCode}: ${text}`);
	const answer = JSON.parse(text) as { id: string; duplicate?: boolean };
	assert.ok(!answer.duplicate, 'every test callback is new');
	return answer.id;
}

/**
 * `count` callbacks per topic to the running process, interleaved, a round at a time concurrently; the ids
 * of their 200 answers, by topic. Every id is also added to the lab's acknowledged ones.
 */
async function send(lab: Lab, perTopic: Partial<Record<Topic, number>>) {
	const base = lab.hookcord.url;
	const topics = Object.entries(perTopic) as [Topic, number][];
	const rounds = Math.max(...topics.map(([, count]) => count));
	const byTopic = Object.fromEntries(topics.map(([topic]) => [topic, [] as string[]])) as Record<
		Topic,
		string[]
	>;
	const all: string[] = [];
	for (let i = 0; i < rounds; i++) {
		const round = topics.filter(([, count]) => i < count).map(([topic]) => topic);
		const ids = await Promise.all(round.map((topic) => callback(base, topic)));
		for (const [j, id] of ids.entries()) byTopic[round[j] as Topic].push(id);
		all.push(...ids);
		lab.acknowledged.push(...ids);
	}
	return { all, ...byTopic };
}

/** The event id in every embed footer that reached Discord, bot channels and webhooks, repeats kept. */
const allFooterIds = (discord: DiscordDouble) => footerIds([...discord.messages, ...discord.webhookMessages]);

function delivered(discord: DiscordDouble, ids: string[]): boolean {
	const seen = new Set(allFooterIds(discord));
	return ids.every((id) => seen.has(id));
}

/** The alerts that reached Discord are exactly `ids`, each once: nothing lost, doubled or foreign. */
function assertExactlyOnce(discord: DiscordDouble, ids: string[], label: string): void {
	const counts = new Map<string, number>();
	for (const id of allFooterIds(discord)) counts.set(id, (counts.get(id) ?? 0) + 1);
	const expected = new Set(ids);
	assert.equal(expected.size, ids.length, 'every callback got its own id');
	const report = {
		lost: ids.filter((id) => !counts.has(id)),
		doubled: [...counts].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`),
		foreign: [...counts.keys()].filter((id) => !expected.has(id)),
	};
	assert.deepEqual(report, { lost: [], doubled: [], foreign: [] }, `${label}: each alert exactly once`);
}

/** SIGTERM: the process finishes what it was doing and exits 0 (its last log lines say why when not). */
async function stops(hookcord: RunningHookcord): Promise<void> {
	const code = await hookcord.kill('SIGTERM');
	assert.equal(code, 0, `SIGTERM exits 0; the process's last log lines:\n${hookcord.stderr().slice(-3000)}`);
}

/**
 * Waits (bounded) until every alert acknowledged so far has arrived and the process has nothing left to
 * send (its /readyz counts no pending alert, so no copy can still be on its way), then checks that
 * Discord holds exactly those, once each.
 */
async function expectAllOnce(lab: Lab, label: string): Promise<void> {
	const ids = [...lab.acknowledged];
	await lab.discord.waitFor(
		(d) => delivered(d, ids),
		ARRIVES_MS,
		`${label}: all ${ids.length} alerts arrive`,
	);
	await pendingIs(lab.hookcord, 0, `${label}: nothing left to send`);
	assertExactlyOnce(lab.discord, ids, label);
}

/** Waits (bounded) until the process's worker holds exactly `count` alerts, per /readyz. */
const pendingIs = (hookcord: RunningHookcord, count: number, what: string) =>
	waitForPending(hookcord, count, what, ARRIVES_MS);

const CHANNEL_POST = /\/channels\/\d+\/messages$/;
/** Bot-channel posts among `requests` (all channels, or one). */
const channelPosts = (requests: RecordedRequest[], channelId?: string) =>
	requests.filter(
		(r) =>
			r.method === 'POST' &&
			CHANNEL_POST.test(r.path) &&
			(channelId === undefined || r.path.endsWith(`/channels/${channelId}/messages`)),
	);
const webhookPosts = (requests: RecordedRequest[], webhookId: string) =>
	requests.filter((r) => r.method === 'POST' && r.path.includes(`/webhooks/${webhookId}/`));

interface LogLine {
	level: number;
	msg: string;
	destination?: string;
	[key: string]: unknown;
}

/** hookcord's JSON log lines on stderr. */
function logs(hookcord: RunningHookcord): LogLine[] {
	return hookcord
		.stderr()
		.split('\n')
		.flatMap((line) => {
			try {
				const parsed = JSON.parse(line) as unknown;
				return parsed && typeof parsed === 'object' ? [parsed as LogLine] : [];
			} catch {
				return [];
			}
		});
}

/** `npm run alerts -- <args>` on the same store and working directory as the process. */
function alertsScript(args: string[], storeUrl: string, cwd: string) {
	return runScript('scripts/alerts.ts', { args, env: { STORE_URL: storeUrl }, cwd, timeoutMs: ARRIVES_MS });
}

// ---------------------------------------------------------------------------------------------------------
// The scenarios, in turn on each store
// ---------------------------------------------------------------------------------------------------------

const CHANNEL_FAULT = { method: 'POST', path: CHANNEL_POST } as const;
const ALWAYS = Number.POSITIVE_INFINITY;

function scenarios(step: Step<Lab>): void {
	step('5xx and timeouts many times in a row, a lost response among them: every alert once', async (lab) => {
		const { discord } = lab;
		// Short timeouts for the hanging posts, and in-place waits above the whole-second Retry-After of the
		// next scenario (a global 429 of 0.2 s waits 1 s: Discord rounds the header up).
		await lab.start({ DELIVERY_TIMEOUT: '1s', RATE_LIMIT_MAX_WAIT: '1500ms' });
		const outage = discord.fail({
			...CHANNEL_FAULT,
			responses: [
				{ status: 500, times: 3 },
				{ status: 502, times: 2 },
				{ hang: true, times: 2 },
				{ status: 503, times: 3 },
				{ createThenFail: 500 },
				{ status: 500, times: 2 },
				{ hang: true },
				{ status: 502, times: 2 },
				{ status: 503, times: 3 },
			],
		});
		await send(lab, { ACCOUNTS: 5, SUSPENSIONS: 5 });
		await discord.waitFor(() => outage.hits >= 6, ARRIVES_MS, 'the outage is under way');
		await send(lab, { ACCOUNTS: 5, SUSPENSIONS: 5 });
		await discord.waitFor(() => outage.done, ARRIVES_MS, 'every scripted failure was answered');
		await expectAllOnce(lab, '5xx/timeouts');
		const nonceOf = (body: unknown) => (body as { nonce?: string } | undefined)?.nonce;
		assert.ok(
			discord.requests.some(
				(r) => r.status === 500 && discord.messages.some((m) => m.nonce === nonceOf(r.body)),
			),
			'a 500 was answered after Discord had created the message (a lost response), and not re-posted',
		);
		assert.equal(
			channelPosts(discord.requests).filter((r) => r.status === undefined).length,
			3,
			'three posts hung and were given up after DELIVERY_TIMEOUT',
		);
	});

	step(
		'429 of scope user, shared and global is waited out; a long one goes back to the outbox',
		async (lab) => {
			const { discord, A, hookcord } = lab;
			const short = discord.fail({
				...CHANNEL_FAULT,
				responses: [
					{ status: 429, retryAfter: 0.2, scope: 'user' },
					{ status: 429, retryAfter: 0.2, scope: 'shared' },
					{ status: 429, retryAfter: 0.2, scope: 'global' },
				],
			});
			await send(lab, { ACCOUNTS: 3, SUSPENSIONS: 3 });
			await discord.waitFor(() => short.done, ARRIVES_MS, 'the three 429s were answered');
			await expectAllOnce(lab, 'short 429s');
			const handedBack = () => logs(hookcord).filter((line) => /rate limited/.test(line.msg));
			assert.deepEqual(handedBack(), [], 'a short rate limit is waited out in place, not retried later');

			// Far above RATE_LIMIT_MAX_WAIT on channel A: A's alerts go back to the outbox, B's go on meanwhile.
			const mark = Date.now();
			const long = discord.fail({ ...CHANNEL_FAULT, channelId: A, status: 429, retryAfter: 3 });
			const onA = await send(lab, { ACCOUNTS: 3 });
			await discord.waitFor(() => long.done, ARRIVES_MS, 'channel A got the long 429');
			const limitedAt =
				channelPosts(discord.requests, A).find((r) => r.at >= mark && r.status === 429)?.at ?? 0;
			const onB = await send(lab, { SUSPENSIONS: 3 });
			await discord.waitFor((d) => delivered(d, onB.all), ARRIVES_MS, "B's alerts arrive");
			assert.ok(
				!onA.all.some((id) => allFooterIds(discord).includes(id)),
				"B's alerts were delivered while A's waited out the rate limit",
			);
			await expectAllOnce(lab, 'long 429');
			const resumedAt =
				channelPosts(discord.requests, A).find((r) => r.at > limitedAt && r.status === 200)?.at ?? 0;
			assert.ok(
				resumedAt - limitedAt >= 2900,
				`A waited the 3 s out (resumed after ${resumedAt - limitedAt} ms)`,
			);
			assert.ok(
				handedBack().some((line) => line.destination === `channel:${A}`),
				'the long rate limit was handed back to the outbox (logged)',
			);
		},
	);

	step('401 halts bot delivery loudly and keeps the events; a restart delivers them once', async (lab) => {
		const { discord } = lab;
		const first = lab.hookcord;
		const mark = discord.requests.length;
		const postsSince = () => channelPosts(discord.requests.slice(mark));
		discord.fail({ ...CHANNEL_FAULT, status: 401, times: ALWAYS });
		await send(lab, { ACCOUNTS: 3 }); // one channel: its posts go one at a time
		const fatal = await discord.waitFor(
			() => logs(first).find((line) => line.level === 60 && /DISCORD_TOKEN/.test(line.msg)),
			ARRIVES_MS,
			'a fatal log line about DISCORD_TOKEN',
		);
		assert.match(fatal.msg, /401/);
		await send(lab, { ACCOUNTS: 1, SUSPENSIONS: 1, DOMAINS: 1 });
		// All six alerts are queued behind the halt (the worker has decided about each of them).
		await pendingIs(first, 6, 'the alerts wait behind the halt');
		assert.deepEqual(
			postsSince().map((r) => r.status),
			[401],
			'one channel post answered 401, none after it',
		);
		const ready = await readyz(first);
		assert.equal(ready.statusCode, 503, '/readyz fails while delivery is halted');
		assert.ok(
			ready.body.problems.some((problem) => /halted/.test(problem)),
			`/readyz names the halt: ${JSON.stringify(ready.body.problems)}`,
		);
		await stops(first);
		assert.doesNotMatch(first.stderr(), new RegExp(discord.token), 'the token never reaches a log line');

		discord.clearFaults();
		await lab.start();
		await expectAllOnce(lab, 'after the 401 and a restart');
	});

	step(
		'403 on a channel and 404 on a webhook pause only those, never hammered; kept for later',
		async (lab) => {
			const { discord, A, hook } = lab;
			const first = lab.hookcord;
			const mark = discord.requests.length;
			const since = () => discord.requests.slice(mark);
			discord.fail({ ...CHANNEL_FAULT, channelId: A, status: 403, times: ALWAYS });
			discord.fail({
				method: 'POST',
				path: /\/webhooks\/\d+\/[\w-]+$/,
				webhookId: hook.id,
				status: 404,
				times: ALWAYS,
			});
			const early = await send(lab, { ACCOUNTS: 3, SUSPENSIONS: 3, EMAIL: 3 });
			const paused = [`channel:${A}`, `webhook:${hook.id}`];
			await discord.waitFor(
				() =>
					paused.every((key) =>
						logs(first).some((line) => line.destination === key && /paused/.test(line.msg)),
					),
				ARRIVES_MS,
				'a log line says each destination is paused',
			);
			const ready = await readyz(first);
			assert.deepEqual(
				ready.body.delivery.paused.map((entry) => entry.destination).sort(),
				[...paused].sort(),
				'/readyz lists the paused destinations',
			);
			assert.ok(!ready.body.delivery.halted, 'a 403 is not a halt');
			const late = await send(lab, { ACCOUNTS: 2, SUSPENSIONS: 2, EMAIL: 2 });
			await discord.waitFor(
				(d) => delivered(d, [...early.SUSPENSIONS, ...late.SUSPENSIONS]),
				ARRIVES_MS,
				'channel B goes on',
			);
			// The ten alerts for A and the webhook wait in the worker, whose destinations are still paused.
			await pendingIs(first, 10, 'the paused destinations keep their alerts');
			assert.deepEqual(
				(await readyz(first)).body.delivery.paused.map((entry) => entry.destination).sort(),
				[...paused].sort(),
			);
			assert.equal(channelPosts(since(), A).length, 1, 'one request to the forbidden channel, no more');
			assert.equal(webhookPosts(since(), hook.id).length, 1, 'one request to the unknown webhook, no more');
			const kept = [...early.ACCOUNTS, ...early.EMAIL, ...late.ACCOUNTS, ...late.EMAIL];
			assert.ok(
				!kept.some((id) => allFooterIds(discord).includes(id)),
				'nothing reached a paused destination',
			);
			await stops(first);

			discord.clearFaults();
			await lab.start();
			await expectAllOnce(lab, 'after the pause and a restart');
		},
	);

	step('SIGKILL in the middle of a backlog: the restart delivers everything, nothing twice', async (lab) => {
		const { discord } = lab;
		const first = lab.hookcord;
		const outage = discord.fail({ ...CHANNEL_FAULT, status: 503, times: ALWAYS });
		const backlog = await send(lab, { ACCOUNTS: 14, SUSPENSIONS: 13, DOMAINS: 13 });
		await discord.waitFor(() => outage.hits >= 3, ARRIVES_MS, 'the outage was hit');
		const before = discord.messages.length;
		discord.clearFaults();
		// Each channel's first post held one alert (it left before the others arrived); kill as soon as a
		// batched message of the backlog exists, while the rest are in flight.
		await discord.waitFor(
			(d) => d.messages.slice(before).some((m) => (m.body.embeds as unknown[]).length > 1),
			ARRIVES_MS,
			'the backlog drains in batches',
		);
		assert.equal(await first.kill('SIGKILL'), 'SIGKILL');
		assert.ok(!delivered(discord, backlog.all), 'killed before the backlog was drained');

		// The next scenario needs a send that outlives the SIGTERM it sends.
		await lab.start({ DELIVERY_TIMEOUT: '2s' });
		await expectAllOnce(lab, 'after SIGKILL');
	});

	step(
		'SIGTERM stops accepting, finishes the send in flight, exits 0; nothing lost or doubled',
		async (lab) => {
			const { discord, A } = lab;
			const first = lab.hookcord;
			const mark = discord.requests.length;
			discord.fail({ ...CHANNEL_FAULT, channelId: A, hang: true });
			await send(lab, { ACCOUNTS: 3, SUSPENSIONS: 2 });
			const inFlight = await discord.waitFor(
				(d) => channelPosts(d.requests.slice(mark), A).find((r) => r.status === undefined),
				ARRIVES_MS,
				'a post to A is in flight',
			);
			first.child.kill('SIGTERM');
			assert.ok(Date.now() - inFlight.at < 1500, 'SIGTERM was sent while the post was in flight');
			await discord.waitFor(
				() => logs(first).some((line) => /^SIGTERM/.test(line.msg)),
				ARRIVES_MS,
				'SIGTERM is being handled',
			);
			// A new connection now is refused (or reset, when it raced the listening socket's close), or
			// answered 503 while the server closes: never served.
			const client = new Client(first.url);
			const answer = await client
				.request({ method: 'GET', path: '/healthz' })
				.then(async (res) => {
					await res.body.dump();
					return res.statusCode;
				})
				.catch((error: NodeJS.ErrnoException) => error.code ?? String(error))
				.finally(() => client.close().catch(() => {}));
			assert.ok(
				[503, 'ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(answer),
				`refused after SIGTERM (got ${answer})`,
			);
			assert.equal(await first.exited, 0, 'SIGTERM exits 0');
			const exitedAfter = Date.now() - inFlight.at;
			assert.ok(
				exitedAfter >= 1900,
				`the send in flight ran out its 2 s first (exit after ${exitedAfter} ms)`,
			);
			assert.ok(
				logs(first).some((line) => line.msg === 'stopped'),
				'the shutdown completed (store closed)',
			);

			await lab.start();
			await expectAllOnce(lab, 'across SIGTERM and a restart');
		},
	);

	step(
		'dead letter: past RETRY_BUDGET the alert is set aside, listed, replayed, delivered once',
		async (lab) => {
			const { discord } = lab;
			// A short retry budget, only now: a restart with it would set aside a backlog that meets one 429.
			await stops(lab.hookcord);
			const first = await lab.start({ RETRY_BUDGET: '300ms' });
			const mark = discord.requests.length;
			const postsSince = () => channelPosts(discord.requests.slice(mark));
			discord.fail({ ...CHANNEL_FAULT, status: 500, times: ALWAYS });
			const [id] = (await send(lab, { ACCOUNTS: 1 })).all as [string];
			await discord.waitFor(
				() => logs(first).some((line) => /failed deliveries/.test(line.msg)),
				ARRIVES_MS,
				'the alert moved to the failed deliveries',
			);
			const attempts = postsSince().length;
			assert.ok(attempts >= 2, `it was retried before giving up (${attempts} attempts)`);
			await pendingIs(first, 0, 'the worker holds nothing more to retry');
			assert.equal(postsSince().length, attempts, 'the outbox no longer retries it');
			await stops(first);

			const failed = await alertsScript(['failed'], lab.storeUrl, lab.dir);
			assert.equal(failed.code, 0, failed.stderr);
			assert.match(failed.stdout, new RegExp(id), '`npm run alerts -- failed` lists the event');
			const replay = await alertsScript(['replay', 'all'], lab.storeUrl, lab.dir);
			assert.equal(replay.code, 0, replay.stderr);
			assert.match(replay.stdout, /Moved 1 alert/);

			discord.clearFaults();
			const second = await lab.start();
			await expectAllOnce(lab, 'after the replay');
			await stops(second);
			const afterwards = await alertsScript(['failed'], lab.storeUrl, lab.dir);
			assert.doesNotMatch(afterwards.stdout, new RegExp(id), 'nothing is left in the failed deliveries');
		},
	);
}

scenariosOnStores(
	'delivery under Discord faults: the real process, no alert lost or doubled',
	FAULT_STORES,
	openLab,
	scenarios,
);
