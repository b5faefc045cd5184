import type { APIInteraction } from 'discord-api-types/v10';
import {
	ACCOUNT_KEY,
	type ActionResult,
	type MofhClient,
	MofhError,
	type SendOptions,
	VPANEL_USERNAME,
} from '../src/clients/mofh.js';
import { UserFacingError } from '../src/errors.js';
import type { AccountAction, ActionOutcome } from '../src/events/event.js';
import type { ButtonHandler } from '../src/interactions/define-command.js';
import type { Responder } from '../src/interactions/responder.js';
import { renderActionResult, renderConfirmation } from '../src/render/action.js';
import { confirmationRow, parseActionButton } from '../src/render/components.js';
import { inline, line } from '../src/render/markdown.js';
import type { Ingest } from '../src/state/ingest.js';
import type { KeyedLock } from '../src/state/keyed-lock.js';
import type { Store } from '../src/store/store.js';

export interface AccountActionDeps {
	store: Pick<Store, 'keys' | 'actions' | 'seen' | 'claim'>;
	mofh: Pick<MofhClient, 'configured' | 'missing' | 'suspend' | 'unsuspend'>;
	/** The callbacks' ingest: the audit event and its outbox entry are written together. */
	ingest: Ingest;
	lock: KeyedLock;
	/** The process's one clock (service.ts): when a confirmation started, and whether it was cut off. */
	now: () => number;
}

/** A confirmation waits this long for its button: as long as Discord lets the reply be edited. */
const CONFIRMATION_TTL_MS = 15 * 60_000;
/** A confirmed action's outcome is kept this long, so a repeated click answers instead of acting twice. */
const OUTCOME_TTL_MS = 7 * 24 * 3_600_000;

/** What the confirmation button will do, stored under the confirmation's id (the command's interaction id). */
interface Pending {
	action: AccountAction;
	key: string;
	reason?: string;
	linked: boolean;
	userId: string;
	/** The vPanel username hookcord knows for this key: one MOFH confirmed, never a member's word. */
	username?: string;
	/** The vPanel username the member gave: shown as theirs and unverified, never recorded as fact. */
	hint?: { username: string; by: string };
}

/**
 * A confirmed action being carried out, kept (under the same key, for OUTCOME_TTL_MS) from the click
 * until its audit event is stored, and removed in the same commit as that event. One left behind by a
 * process that stopped meanwhile is recorded by `recordInterruptedActions`.
 */
interface Started extends Pending {
	confirmationId: string;
	by: { id: string; name: string };
	/** The click. */
	startedAt: number;
	/**
	 * Set at the click: the request waits for a connection to MOFH and `sentAt` says when it left.
	 * Records written before this field existed have neither, and count from `startedAt`.
	 */
	queued?: true;
	/** When the request left for MOFH: the clock of "interrupted" starts here, not at the click. */
	sentAt?: number;
	/** The member who cancelled while the request waited for a connection (nothing was sent). */
	cancelledBy?: string;
	/** MOFH's outcome and answer, once known, when the audit event could not be stored at that moment. */
	outcome?: ActionOutcome;
	answer?: string;
}

const pendingKey = (confirmationId: string) => `pending:${confirmationId}`;

/**
 * `/account suspend|unsuspend` and their Confirm/Cancel buttons: a confirmation first, then one call to
 * MOFH however often the button is clicked (on one instance or several), then the audit event.
 */
