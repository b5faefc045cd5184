import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { REST } from '@discordjs/rest';
import type { APIEmbed, APIInteraction, APIInteractionResponse } from 'discord-api-types/v10';
import { account } from '../commands/account.js';
import { INTERRUPTED_ANSWER, recordInterruptedActions } from '../commands/account-actions.js';
import { type ActionResult, type MofhClient, MofhError, type SendOptions } from '../src/clients/mofh.js';
import { actionResult, readAnswer } from '../src/clients/mofh-answer.js';
import { createDispatcher } from '../src/interactions/dispatch.js';
import { AccountIndex } from '../src/state/account-index.js';
import type { Ingest } from '../src/state/ingest.js';
import { KeyedLock } from '../src/state/keyed-lock.js';
import { openStore, type Store } from '../src/store/store.js';
import { ManualClock } from './clock.js';
import { deliveryHarness, silent } from './helpers.js';
import { idle, until } from './poll.js';
import { deferrer, STORE_KINDS, storeFor } from './stores.js';

/**
 * What a confirmed action records when MOFH gives no answer: a POST that timed out may have happened
 * (outcome "unknown"), one that failed before MOFH answered did not ("not sent"). Driven through the
 * dispatcher with a scripted MOFH client, since the real timeouts are 60 s.
 */

const GUILD = '100000000000000009';
const MEMBER = {
	id: '123456789012345678',
	username: 'oncall',
	global_name: null,
	discriminator: '0',
	avatar: null,
};

type Mofh = Pick<MofhClient, 'configured' | 'missing' | 'getUserDomains' | 'suspend' | 'unsuspend'>;

/** A MOFH client whose suspend and unsuspend run `answer`, counting the calls. */
function scriptedMofh(answer: (send?: SendOptions) => Promise<ActionResult>): Mofh & { calls: number } {
	const mofh = {
		calls: 0,
		configured: true,
		missing: [],
		getUserDomains: async () => [],
		suspend: async (_input: unknown, send?: SendOptions) => {
			mofh.calls++;
			return answer(send);
		},
		unsuspend: async (_key: string, send?: SendOptions) => {
			mofh.calls++;
			return answer(send);
		},
	};
	return mofh;
}

let next = 1_000_000_000_000_000_000n;

/**
 * One hookcord instance's dispatcher over `store`: its own lock, as a separate process would have.
 * `interact` sends an interaction and returns the first answer and the latest edit.
 */
function instance(
	store: Store,
	ingest: Ingest,
	mofh: Mofh,
	lock = new KeyedLock(),
	now: () => number = Date.now,
) {
	const command = account({ store, accounts: new AccountIndex(), mofh, ingest, lock, now });
	const edits: Record<string, unknown>[] = [];
	const rest = {
		patch: async (_route: string, { body }: { body: Record<string, unknown> }) => edits.push(body),
	};
	const dispatch = createDispatcher(
		[command],
		{ staff: { guildIds: [GUILD], staffRoleIds: [] }, log: silent },
		rest as unknown as REST,
	);
	return async (type: number, data: Record<string, unknown>) => {
		const initial: APIInteractionResponse[] = [];
		next++;
		const interaction = {
			id: String(next),
			application_id: '200000000000000001',
			token: `token-${next}`,
			type,
			version: 1,
			guild_id: GUILD,
			channel_id: '300000000000000001',
			member: {
				user: MEMBER,
				roles: [],
				permissions: '32',
				joined_at: '2026-01-01T00:00:00.000Z',
				deaf: false,
				mute: false,
			},
			data,
		} as unknown as APIInteraction;
		await dispatch(interaction, async (response) => {
			initial.push(response);
		});
		return { initial: initial[0], edit: edits.at(-1) };
	};
}

const SUSPEND = {
	name: 'account',
	options: [
		{
			type: 1,
			name: 'suspend',
			options: [
				{ type: 3, name: 'key', value: 'abcd1234' },
				{ type: 3, name: 'reason', value: 'phishing kit' },
				{ type: 3, name: 'user', value: 'host_12345678' },
			],
		},
	],
};

