import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { targetStatus } from '../delivery/forward/status.js';
import type { TargetHealth } from '../delivery/kinds/forward.js';
import type { WorkerStatus } from '../delivery/worker.js';
import { shortHash } from '../events/id.js';
import { forwardDecisionRow } from '../render/components.js';
import { type OpsNotice, renderOpsNotice, type TargetStatus } from '../render/forwards.js';
import {
	createForwards,
	type Decision,
	forwardDestination,
	forwardedEvent,
	type Pause,
	type TargetState,
} from '../state/forwards.js';
import { type OutboxEntry, outboxKey } from '../state/outbox.js';
import type { Store } from '../store/store.js';
import { every, type Job } from './job.js';

export interface ForwardWatchDeps {
	config: Config;
	store: Store;
	worker: {
		status(): WorkerStatus;
		release(destination: string, decision: Decision): Promise<boolean>;
	};
	/** What the forward kind saw of each target's last attempts, by destination key. */
	health: ReadonlyMap<string, TargetHealth>;
	/** Posts to the OPS topic (none when it is `off`). */
	postOps(message: OpsMessage): Promise<void>;
	now: () => number;
	log: FastifyBaseLogger;
	/** Whether this instance forwards now (it leads delivery). */
	leading: () => boolean;
	everyMs?: number;
	/** How long a target fails before the OPS topic hears of it. */
	failingAfterMs?: number;
	/** How often the backlog of each target is counted in the store (key walks). */
	countEveryMs?: number;
}

export interface OpsMessage {
	content: string;
	embeds: ReturnType<typeof renderOpsNotice>[];
	nonce: string;
	/** Send again and Skip, for a destination that can carry buttons (a bot channel). */
	buttons?: ReturnType<typeof forwardDecisionRow>;
}

/**
 * The forwarding leader's look at its targets every couple of seconds: a target the worker holds is
 * told to the OPS topic once (again if the post failed); a decision recorded for that hold (a button,
 * the shell, another instance) is carried out once, through the worker; a target failing for 5 minutes,
 * and its recovery, are told; and each target's state is kept in the store for `/forwards status` and
 * `npm run forwards` on any instance. The snapshot it leaves is `/readyz`'s `forwards`.
 */
export function createForwardWatch(deps: ForwardWatchDeps): {
	job: Job;
	snapshot(): TargetStatus[] | undefined;
} {
	const { config, store, worker, health, now, log } = deps;
	const { failingAfterMs = 300_000, countEveryMs = 10_000 } = deps;
	const forwards = createForwards(store);
	const states = new Map<string, TargetState>();
	const counts = new Map<string, { waiting: number; oldest?: number }>();
	let countedAt = Number.NEGATIVE_INFINITY;

	async function tell(notice: OpsNotice): Promise<boolean> {
		const embed = renderOpsNotice(notice);
		const id = notice.kind === 'paused' || notice.kind === 'decided' ? notice.pause.id : String(notice.since);
		try {
			await deps.postOps({
				content: embed.title ?? '',
				embeds: [embed],
				nonce: shortHash(`ops:${notice.kind}:${notice.target.key}:${id}`),
				...(notice.kind === 'paused' && { buttons: forwardDecisionRow(notice.target.key, notice.pause.id) }),
			});
			return true;
		} catch (error) {
			log.error(
				{ err: error, target: notice.target.shown },
				`could not post to the OPS topic (${notice.kind})`,
			);
			return false;
		}
	}

	/** The pause the worker's hold of this target stands for (the same id however often it is read). */
	async function pauseOf(
		held: NonNullable<WorkerStatus['held']>[number],
		destination: string,
	): Promise<Pause> {
		const eventId = held.ids[0] ?? '';
		const entry = (await store.outbox.get(outboxKey(destination, eventId))) as OutboxEntry | undefined;
		return {
			id: `${eventId}-${held.at.toString(36)}`,
			eventId,
			at: held.at,
			reason: held.reason,
			event: entry
				? forwardedEvent(entry.event)
				: { id: eventId, provider: 'mofh', kind: 'unrecognized', receivedAt: held.at },
		};
	}

	async function look(target: Config['forward']['targets'][number], status: WorkerStatus): Promise<void> {
		const destination = forwardDestination(target.key);
		const before = states.get(target.key) ?? (await forwards.state(target.key));
		const state: TargetState = { ...before };
		const held = status.held?.find((each) => each.destination === destination);
		if (held) {
			const pause = await pauseOf(held, destination);
			if (state.paused?.id !== pause.id) {
				state.paused = pause;
				log.error(
					{ target: target.shown, event: pause.eventId, account: pause.event.account },
					`forward target paused: ${pause.reason}; it may have acted on this callback, so staff decide (Send again or Skip)`,
				);
			}
			const paused = state.paused as Pause;
			if (!paused.told) paused.told = await tell({ kind: 'paused', target, pause: paused });
			const decision = await forwards.decision(target.key, paused.id);
			if (decision && (await worker.release(destination, decision.decision))) {
				const carriedOutAt = now();
				state.decided = [
					...(state.decided ?? []),
					{ ...decision, eventId: paused.eventId, carriedOutAt },
				].slice(-10);
				delete state.paused;
				log.warn(
					{ target: target.shown, event: paused.eventId, by: decision.by },
					decision.decision === 'skip'
						? `forward skipped by ${decision.by}: the target does not get this callback from hookcord (kept in the failed deliveries)`
						: `forward sent again by decision of ${decision.by}`,
				);
				await tell({ kind: 'decided', target, pause: paused, decision });
			}
		} else delete state.paused;

		const seen = health.get(destination);
		if (seen?.lastAnswer) state.lastAnswer = seen.lastAnswer;
		if (seen?.failingSince !== undefined) {
			state.failingSince = seen.failingSince;
			if (!state.failingTold && !state.paused && now() - seen.failingSince >= failingAfterMs)
				state.failingTold = await tell({
					kind: 'failing',
					target,
					since: seen.failingSince,
					reason: seen.lastAnswer?.text ?? 'failing',
				});
		} else if (seen && state.failingSince !== undefined) {
			const since = state.failingSince;
			const told = state.failingTold;
			delete state.failingSince;
			delete state.failingTold;
			if (told) await tell({ kind: 'recovered', target, since });
		}
		if (JSON.stringify(state) !== JSON.stringify(before)) await forwards.setState(target.key, state);
		states.set(target.key, state);
	}

	const job: Job = {
		name: 'forward watch',
		leaderOnly: true,
		next: every(deps.everyMs ?? 2_000),
		async run(signal) {
			const status = worker.status();
			const recount = now() - countedAt >= countEveryMs;
			for (const target of config.forward.targets) {
				if (signal.aborted) return;
				await look(target, status);
				if (recount) counts.set(target.key, await forwards.count(target.key));
			}
			if (recount) countedAt = now();
		},
	};
	return {
		job,
		snapshot: () =>
			deps.leading()
				? config.forward.targets.map((target) =>
						targetStatus(
							target,
							states.get(target.key) ?? {},
							counts.get(target.key) ?? { waiting: 0 },
							now(),
						),
					)
				: undefined,
	};
}