export function accountActions({ store, mofh, ingest, lock, now }: AccountActionDeps) {
	/** Confirmations of this process waiting for a connection to MOFH: a Cancel here stops one at once. */
	const waiting = new Map<string, AbortController>();

	async function ask(
		request: Omit<Pending, 'userId' | 'username' | 'hint'> & { user?: string | undefined },
		{ interaction, respond }: { interaction: APIInteraction; respond: Responder },
	): Promise<void> {
		const key = request.key.trim();
		if (!ACCOUNT_KEY.test(key))
			return respond.reply({
				content:
					'An account key is 1 to 8 letters and digits (chosen when the account was created). It is not the vPanel username (`host_12345678`).',
			});
		const told = request.user?.trim() || undefined;
		if (told && !VPANEL_USERNAME.test(told))
			return respond.reply({ content: 'The `user` option is a vPanel username such as `host_12345678`.' });
		if (request.action === 'suspend' && !request.reason?.trim())
			return respond.reply({ content: 'Give a reason: MOFH refuses a suspension without one.' });
		if (!mofh.configured)
			return respond.reply({
				content: `The MOFH reseller API is not configured: set ${mofh.missing.join(' and ')} (reseller panel ▸ API ▸ Setup WHM API).`,
			});
		await respond.defer(true);
		const remembered = (await store.keys.get(key.toLowerCase())) as string | undefined;
		const member = actor(interaction);
		const pending: Pending = {
			action: request.action,
			key,
			...(request.reason !== undefined && { reason: request.reason.trim() }),
			linked: request.linked,
			userId: member.id,
			...(remembered && { username: remembered }),
			...(told &&
				told.toLowerCase() !== remembered?.toLowerCase() && { hint: { username: told, by: member.name } }),
		};
		await store.actions.set(pendingKey(interaction.id), pending, CONFIRMATION_TTL_MS);
		await respond.reply({
			embeds: [renderConfirmation(pending)],
			components: [
				confirmationRow({
					action: pending.action,
					key,
					linked: pending.linked,
					userId: pending.userId,
					confirmationId: interaction.id,
				}),
			],
		});
	}

	const actionButton: ButtonHandler = {
		pattern: /^act:.{1,96}$/,
		async execute(match, { interaction, respond }) {
			const button = parseActionButton(match[0]);
			if (!button) return respond.reply({ content: 'hookcord does not know this button.' });
			const member = actor(interaction);
			if (member.id !== button.userId)
				return respond.reply({
					content: `Only <@${button.userId}>, who ran the command, can confirm or cancel it.`,
				});
			const claimKey = `action:${button.confirmationId}`;
			// One outcome per confirmation, however often (and wherever) the button is clicked or delivered.
			const running = `${RUNNING}${now()}`;
			const claimed = await lock.run(claimKey, async () => {
				const earlier = await store.claim(claimKey, running, OUTCOME_TTL_MS);
				if (earlier) {
					const record = earlier.startsWith(RUNNING)
						? ((await store.actions.get(pendingKey(button.confirmationId))) as Started | undefined)
						: undefined;
					// Cancel while the Confirm still waits for a connection to MOFH: it stops there, nothing sent.
					const stoppable =
						button.verb === 'cancel' &&
						record?.queued &&
						record.sentAt === undefined &&
						record.key === button.key &&
						record.userId === button.userId;
					if (!stoppable) return { kind: 'repeat' as const, earlier, record };
					await store.actions.set(
						pendingKey(button.confirmationId),
						{ ...record, cancelledBy: member.name },
						OUTCOME_TTL_MS,
					);
					waiting.get(button.confirmationId)?.abort();
					return { kind: 'stopping' as const };
				}
				const pending = (await store.actions.get(pendingKey(button.confirmationId))) as Pending | undefined;
				const matches =
					pending &&
					!('startedAt' in pending) &&
					pending.key === button.key &&
					pending.linked === button.linked &&
					pending.userId === button.userId &&
					(button.verb === 'cancel' || pending.action === button.verb);
				if (!matches) {
					await store.seen.delete(claimKey);
					return { kind: 'missing' as const };
				}
				await store.seen.set(claimKey, running, OUTCOME_TTL_MS);
				if (button.verb === 'cancel') return { kind: 'fresh' as const, pending };
				// Recorded before MOFH is asked: a stop from here on still leaves an audit event (see Started).
				const started: Started = {
					...pending,
					confirmationId: button.confirmationId,
					by: member,
					startedAt: now(),
					queued: true,
				};
				await store.actions.set(pendingKey(button.confirmationId), started, OUTCOME_TTL_MS);
				return { kind: 'fresh' as const, pending: started };
			});
			if (claimed.kind === 'stopping')
				return respond.reply({
					content: `Cancelled while it waited for a connection to MOFH: nothing was sent about key ${inline(button.key)}.`,
				});
			if (claimed.kind === 'repeat')
				return respond.reply({ content: repeatedClick(claimed.earlier, now(), claimed.record) });
			if (claimed.kind === 'missing')
				return respond.reply({
					content: 'This confirmation has expired or does not match its command. Run the command again.',
				});
			const { pending } = claimed;
			try {
				await respond.deferUpdate();
			} catch (error) {
				// Discord refused the acknowledgement (10062 too late, 40060 already answered): nothing has
				// been sent to MOFH, so the confirmation is open again for another click.
				await reopen(button.confirmationId, pending);
				throw new UserFacingError(
					'Discord did not accept this click, so nothing was sent to MOFH; the confirmation is still open: click it again.',
					{ cause: error },
				);
			}
			if (button.verb === 'cancel') {
				await store.seen.set(claimKey, handled({ cancelled: member.name }), OUTCOME_TTL_MS);
				await store.actions.delete(pendingKey(button.confirmationId));
				return respond.reply({
					content: `Cancelled: nothing was sent to MOFH about key ${inline(pending.key)}.`,
					embeds: [],
					components: [],
				});
			}
			await carryOut(pending as Started, respond);
		},
	};

	/** A confirmation whose click came to nothing, open again: its record as the command left it, no claim. */
	async function reopen(confirmationId: string, pending: Pending | Started): Promise<void> {
		const { confirmationId: _id, by: _by, startedAt: _at, queued: _queued, ...open } = pending as Started;
		await store.actions.set(pendingKey(confirmationId), open, CONFIRMATION_TTL_MS);
		await store.seen.delete(`action:${confirmationId}`);
	}

	async function carryOut(pending: Started, respond: Responder): Promise<void> {
		const id = pending.confirmationId;
		const stop = new AbortController();
		waiting.set(id, stop);
		const send: SendOptions = {
			signal: stop.signal,
			// A connection is held: unless a Cancel came first, the request leaves now, and so the clock starts.
			// Under the claim's lock, as a Cancel is: in this process, one of them sees the other's mark.
			beforeSend: () =>
				lock.run(`action:${id}`, async () => {
					waiting.delete(id);
					const current = (await store.actions.get(pendingKey(id))) as Started | undefined;
					if (current?.cancelledBy) throw new MofhError('cancelled while it waited', 'cancelled');
					const sentAt = now();
					await store.actions.set(pendingKey(id), { ...pending, sentAt }, OUTCOME_TTL_MS);
					await store.seen.set(`action:${id}`, `${RUNNING}${sentAt}`, OUTCOME_TTL_MS);
					pending.sentAt = sentAt;
				}),
		};
		let result: ActionResult | undefined;
		let failure: unknown;
		try {
			result =
				pending.action === 'suspend'
					? await mofh.suspend(
							{ key: pending.key, reason: pending.reason ?? '', linked: pending.linked },
							send,
						)
					: await mofh.unsuspend(pending.key, send);
		} catch (error) {
			failure = error;
		} finally {
			waiting.delete(id);
		}
		if (failure instanceof MofhError && failure.kind === 'cancelled' && pending.sentAt === undefined) {
			const current = (await store.actions.get(pendingKey(id))) as Started | undefined;
			if (stop.signal.aborted || current?.cancelledBy) {
				await store.seen.set(
					`action:${id}`,
					handled({ cancelled: current?.cancelledBy ?? pending.by.name }),
					OUTCOME_TTL_MS,
				);
				await store.actions.delete(pendingKey(id));
				return respond.reply({
					content: `Cancelled before it was sent: nothing was sent to MOFH about key ${inline(pending.key)}.`,
					embeds: [],
					components: [],
				});
			}
		}
		const outcome: ActionOutcome =
			result?.outcome ?? (failure instanceof MofhError && failure.kind === 'timeout' ? 'unknown' : 'failed');
		const answer =
			result?.message ??
			(failure instanceof UserFacingError ? failure.message : 'hookcord failed before MOFH answered.');
		// Only what MOFH confirmed (its answer naming the vPanel user, or a binding it confirmed before) is
		// recorded as the key's account; a member's word stays a hint. An unknown key belongs to no account.
		const unknownKey = result?.refusal === 'unknown_key';
		const username = unknownKey ? undefined : (result?.vpUser ?? pending.username);
		const hint =
			unknownKey || !pending.hint || pending.hint.username.toLowerCase() === username?.toLowerCase()
				? undefined
				: pending.hint;
		let auditProblem: string | undefined;
		try {
			await recordAudit({ store, ingest }, { ...pending, username, hint, outcome, answer });
		} catch (error) {
			auditProblem = error instanceof Error ? error.message : String(error);
			// Kept with the outcome, so the audit event is recorded with MOFH's answer once the store is back.
			await store.actions
				.set(
					pendingKey(pending.confirmationId),
					{ ...pending, username, hint, outcome, answer },
					OUTCOME_TTL_MS,
				)
				.catch(() => {});
		}
		await respond.reply({
			content: '',
			embeds: [
				renderActionResult({
					...pending,
					...(username ? { username } : { username: undefined }),
					...(hint ? { hint } : { hint: undefined }),
					outcome,
					answer,
					...(result?.refusal && { refusal: result.refusal }),
					...(auditProblem && { auditProblem }),
				}),
			],
			components: [],
		});
		// Unexpected errors also go to the dispatcher, which logs them and notes it on the message.
		if (failure && !(failure instanceof UserFacingError)) throw failure;
	}

	return { ask, actionButton };
}

