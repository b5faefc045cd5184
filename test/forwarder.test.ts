import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { composeServices } from '../src/service.js';
import { createForwards, forwardDestination } from '../src/state/forwards.js';
import { createOutbox, type OutboxEntry, outboxKey } from '../src/state/outbox.js';
import type { Store } from '../src/store/store.js';
import { type PanelAnswer, type PanelDouble, startPanel } from './doubles/panel.js';
import { form, SECRET, type Sent, silent, testConfig } from './helpers.js';
import { until } from './poll.js';

const OPS_CHANNEL = '300000000000000001';

interface ForwardStatus {
	target: string;
	state: string;
	waiting: number;
	paused?: { event: string; reason: string };
}

/** The receiver, worker and forwarder of one process, its Discord side recorded in `sent`. */
async function forwardingProcess(
	t: TestContext,
	env: Record<string, string>,
	{ store, pageSize }: { store?: Store; pageSize?: number } = {},
) {
	const config = testConfig({
		DISCORD_TOKEN: 'test-token',
		ALERTS_CHANNEL: '300000000000000002',
		ALERTS_CHANNEL_OPS: OPS_CHANNEL,
		...env,
	});
	const sent: Sent[] = [];
	const services = await composeServices(config, {
		logger: silent,
		gateway: false,
		lease: false,
		delivery: { rate: { messages: 1_000, perMs: 1_000 }, sweepMs: 200, ...(pageSize && { pageSize }) },
		send: async (destination, message) => {
			sent.push({ destination, message });
		},
		forward: { everyMs: 20, countEveryMs: 0 },
		...(store && { store }),
	});
	await services.worker.start();
	t.after(() => services.close());
	const status = async () => {
		const res = await services.app.inject({ method: 'GET', url: '/readyz' });
		return (res.json() as { forwards: ForwardStatus[] }).forwards;
	};
	// The leader's look runs every 20 ms: the status it leaves is at most that old.
	const forwarding = { status: () => latest };
	let latest: ForwardStatus[] | undefined;
	const poll = setInterval(() => {
		void status().then(
			(value) => {
				latest = value;
			},
			() => {},
		);
	}, 10);
	t.after(() => clearInterval(poll));
	const post = async (fields: Record<string, string>, query = '') => {
		const res = await services.app.inject({
			method: 'POST',
			url: `/hooks/mofh/${SECRET}${query}`,
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			payload: form(fields),
		});
		assert.equal(res.statusCode, 200, res.body);
		return res.json().id as string;
	};
	const ops = () => sent.filter((item) => item.destination.key === `channel:${OPS_CHANNEL}`);
	const target = (index = 0) => config.forward.targets[index] as (typeof config.forward.targets)[number];
	const entry = (id: string, index = 0) =>
		services.store.outbox.get(outboxKey(forwardDestination(target(index).key), id)) as Promise<
			OutboxEntry | undefined
		>;
	return {
		...services,
		config,
		sent,
		post,
		ops,
		target,
		forwarding,
		entry,
		forwards: createForwards(services.store),
	};
}

async function panelFor(t: TestContext, answer?: (index: number, event: string) => PanelAnswer) {
	const panel = await startPanel(
		answer && ((request, index) => answer(index, String(request.headers['x-hookcord-event']))),
	);
	t.after(() => panel.close());
	return panel;
}

const eventsOf = (panel: PanelDouble) =>
	panel.requests.map((request) => String(request.headers['x-hookcord-event']));
const _usernameOf = (panel: PanelDouble, index: number) =>
	new URLSearchParams(panel.requests[index]?.body.toString()).get('username');

/** Callbacks for `accounts` accounts, `each` apiece, interleaved as they would arrive. */
async function postMany(
	post: (fields: Record<string, string>) => Promise<string>,
	accounts: number,
	each: number,
) {
	const ids: { username: string; id: string }[] = [];
	const statuses = ['ACTIVATED', 'SUSPENDED', 'REACTIVATE', 'DELETE'];
	for (let round = 0; round < each; round++)
		for (let account = 0; account < accounts; account++) {
			const username = `acct_${account}`;
			const status = statuses[round % statuses.length] as string;
			ids.push({ username, id: await post({ username, status, comments: `round ${round}` }) });
		}
	return ids;
}

