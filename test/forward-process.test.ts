import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { type PanelDouble, startPanel } from './doubles/panel.js';
import { SECRET } from './helpers.js';
import { until } from './poll.js';
import { type RunningHookcord, runScript, scratchDir, startHookcord } from './process.js';
import { privateStore, STORE_KINDS, unavailable } from './stores.js';

interface ForwardsReadiness {
	target: string;
	state: string;
	waiting: number;
	paused?: { event: string; reason: string };
}

async function forwardsOf(hookcord: { url: string }): Promise<ForwardsReadiness[]> {
	const res = await request(`${hookcord.url}/readyz`);
	return ((await res.body.json()) as { forwards: ForwardsReadiness[] }).forwards;
}

/** One MOFH callback; `round` makes each distinct (an identical one would be collapsed as a retry). */
async function post(hookcord: { url: string }, username: string, round: number): Promise<string> {
	const status = round === 0 ? 'ACTIVATED' : 'SUSPENDED';
	const res = await request(`${hookcord.url}/hooks/mofh/${SECRET}?via=mofh`, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams({ username, status, comments: `DAILY_HIT ${round}` }).toString(),
	});
	const text = await res.body.text();
	assert.equal(res.statusCode, 200, text);
	return (JSON.parse(text) as { id: string }).id;
}

const eventsOf = (panel: PanelDouble) => panel.requests.map((r) => String(r.headers['x-hookcord-event']));
const count = (ids: string[], id: string) => ids.filter((each) => each === id).length;

/** Each account's ids, in the order the panel received them (first receipts). */
function inOrderPerAccount(panel: PanelDouble, posted: { username: string; id: string }[]): void {
	const received = eventsOf(panel);
	for (const username of new Set(posted.map((p) => p.username))) {
		const mine = posted.filter((p) => p.username === username).map((p) => p.id);
		const firsts = mine.map((id) => received.indexOf(id));
		assert.deepEqual(
			firsts,
			[...firsts].sort((a, b) => a - b),
			`${username}'s callbacks in stored order`,
		);
	}
}

