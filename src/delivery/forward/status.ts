import type { Config } from '../../config.js';
import type { TargetStatus } from '../../render/forwards.js';
import type { Forwards, TargetState } from '../../state/forwards.js';

export type ForwardTarget = Config['forward']['targets'][number];

/** Pure: one target's status from its stored state and backlog (`oldest`: the oldest waiting's receipt). */
export function targetStatus(
	target: ForwardTarget,
	state: TargetState,
	backlog: { waiting: number; oldest?: number; sending?: boolean },
	now: number,
): TargetStatus {
	const { paused, failingSince, lastAnswer } = state;
	return {
		target: target.shown,
		key: target.key,
		provider: target.provider,
		state: paused
			? 'paused'
			: failingSince !== undefined
				? 'retrying'
				: backlog.waiting > 0 || backlog.sending
					? 'forwarding'
					: 'idle',
		waiting: backlog.waiting,
		...(backlog.oldest !== undefined &&
			backlog.waiting > 0 && {
				oldestWaitingSeconds: Math.max(0, Math.round((now - backlog.oldest) / 1000)),
			}),
		...(paused && {
			paused: {
				event: paused.eventId,
				reason: paused.reason,
				since: paused.at,
				kind: paused.event.kind,
				...(paused.event.account && { account: paused.event.account }),
			},
		}),
		...(failingSince !== undefined && { failingSince }),
		...(lastAnswer && { lastAnswer }),
	};
}

/**
 * Every target's status as the store has it: what `/forwards status` and `npm run forwards -- status`
 * show on any instance, leader or not, and from a shell while hookcord runs.
 */
export async function readForwardStatus(
	forwards: Forwards,
	targets: readonly ForwardTarget[],
	now: number,
): Promise<TargetStatus[]> {
	return Promise.all(
		targets.map(async (target) =>
			targetStatus(target, await forwards.state(target.key), await forwards.count(target.key), now),
		),
	);
}

/**
 * A target named by an operator: its key, or its scheme, host and path (optionally `provider:` first when
 * one URL serves two providers). Undefined when none or several match.
 */
export function findTarget(
	targets: readonly ForwardTarget[],
	name: string,
): { target?: ForwardTarget; matches: number } {
	const wanted = name.trim();
	const [, provider, rest] = /^(mofh|xolphin|wooxy):(.*)$/i.exec(wanted) ?? [];
	const matches = targets.filter(
		(target) =>
			target.key === wanted ||
			target.shown === wanted ||
			(provider !== undefined && target.provider === provider.toLowerCase() && target.shown === rest),
	);
	return matches.length === 1 ? { target: matches[0], matches: 1 } : { matches: matches.length };
}