describe('forwarding: order, concurrency, retries', () => {
	it('each account’s callbacks in stored order, each delivered once, under retries (503, reset before sending)', async (t) => {
		let refusals = 0;
		const panel = await panelFor(t, (index) => {
			// The first five requests are refused where the panel cannot have acted.
			if (index < 5) {
				refusals++;
				return { status: index % 2 ? 503 : 502 };
			}
			return { status: 200, delayMs: 5 };
		});
		const app = await forwardingProcess(t, {
			MOFH_FORWARD_TO: `${panel.url}/c/mofh`,
			FORWARD_CONCURRENCY: '4',
		});
		const posted = await postMany(app.post, 5, 4);
		await until(
			() => app.forwarding.status()?.[0]?.waiting === 0 && panel.requests.length === 25,
			'all forwarded',
			{
				timeoutMs: 10_000,
				detail: () => JSON.stringify(app.forwarding.status()),
			},
		);
		assert.equal(refusals, 5);
		const delivered = panel.requests.slice(5).map((request) => String(request.headers['x-hookcord-event']));
		assert.deepEqual([...delivered].sort(), posted.map((p) => p.id).sort(), 'every callback delivered once');
		for (let account = 0; account < 5; account++) {
			const mine = posted.filter((p) => p.username === `acct_${account}`).map((p) => p.id);
			const arrived = eventsOf(panel).filter((id, index) => mine.includes(id) && index >= 0);
			// Retried ones arrive again later; the order of first deliveries after retries is stored order.
			const lastSeen = mine.map((id) => arrived.lastIndexOf(id));
			assert.deepEqual(
				lastSeen,
				[...lastSeen].sort((a, b) => a - b),
				`acct_${account} in order`,
			);
		}
		assert.ok(panel.maxInFlight <= 4);
		assert.equal(app.ops().length, 0, 'retries alone post nothing to OPS');
	});

	it('FORWARD_CONCURRENCY=1: strictly one at a time, in stored order', async (t) => {
		const panel = await panelFor(t, () => ({ status: 200, delayMs: 10 }));
		const app = await forwardingProcess(t, { MOFH_FORWARD_TO: `${panel.url}/c`, FORWARD_CONCURRENCY: '1' });
		const posted = await postMany(app.post, 4, 3);
		await until(() => panel.requests.length === 12, 'all forwarded', { timeoutMs: 10_000 });
		assert.deepEqual(
			eventsOf(panel),
			posted.map((p) => p.id),
		);
		assert.equal(panel.maxInFlight, 1);
	});

	it('different accounts in parallel, up to FORWARD_CONCURRENCY; memory holds a page of them', async (t) => {
		const panel = await panelFor(t, () => ({ status: 200, delayMs: 60 }));
		const app = await forwardingProcess(
			t,
			{ MOFH_FORWARD_TO: `${panel.url}/c`, FORWARD_CONCURRENCY: '3' },
			{ pageSize: 4 },
		);
		const posted = await postMany(app.post, 6, 2);
		await until(() => panel.requests.length === 12, 'all forwarded', { timeoutMs: 10_000 });
		assert.equal(panel.maxInFlight, 3);
		assert.deepEqual([...eventsOf(panel)].sort(), posted.map((p) => p.id).sort());
		for (let account = 0; account < 6; account++) {
			const mine = posted.filter((p) => p.username === `acct_${account}`).map((p) => p.id);
			assert.deepEqual(
				eventsOf(panel).filter((id) => mine.includes(id)),
				mine,
			);
		}
	});

	it('429 waits at least its Retry-After', async (t) => {
		const panel = await panelFor(t, (index) =>
			index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 },
		);
		const app = await forwardingProcess(t, { MOFH_FORWARD_TO: `${panel.url}/c` });
		await app.post({ username: 'acct_1', status: 'ACTIVATED' });
		await until(() => panel.requests.length === 2, 'the retry', { timeoutMs: 5_000 });
		const [first, second] = panel.requests as [PanelDouble['requests'][0], PanelDouble['requests'][0]];
		assert.ok(second.at - first.at >= 950, `${second.at - first.at} ms`);
	});

	it('a connection reset before the request was written is retried, not paused', async (t) => {
		const panel = await panelFor(t);
		panel.resetOnConnect = true;
		const app = await forwardingProcess(t, { MOFH_FORWARD_TO: `${panel.url}/c` });
		const id = await app.post({ username: 'acct_1', status: 'ACTIVATED' });
		await until(async () => ((await app.entry(id))?.attempts ?? 0) >= 2, 'two refused attempts');
		panel.resetOnConnect = false;
		await until(() => panel.requests.length === 1, 'the delivery', { timeoutMs: 5_000 });
		assert.equal(app.forwarding.status()?.[0]?.state === 'paused', false);
	});
});