type Finished = Started & {
	username?: string | undefined;
	hint?: Pending['hint'] | undefined;
	outcome: ActionOutcome;
	answer: string;
};

/**
 * Stores a carried-out action's audit event (the account's history, its channel) and, in the same commit,
 * removes the action's record; then keeps the outcome for repeated clicks. One audit event per
 * confirmation: the event is a duplicate when one for the same confirmation is stored already (see
 * fingerprint), and an outcome kept already is not recorded again, except that MOFH's real answer
 * supersedes an "unknown" as the confirmation's outcome.
 */
async function recordAudit(
	{ store, ingest }: Pick<AccountActionDeps, 'store' | 'ingest'>,
	action: Finished,
): Promise<void> {
	const key = pendingKey(action.confirmationId);
	const outcome = handled({
		action: action.action,
		key: action.key,
		by: action.by.name,
		outcome: action.outcome,
		answer: action.answer,
	});
	const kept = readHandled((await store.seen.get(`action:${action.confirmationId}`)) ?? '');
	if (kept && 'outcome' in kept) {
		await store.actions.delete(key);
		// Recorded already (its line is posted); MOFH's answer still replaces an "unknown" as its outcome.
		if (kept.outcome === 'unknown' && action.outcome !== 'unknown')
			await store.seen.set(`action:${action.confirmationId}`, outcome, OUTCOME_TTL_MS);
		return;
	}
	const { duplicate } = await ingest(
		{
			provider: 'mofh',
			kind: 'account.action',
			action: action.action,
			key: action.key,
			...(action.username && { username: action.username }),
			...(action.hint && { usernameHint: action.hint.username }),
			...(action.action === 'suspend' && { reason: action.reason ?? '', linked: action.linked }),
			by: action.by,
			outcome: action.outcome,
			answer: action.answer,
			actionId: action.confirmationId,
		},
		[{ collection: 'actions', key, remove: true }],
	);
	if (duplicate) await store.actions.delete(key);
	await store.seen.set(`action:${action.confirmationId}`, outcome, OUTCOME_TTL_MS).catch(() => {});
}