type Interact = ReturnType<typeof instance>;

async function confirmButton(interact: Interact): Promise<string> {
	const asked = await interact(2, SUSPEND);
	const rows = asked.edit?.components as { components: { custom_id: string }[] }[];
	return rows[0]?.components[0]?.custom_id as string;
}

async function setup(t: TestContext, failure: MofhError) {
	const store = await openStore('memory://');
	const harness = await deliveryHarness(store);
	await harness.worker.start();
	t.after(() => harness.worker.stop());
	const mofh = scriptedMofh(() => Promise.reject(failure));
	return { harness, interact: instance(store, harness.ingest, mofh), calls: () => mofh.calls };
}

async function suspendAndConfirm(t: TestContext, failure: MofhError) {
	const env = await setup(t, failure);
	const confirm = await confirmButton(env.interact);
	const done = await env.interact(3, { custom_id: confirm, component_type: 2 });
	assert.equal(done.initial?.type, 6);
	await idle(env.harness.worker);
	return { ...env, confirm, result: done.edit?.embeds as APIEmbed[] };
}

describe('a confirmed action without an answer from MOFH', () => {
	it('a timed-out suspend is recorded as outcome unknown, and a second click does not call MOFH again', async (t) => {
		const { result, harness, interact, confirm, calls } = await suspendAndConfirm(
			t,
			new MofhError(
				'MOFH did not answer suspendacct within 60 s: it may still have done it, check before trying again',
				'timeout',
			),
		);
		assert.equal(result[0]?.title, 'No answer from MOFH: the suspension may or may not have happened');
		assert.match(result[0]?.description ?? '', /may still have done it/);
		const audit = harness.sent
			.flatMap((message) => message.embeds)
			.find((embed) => /from Discord/.test(embed.title ?? ''));
		assert.equal(audit?.title, 'Suspend from Discord: no answer from MOFH, outcome unknown');
		assert.match(audit?.description ?? '', /`abcd1234` \(`host_12345678`, given by `oncall`, unverified\)/);
		const again = await interact(3, { custom_id: confirm, component_type: 2 });
		assert.equal(again.initial?.type, 4);
		assert.match(
			String((again.initial as { data?: { content?: string } }).data?.content),
			/Already handled: .*unknown/,
		);
		assert.equal(calls(), 1);
	});

	it('a call refused before MOFH acted (credentials) is recorded as not sent', async (t) => {
		const { result, harness } = await suspendAndConfirm(
			t,
			new MofhError('MOFH refused the API access (…): check MOFH_API_USERNAME and MOFH_API_PASSWORD', 'auth'),
		);
		assert.equal(result[0]?.title, 'The suspension was not sent');
		assert.match(result[0]?.description ?? '', /check MOFH_API_USERNAME and MOFH_API_PASSWORD/);
		const audit = harness.sent
			.flatMap((message) => message.embeds)
			.find((embed) => /from Discord/.test(embed.title ?? ''));
		assert.equal(audit?.title, 'Suspend from Discord: not sent');
	});
});

describe('a confirmation cut off by a crash', () => {
	it('is reported as interrupted with an unknown outcome, not as still running, and MOFH is not asked again', async (t) => {
		const store = await openStore('memory://');
		const harness = await deliveryHarness(store);
		const mofh = scriptedMofh(async () => ({ outcome: 'done', message: 'ok' }));
		const interact = instance(store, harness.ingest, mofh);
		const confirm = await confirmButton(interact);
		t.after(() => store.close());
		// What a process killed while waiting for MOFH leaves behind: the claim, still marked running.
		const confirmationId = confirm.split(':').at(-1);
		await store.seen.set(`action:${confirmationId}`, `running since ${Date.now() - 10 * 60_000}`, 60_000);
		const click = await interact(3, { custom_id: confirm, component_type: 2 });
		assert.match(
			String((click.initial as { data?: { content?: string } }).data?.content),
			/interrupted .* the outcome is unknown/,
		);
		assert.equal(mofh.calls, 0);
	});
});