describe('forwarding in the real process', () => {
	it('SIGKILL with forwards in flight: nothing sent twice without a person, nothing lost; a restart resumes', async (t) => {
		const dir = scratchDir();
		t.after(() => dir.remove());
		// The first four requests never get an answer: they are in flight when the process is killed.
		const panel = await startPanel((_request, index) => (index < 4 ? 'hang' : { status: 200 }));
		t.after(() => panel.close());
		const env = {
			STORE_URL: `sqlite://${dir.path}/hookcord.sqlite`,
			HOOK_SECRET: SECRET,
			MOFH_ALLOWED_IPS: '*',
			MOFH_FORWARD_TO: `${panel.url}/c/mofh?k=1`,
			FORWARD_CONCURRENCY: '4',
			RETRY_SCHEDULE: '50ms',
		};
		let hookcord: RunningHookcord = await startHookcord(env, dir.path);
		t.after(() => hookcord.kill('SIGKILL'));
		const posted: { username: string; id: string }[] = [];
		for (let round = 0; round < 3; round++)
			for (let account = 0; account < 6; account++) {
				const username = `kill_${account}`;
				posted.push({ username, id: await post(hookcord, username, round) });
			}
		await until(() => panel.requests.length === 4, 'four forwards in flight', { timeoutMs: 10_000 });
		const inFlight = eventsOf(panel);
		await hookcord.kill('SIGKILL');

		hookcord = await startHookcord(env, dir.path);
		// Each callback that was in flight pauses the target in turn; a person decides each (the shell here).
		const decided: string[] = [];
		for (let i = 0; i < inFlight.length; i++) {
			const paused = await until(
				async () => (await forwardsOf(hookcord))[0]?.paused,
				'the pause at a callback that was in flight',
				{ timeoutMs: 10_000 },
			);
			assert.ok(inFlight.includes(paused.event), `paused at ${paused.event}, one of those in flight`);
			assert.match(paused.reason, /being sent when delivery stopped, and may have arrived/);
			const action = i % 2 === 0 ? 'resend' : 'skip';
			const shown = (await forwardsOf(hookcord))[0]?.target as string;
			assert.equal(shown, `${panel.url}/c/mofh`, 'shown as scheme, host and path');
			const cli = await runScript('scripts/forwards.ts', {
				args: [action, shown],
				env: env,
				cwd: dir.path,
			});
			assert.equal(cli.code, 0, cli.stderr + cli.stdout);
			assert.match(cli.stdout, /Recorded/);
			decided.push(`${action}:${paused.event}`);
			await until(
				async () => (await forwardsOf(hookcord))[0]?.paused?.event !== paused.event,
				'the decision carried out',
				{ timeoutMs: 10_000 },
			);
		}
		await until(async () => (await forwardsOf(hookcord))[0]?.waiting === 0, 'the backlog forwarded', {
			timeoutMs: 15_000,
			detail: () => JSON.stringify(eventsOf(panel)),
		});
		const received = eventsOf(panel);
		assert.equal(new Set(posted.map((p) => p.id)).size, posted.length, 'every callback distinct');
		for (const { id } of posted) {
			const decision = decided.find((d) => d.endsWith(`:${id}`));
			const expected = decision?.startsWith('resend') ? 2 : 1;
			assert.equal(
				count(received, id),
				expected,
				`${id} (${decision ?? 'not in flight'}) received ${expected}×`,
			);
		}
		inOrderPerAccount(panel, posted);

		const status = await runScript('scripts/forwards.ts', { args: ['status'], env, cwd: dir.path });
		assert.equal(status.code, 0, status.stderr);
		assert.match(status.stdout, /idle/);
		assert.ok(!status.stdout.includes('k=1'), 'the target’s query is never shown');
	});

	for (const kind of STORE_KINDS.filter((each) => each === 'redis' || each === 'postgres'))
		it(`two instances on ${kind}: one forwarder, each callback once, in order`, async (t) => {
			const reason = unavailable(kind);
			if (reason) return t.skip(reason);
			const dir = scratchDir();
			t.after(() => dir.remove());
			const store = privateStore(kind);
			t.after(() => store.drop());
			const panel = await startPanel(() => ({ status: 200, delayMs: 5 }));
			t.after(() => panel.close());
			const env = {
				STORE_URL: store.url,
				HOOK_SECRET: SECRET,
				MOFH_ALLOWED_IPS: '*',
				MOFH_FORWARD_TO: `${panel.url}/c/mofh`,
				LEADER_LEASE: '2s',
				OUTBOX_SWEEP: '300ms',
			};
			const first = await startHookcord(env, dir.path);
			t.after(() => first.kill('SIGKILL'));
			const second = await startHookcord({ ...env, INSTANCE_ID: 'second' }, dir.path);
			t.after(() => second.kill('SIGKILL'));
			const posted: { username: string; id: string }[] = [];
			for (let round = 0; round < 4; round++)
				for (let account = 0; account < 5; account++) {
					const username = `two_${account}`;
					const via = (round + account) % 2 ? first : second;
					posted.push({ username, id: await post(via, username, round) });
				}
			await until(() => panel.requests.length >= posted.length, 'every callback forwarded', {
				timeoutMs: 20_000,
				detail: () =>
					`${panel.requests.length}/${posted.length}\n${first.stdout().slice(-3000)}\n${second.stdout().slice(-3000)}`,
			});
			await new Promise((resolve) => setTimeout(resolve, 500));
			const received = eventsOf(panel);
			for (const { id } of posted) assert.equal(count(received, id), 1, `${id} once`);
			inOrderPerAccount(panel, posted);
			const states = [...(await forwardsOf(first)), ...(await forwardsOf(second))].map((f) => f.state);
			assert.equal(states.filter((state) => state === 'forwarded by the leader').length, 1, states.join());
		});
});