/** The answer recorded for an action whose process stopped while it waited to be sent. */
export const NOT_SENT_ANSWER =
	'hookcord stopped while this waited for a connection to MOFH: nothing was sent. Run the command again if needed.';

/** The answer recorded for an action whose process stopped before MOFH's answer was stored. */
export const INTERRUPTED_ANSWER =
	"hookcord stopped while carrying this out, before MOFH's answer was recorded: check the account in the reseller panel.";

/**
 * Records the audit event of every confirmed action a stopped process left behind (started more than
 * INTERRUPTED_AFTER_MS ago, audit event not stored): with MOFH's answer when it was known, else as outcome
 * unknown. Run periodically by every instance with commands; safe to run on several at once (see
 * recordAudit). Returns how many it recorded.
 */
export async function recordInterruptedActions(
	deps: Pick<AccountActionDeps, 'store' | 'ingest'>,
	now: () => number,
): Promise<number> {
	const { actions } = deps.store;
	if (!actions.iterator) return 0;
	const left: Started[] = [];
	for await (const [, value] of actions.iterator(undefined)) {
		const started = value as Partial<Started> | undefined;
		if (typeof started?.startedAt !== 'number') continue;
		// The clock starts when the request left; one that never left waited at most the client's slot wait.
		const since = started.sentAt ?? started.startedAt;
		if (now() - since > INTERRUPTED_AFTER_MS) left.push(started as Started);
	}
	for (const action of left) {
		const neverSent = action.queued && action.sentAt === undefined && action.outcome === undefined;
		await recordAudit(deps, {
			...action,
			outcome: action.outcome ?? (neverSent ? 'failed' : 'unknown'),
			answer: action.answer ?? (neverSent ? NOT_SENT_ANSWER : INTERRUPTED_ANSWER),
		});
	}
	return left.length;
}