describe('a confirmed action whose process stopped before its audit event was stored', () => {
	const FOUR_MINUTES_ON = () => Date.now() + 4 * 60_000;
	const audits = (sent: { embeds: APIEmbed[] }[]) =>
		sent.flatMap((m) => m.embeds).filter((e) => /from Discord/.test(e.title ?? ''));

	for (const kind of STORE_KINDS) {
		it(`is recorded by another instance as outcome unknown, once, after the stop (${kind})`, async (t) => {
			const defer = deferrer(t);
			const store = await storeFor(kind, t, defer);
			if (!store) return;
			// The process that carries the action out stops while MOFH is being asked: the request left, and
			// its call never returns.
			const stopped = scriptedMofh(async (send) => {
				await send?.beforeSend?.();
				return new Promise<never>(() => {});
			});
			const dying = await deliveryHarness(store);
			const confirm = await confirmButton(instance(store, dying.ingest, stopped));
			void instance(store, dying.ingest, stopped)(3, { custom_id: confirm, component_type: 2 });
			const deadline = Date.now() + 5_000;
			while (stopped.calls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
			assert.equal(stopped.calls, 1);

			const survivor = await deliveryHarness(store);
			await survivor.worker.start();
			defer(() => survivor.worker.stop());
			const deps = { store, ingest: survivor.ingest };
			assert.equal(
				await recordInterruptedActions(deps, Date.now),
				0,
				'not yet: it may still be waiting for MOFH',
			);
			assert.equal(await recordInterruptedActions(deps, FOUR_MINUTES_ON), 1);
			assert.equal(await recordInterruptedActions(deps, FOUR_MINUTES_ON), 0, 'recorded once');
			await idle(survivor.worker);
			const [audit, ...more] = audits(survivor.sent);
			assert.equal(more.length, 0);
			assert.equal(audit?.title, 'Suspend from Discord: no answer from MOFH, outcome unknown');
			assert.ok(JSON.stringify(audit).includes(INTERRUPTED_ANSWER), JSON.stringify(audit));
			assert.match(JSON.stringify(audit), /oncall/);

			const later = await instance(
				store,
				survivor.ingest,
				stopped,
			)(3, { custom_id: confirm, component_type: 2 });
			assert.match(
				String((later.initial as { data?: { content?: string } }).data?.content),
				/Already handled: suspend of abcd1234 by oncall: unknown/,
			);
			assert.equal(stopped.calls, 1, 'MOFH is not asked again');
		});
	}

	it("is recorded with MOFH's answer when only the store was down at that moment, and nothing is left behind", async (t) => {
		const store = await openStore('memory://');
		t.after(() => store.close());
		const harness = await deliveryHarness(store);
		await harness.worker.start();
		t.after(() => harness.worker.stop());
		let refuse = true;
		const flaky: Ingest = async (parsed, alongside) => {
			if (refuse) throw new Error('the store did not take the event');
			return harness.ingest(parsed, alongside);
		};
		const mofh = scriptedMofh(async () => ({ outcome: 'done', message: 'Suspended in 2 minutes.' }));
		const interact = instance(store, flaky, mofh);
		const confirm = await confirmButton(interact);
		const done = await interact(3, { custom_id: confirm, component_type: 2 });
		assert.match(
			JSON.stringify(done.edit),
			/The audit line could not be stored yet .*records it within a few minutes/,
		);
		const id = confirm.split(':').at(-1);
		refuse = false;
		assert.equal(await recordInterruptedActions({ store, ingest: flaky }, FOUR_MINUTES_ON), 1);
		await idle(harness.worker);
		const [audit] = audits(harness.sent);
		assert.match(JSON.stringify(audit), /Suspended in 2 minutes/);
		assert.equal(await store.actions.get(`pending:${id}`), undefined);
		assert.equal(mofh.calls, 1);
	});

	it('leaves no record behind when the audit event is stored at once', async (t) => {
		const store = await openStore('memory://');
		t.after(() => store.close());
		const harness = await deliveryHarness(store);
		const interact = instance(
			store,
			harness.ingest,
			scriptedMofh(async () => ({ outcome: 'done', message: 'ok' })),
		);
		await interact(3, { custom_id: await confirmButton(interact), component_type: 2 });
		const left: string[] = [];
		for await (const [key] of store.actions.iterator?.(undefined) ?? []) left.push(String(key));
		assert.deepEqual(left, []);
		assert.equal(await recordInterruptedActions({ store, ingest: harness.ingest }, FOUR_MINUTES_ON), 0);
	});
});

describe('one confirmation, clicked on two instances at once', () => {
	for (const kind of STORE_KINDS) {
		it(`calls MOFH once and records one audit event (${kind})`, async (t) => {
			const defer = deferrer(t);
			const store = await storeFor(kind, t, defer);
			if (!store) return;
			const harness = await deliveryHarness(store);
			await harness.worker.start();
			defer(() => harness.worker.stop());
			let release!: () => void;
			const held = new Promise<void>((resolve) => {
				release = resolve;
			});
			const mofh = scriptedMofh(async () => {
				await held;
				return { outcome: 'done', message: 'Completed, this account will be fully suspended in 2 minutes.' };
			});
			// Memory and SQLite belong to one process (their claim relies on its lock); Redis and
			// PostgreSQL are shared, so there each instance has its own lock and the claim is atomic.
			const shared = kind === 'memory' || kind === 'sqlite' ? new KeyedLock() : undefined;
			const first = instance(store, harness.ingest, mofh, shared);
			const second = instance(store, harness.ingest, mofh, shared);
			const confirm = await confirmButton(first);
			const click = { custom_id: confirm, component_type: 2 };
			const both = Promise.all([first(3, click), second(3, click)]);
			const deadline = Date.now() + 5_000;
			while (mofh.calls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
			release();
			const answers = await both;
			assert.equal(mofh.calls, 1);
			assert.deepEqual(answers.map((a) => a.initial?.type).sort(), [4, 6]);
			await idle(harness.worker);
			const audits = harness.sent.flatMap((m) => m.embeds).filter((e) => /from Discord/.test(e.title ?? ''));
			assert.equal(audits.length, 1);
			const later = await second(3, click);
			assert.match(
				String((later.initial as { data?: { content?: string } }).data?.content),
				/Already handled: suspend of abcd1234 by oncall: done/,
			);
		});
	}
});

/** The audit lines a harness delivered. */
const auditLines = (sent: { embeds: APIEmbed[] }[]) =>
	sent.flatMap((message) => message.embeds).filter((embed) => /from Discord/.test(embed.title ?? ''));

/** A MOFH whose request waits for `leave()` to get a connection, and whose answer waits for `answer()`. */
function gatedMofh(
	result: ActionResult = { outcome: 'done', message: 'Completed, suspended in 2 minutes.' },
) {
	let leave!: () => void;
	let answer!: () => void;
	const slot = new Promise<void>((resolve) => {
		leave = resolve;
	});
	const answered = new Promise<void>((resolve) => {
		answer = resolve;
	});
	let sent = 0;
	const mofh = scriptedMofh(async (send) => {
		// As the client does: cancelled while waiting, nothing sent; else beforeSend, then the request.
		await Promise.race([
			slot,
			new Promise((resolve) => send?.signal?.addEventListener('abort', resolve, { once: true })),
		]);
		if (send?.signal?.aborted)
			throw new MofhError('suspendacct was cancelled before it was sent', 'cancelled');
		await send?.beforeSend?.();
		sent++;
		await answered;
		return result;
	});
	return { mofh, leave, answer, sent: () => sent };
}

async function actionSetup(t: TestContext, mofh: Mofh, clock = new ManualClock(Date.now())) {
	const store = await openStore('memory://');
	t.after(() => store.close());
	const harness = await deliveryHarness(store);
	await harness.worker.start();
	t.after(() => harness.worker.stop());
	const interact = instance(store, harness.ingest, mofh, undefined, clock.now);
	const confirm = await confirmButton(interact);
	const id = confirm.split(':').at(-1) as string;
	return { store, harness, interact, confirm, id, clock, deps: { store, ingest: harness.ingest } };
}

describe('a confirmed action that waits for a connection to MOFH', () => {
	it('is not called interrupted before its request left: the clock starts at the send, and one audit line is kept', async (t) => {
		const gate = gatedMofh();
		const { store, harness, interact, confirm, id, clock, deps } = await actionSetup(t, gate.mofh);
		const click = interact(3, { custom_id: confirm, component_type: 2 });
		await until(() => gate.mofh.calls === 1, 'the call to MOFH');
		// 150 s waiting for a connection, then the request leaves; 100 s later MOFH has not answered yet.
		await clock.advance(150_000);
		gate.leave();
		await until(
			async () => ((await store.actions.get(`pending:${id}`)) as { sentAt?: number })?.sentAt,
			'the send',
		);
		await clock.advance(100_000);
		assert.equal(
			await recordInterruptedActions(deps, clock.now),
			0,
			'250 s after the click, 100 s after the send',
		);
		gate.answer();
		await click;
		await idle(harness.worker);
		const lines = auditLines(harness.sent);
		assert.deepEqual(
			lines.map((line) => line.title),
			['Suspend from Discord: done'],
		);
	});

	it("MOFH's real answer supersedes an 'unknown' recorded meanwhile, and the confirmation keeps one audit line", async (t) => {
		const gate = gatedMofh();
		const { harness, interact, confirm, clock, deps } = await actionSetup(t, gate.mofh);
		const click = interact(3, { custom_id: confirm, component_type: 2 });
		gate.leave();
		await until(() => gate.sent() === 1, 'the send');
		// This process stalls past the interrupted clock: another instance records the outcome as unknown.
		await clock.advance(4 * 60_000);
		assert.equal(await recordInterruptedActions(deps, clock.now), 1);
		gate.answer();
		const done = await click;
		assert.match(JSON.stringify(done.edit), /Suspension accepted by MOFH/);
		await idle(harness.worker);
		assert.equal(auditLines(harness.sent).length, 1, 'one audit line per confirmation');
		const again = await interact(3, { custom_id: confirm, component_type: 2 });
		assert.match(
			String((again.initial as { data?: { content?: string } }).data?.content),
			/Already handled: suspend of abcd1234 by oncall: done/,
		);
		assert.equal(gate.mofh.calls, 1);
	});

	it('can be cancelled while it waits: nothing is sent, no audit line, the confirmation says so', async (t) => {
		const gate = gatedMofh();
		const { harness, interact, confirm, id, deps, clock } = await actionSetup(t, gate.mofh);
		const click = interact(3, { custom_id: confirm, component_type: 2 });
		await until(() => gate.mofh.calls === 1, 'the call to MOFH');
		const waitingClick = await interact(3, { custom_id: confirm, component_type: 2 });
		assert.match(
			String((waitingClick.initial as { data?: { content?: string } }).data?.content),
			/waiting for a connection to MOFH: nothing has been sent yet, and Cancel still stops it/,
		);
		const cancel = confirm.replace(/^act:suspend:/, 'act:cancel:');
		const cancelled = await interact(3, { custom_id: cancel, component_type: 2 });
		assert.match(
			String((cancelled.initial as { data?: { content?: string } }).data?.content),
			/Cancelled while it waited for a connection to MOFH: nothing was sent/,
		);
		const confirmation = await click;
		assert.match(JSON.stringify(confirmation.edit), /Cancelled before it was sent: nothing was sent to MOFH/);
		gate.leave();
		assert.equal(gate.sent(), 0);
		await clock.advance(10 * 60_000);
		assert.equal(await recordInterruptedActions(deps, clock.now), 0);
		await idle(harness.worker);
		assert.equal(auditLines(harness.sent).length, 0);
		assert.equal(await deps.store.actions.get(`pending:${id}`), undefined);
	});

	it('one whose process stopped before the request left is recorded as not sent', async (t) => {
		const gate = gatedMofh();
		const { harness, interact, confirm, deps, clock } = await actionSetup(t, gate.mofh);
		void interact(3, { custom_id: confirm, component_type: 2 });
		await until(() => gate.mofh.calls === 1, 'the call to MOFH');
		await clock.advance(4 * 60_000);
		assert.equal(await recordInterruptedActions(deps, clock.now), 1);
		await idle(harness.worker);
		const [line] = auditLines(harness.sent);
		assert.equal(line?.title, 'Suspend from Discord: not sent');
		assert.ok(JSON.stringify(line).includes('nothing was sent'));
	});
});

describe('what a staff action records about the account', () => {
	it("a member's username is shown as theirs and unverified: it binds no key, creates no account, joins no history", async (t) => {
		const { store, harness, interact, confirm } = await actionSetup(
			t,
			scriptedMofh(async () => ({ outcome: 'done', message: 'Completed, suspended in 2 minutes.' })),
		);
		const done = await interact(3, { custom_id: confirm, component_type: 2 });
		assert.match(JSON.stringify(done.edit), /host_12345678` \(given by oncall, unverified\)/);
		await idle(harness.worker);
		const [line] = auditLines(harness.sent);
		assert.match(line?.description ?? '', /`abcd1234` \(`host_12345678`, given by `oncall`, unverified\)/);
		assert.equal(await store.keys.get('abcd1234'), undefined);
		assert.equal(await store.accounts.get('host_12345678'), undefined);
	});

	it("MOFH's documented statement of the account binds the key, but an action alone creates no account", async (t) => {
		const { store, harness, interact, confirm } = await actionSetup(
			t,
			scriptedMofh(
				async () =>
					actionResult(
						readAnswer(
							'<suspendacct><result><status>0</status><statusmsg>This account is not active so can not be suspended  ( vPuser : host_99999999 ,  status : x , reason : RES_CLOSE : spam ) ..</statusmsg></result></suspendacct>',
						),
					) as ActionResult,
			),
		);
		await interact(3, { custom_id: confirm, component_type: 2 });
		await idle(harness.worker);
		assert.equal(await store.keys.get('abcd1234'), 'host_99999999');
		assert.equal(await store.accounts.get('host_99999999'), undefined, 'no callback ever named it');
	});
});

describe('which vPanel user a MOFH answer states', () => {
	it('only the first ( vPuser : … ) of a not-active refusal, never one quoted later or in other text', () => {
		const stated = (body: string) => actionResult(readAnswer(body))?.vpUser;
		const xml = (message: string) =>
			`<suspendacct><result><status>0</status><statusmsg>${message}</statusmsg></result></suspendacct>`;
		assert.equal(
			stated(
				xml(
					'This account is not active so can not be suspended  ( vPuser : host_1 ,  status : x , reason :  ) ..',
				),
			),
			'host_1',
		);
		// An unknown key: MOFH's statement is empty; what follows (a quoted reason) is not MOFH's statement.
		assert.equal(
			stated(
				xml(
					'This account is not active so can not be suspended  ( vPuser :  ,  status :  , reason : vPuser : victim_1 , status : a , reason : x ) .. No account mathcing this username abcd1234 could be found.',
				),
			),
			undefined,
		);
		assert.equal(stated('ERROR : ( vPuser : victim_2 , status : a , reason : x )'), undefined);
	});
});