describe('forwarding: what may have been acted on pauses the target until staff decide', () => {
	const cases: [string, PanelAnswer, Record<string, string>, RegExp][] = [
		['a 500', { status: 500 }, {}, /^answered 500$/],
		[
			'a redirect',
			{ status: 301, headers: { location: 'https://panel.example/c/mofh?k=x' } },
			{},
			/a redirect to https:\/\/panel\.example\/c\/mofh \(not followed\)/,
		],
		['no answer in time', 'hang', { FORWARD_TIMEOUT: '300ms' }, /no answer within 300 ms/],
		['a cut connection', 'cut', {}, /cut after the request was sent/],
	];
	for (const [what, answer, env, reason] of cases)
		for (const decision of ['resend', 'skip'] as const)
			it(`${what}, then ${decision === 'resend' ? 'Send again' : 'Skip'}`, async (t) => {
				let failed = false;
				const panel = await panelFor(t, () => {
					if (failed) return { status: 200 };
					failed = true;
					return answer;
				});
				const second = await panelFor(t);
				const app = await forwardingProcess(t, {
					MOFH_FORWARD_TO: `${panel.url}/c/mofh,${second.url}/other`,
					...env,
				});
				const first = await app.post({ username: 'acct_a', status: 'ACTIVATED' });
				const paused = await until(() => app.forwarding.status()?.[0]?.paused, 'the pause', {
					timeoutMs: 5_000,
					detail: () => JSON.stringify(app.forwarding.status()),
				});
				const later = await app.post({ username: 'acct_b', status: 'ACTIVATED' });
				assert.equal(paused.event, first);
				assert.match(paused.reason, reason);
				// Paused at that callback: nothing after it is sent; the other target and Discord are not held up.
				await until(() => second.requests.length === 2, 'the other target');
				await until(
					() => app.sent.filter((item) => item.destination.key !== `channel:${OPS_CHANNEL}`).length === 2,
					'the alerts',
				);
				assert.equal(panel.requests.length, 1);
				const [ask] = app.ops();
				assert.ok(ask, 'the OPS topic is asked');
				const text = JSON.stringify(ask.message.embeds);
				assert.match(text, /Forward target paused/);
				assert.match(text, /acct_a/);
				assert.ok(text.includes(panel.url.replace('http://', '')), 'names the target');
				const buttons = ask.message.components?.[0]?.components.map((button) => button.custom_id) ?? [];
				const pauseId = (await app.forwards.state(app.target().key)).paused?.id as string;
				assert.deepEqual(buttons, [
					`fwd:resend:${app.target().key}:${pauseId}`,
					`fwd:skip:${app.target().key}:${pauseId}`,
				]);

				const by = { decision, by: 'staff member (1)', at: Date.now() };
				assert.equal((await app.forwards.decide(app.target().key, pauseId, by)).recorded, true);
				const other = decision === 'resend' ? 'skip' : 'resend';
				const again = await app.forwards.decide(app.target().key, pauseId, { ...by, decision: other });
				assert.deepEqual(again, { recorded: false, decision: by }, 'one decision per pause');
				const expected = decision === 'resend' ? [first, first, later] : [first, later];
				await until(() => panel.requests.length === expected.length, 'the decision carried out', {
					timeoutMs: 5_000,
				});
				assert.deepEqual(eventsOf(panel), expected);
				await until(() => app.forwarding.status()?.[0]?.waiting === 0, 'nothing left');
				const state = await app.forwards.state(app.target().key);
				assert.equal(state.paused, undefined);
				assert.equal(state.decided?.at(-1)?.decision, decision);
				assert.equal(state.decided?.at(-1)?.eventId, first);
				await until(() => app.ops().length === 2, 'the decision told');
				assert.match(
					JSON.stringify(app.ops()[1]?.message.embeds),
					decision === 'resend' ? /sent again/ : /skipped/,
				);
				// Carried out once: nothing more goes out however long it runs, and a skipped callback is
				// not sent again by a replay of the failed deliveries (`/alerts replay all`).
				if (decision === 'skip') {
					const outbox = createOutbox(app.store);
					const listed = (await outbox.listFailed()).filter((failed) => failed.event.id === first);
					assert.equal(listed.length, 1, 'the skipped callback is listed');
					assert.deepEqual(await outbox.replay([first]), [], 'and not replayed');
				}
				await new Promise((resolve) => setTimeout(resolve, 100));
				assert.equal(panel.requests.length, expected.length);
			});

	it('a request left marked as sending (a stop mid-request) pauses at start instead of re-sending', async (t) => {
		const panel = await panelFor(t);
		const config = testConfig({ MOFH_FORWARD_TO: `${panel.url}/c` });
		const key = (config.forward.targets[0] as { key: string }).key;
		const { openStore } = await import('../src/store/store.js');
		const store = await openStore('memory://');
		t.after(() => store.close());
		const destination = forwardDestination(key);
		const id = '00000000000000000001';
		const entry: OutboxEntry = {
			event: { id, provider: 'mofh', kind: 'account.activated', username: 'a', receivedAt: 1 },
			destination,
			request: { method: 'POST', query: '', body: '', address: '127.0.0.1' },
			attempts: 0,
			notBefore: 0,
		};
		// What a process killed mid-request leaves: the entry, and its record marked as on the wire.
		await store.outbox.set(outboxKey(destination, id), entry);
		await store.batches.set(`${destination}/mofh:a`, { ids: [id], since: 5, sending: 5 });
		const app = await forwardingProcess(t, { MOFH_FORWARD_TO: `${panel.url}/c` }, { store });
		const paused = await until(() => app.forwarding.status()?.[0]?.paused, 'the pause');
		assert.match(paused.reason, /being sent when delivery stopped, and may have arrived/);
		await new Promise((resolve) => setTimeout(resolve, 100));
		assert.equal(panel.requests.length, 0, 'not sent again without a person');
		assert.equal(app.ops().length, 1);
	});
});