/** Marks a confirmation being carried out, with the time it started. */
const RUNNING = 'running since ';
/** Longer than any MOFH call can take (60 s for a POST): a confirmation still running then was cut off. */
const INTERRUPTED_AFTER_MS = 3 * 60_000;

/**
 * How a confirmation ended, kept under its claim for repeated clicks: the stored fields, never text
 * formatted in advance, so MOFH's words and a member's name are escaped when the answer is rendered.
 */
type Handled =
	| { cancelled: string }
	| { action: AccountAction; key: string; by: string; outcome: ActionOutcome; answer: string };

const handled = (outcome: Handled) => JSON.stringify(outcome);

function readHandled(stored: string): Handled | undefined {
	if (!stored.startsWith('{')) return undefined;
	try {
		const value = JSON.parse(stored) as Partial<Record<string, unknown>>;
		if (typeof value.cancelled === 'string') return { cancelled: value.cancelled };
		const { action, key, by, outcome, answer } = value;
		if ([action, key, by, outcome, answer].every((field) => typeof field === 'string'))
			return value as Handled;
	} catch {
		// not ours: shown as text below
	}
	return undefined;
}

/** The answer to a click on a confirmation that is already being carried out or done. */
function repeatedClick(earlier: string, at: number, record?: Started): string {
	if (!earlier.startsWith(RUNNING)) {
		const done = readHandled(earlier);
		// An outcome an earlier version stored as one sentence is shown as data too.
		if (!done) return `Already handled: ${line(earlier)}`;
		if ('cancelled' in done)
			return `Already handled: cancelled by ${line(done.cancelled)}; nothing was sent to MOFH.`;
		return `Already handled: ${done.action} of ${line(done.key)} by ${line(done.by)}: ${done.outcome} (${inline(done.answer)})`;
	}
	if (record?.queued && record.sentAt === undefined && !record.cancelledBy)
		return 'This is waiting for a connection to MOFH: nothing has been sent yet, and Cancel still stops it.';
	const since = Number(earlier.slice(RUNNING.length));
	if (at - since < INTERRUPTED_AFTER_MS)
		return 'This is being carried out already; the confirmation message shows the result when MOFH answers.';
	return 'This confirmation was interrupted (hookcord stopped while asking MOFH): the outcome is unknown. Check the account in the reseller panel, then run the command again if needed.';
}

/** The member behind an interaction (guild interactions carry `member.user`, others `user`). */
export function actor(interaction: APIInteraction): { id: string; name: string } {
	const user = interaction.member?.user ?? interaction.user;
	if (!user) throw new UserFacingError('Discord did not say who clicked.');
	return { id: user.id, name: user.global_name ?? user.username };
}
