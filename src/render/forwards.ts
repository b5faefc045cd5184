import { TimestampStyles, time } from '@discordjs/formatters';
import type { APIEmbed } from 'discord-api-types/v10';
import type { Provider } from '../events/event.js';
import type { DecisionRecord, Pause } from '../state/forwards.js';
import { PROVIDER_FACTS } from '../vocabulary/providers.js';
import { COLOURS } from './alert.js';
import { fitEmbed } from './limits.js';
import { inline, line } from './markdown.js';

/** A forward target as messages name it: never its whole URL (it may carry a key). */
export interface TargetName {
	provider: Provider;
	key: string;
	/** Scheme, host and path. */
	shown: string;
}

/** What the forwarder tells the OPS topic. */
export type OpsNotice =
	| { kind: 'paused'; target: TargetName; pause: Pause }
	| { kind: 'failing'; target: TargetName; since: number; reason: string }
	| { kind: 'recovered'; target: TargetName; since: number }
	| { kind: 'decided'; target: TargetName; pause: Pause; decision: DecisionRecord };

/** One target in `/forwards status`, `npm run forwards -- status` and `/readyz`. */
export interface TargetStatus {
	/** Scheme, host and path only. */
	target: string;
	key: string;
	provider: Provider;
	state: 'forwarding' | 'idle' | 'retrying' | 'paused';
	waiting: number;
	/** Seconds since the oldest waiting callback arrived. */
	oldestWaitingSeconds?: number;
	paused?: { event: string; reason: string; since: number; account?: string; kind?: string };
	failingSince?: number;
	lastAnswer?: { at: number; text: string };
}

const seconds = (ms: number) => Math.floor(ms / 1000);
const when = (ms: number) =>
	`${time(seconds(ms), TimestampStyles.LongDateShortTime)} (${time(seconds(ms), TimestampStyles.RelativeTime)})`;

/** The callback a pause is about: provider, kind, account, when. */
function callback(pause: Pause): string {
	const { event } = pause;
	const account = event.account ? ` for ${inline(event.account)}` : '';
	return `${PROVIDER_FACTS[event.provider].displayName} ${inline(event.kind)}${account}, received ${when(event.receivedAt)} (event ${inline(event.id)})`;
}

/** Pure: the OPS message for a notice (the buttons are added by whoever posts a paused notice). */
export function renderOpsNotice(notice: OpsNotice): APIEmbed {
	const target = inline(notice.target.shown);
	switch (notice.kind) {
		case 'paused':
			return fitEmbed({
				title: 'Forward target paused',
				color: COLOURS.danger,
				description: [
					`${target} may have acted on a callback, so hookcord stopped forwarding to it there.`,
					`**Callback:** ${callback(notice.pause)}`,
					`**What happened:** ${line(notice.pause.reason)}`,
					'Panels are not idempotent (a second ACTIVATED mails the password again): check the panel, then **Send again** or **Skip** (staff only; also `/forwards status`, `npm run forwards -- resend|skip <target>`).',
				].join('\n'),
				footer: { text: `forward target ${notice.target.key} · pause ${notice.pause.id}` },
			});
		case 'decided':
			return fitEmbed({
				title: notice.decision.decision === 'skip' ? 'Forward skipped' : 'Forward sent again',
				color: COLOURS.neutral,
				description: [
					`${target}: ${notice.decision.decision === 'skip' ? 'skipped' : 'sent again'}, decided by ${line(notice.decision.by)} ${when(notice.decision.at)}.`,
					`**Callback:** ${callback(notice.pause)}`,
					`**Had paused because:** ${line(notice.pause.reason)}`,
				].join('\n'),
				footer: { text: `forward target ${notice.target.key} · pause ${notice.pause.id}` },
			});
		case 'failing':
			return fitEmbed({
				title: 'Forward target failing',
				color: COLOURS.warning,
				description: `${target} has been failing since ${when(notice.since)}; hookcord keeps retrying in order (it cannot have acted on these). Last: ${line(notice.reason)}`,
			});
		case 'recovered':
			return fitEmbed({
				title: 'Forward target recovered',
				color: COLOURS.good,
				description: `${target} answers again (failing since ${when(notice.since)}).`,
			});
	}
}

/** Pure: every target's state, for `/forwards status` and the shell. */
export function renderForwardStatus(targets: readonly TargetStatus[], now: number): APIEmbed {
	if (targets.length === 0)
		return {
			title: 'Forwarding',
			color: COLOURS.neutral,
			description: 'No forward targets: set MOFH_FORWARD_TO, XOLPHIN_FORWARD_TO or WOOXY_FORWARD_TO.',
		};
	const paused = targets.some((target) => target.state === 'paused');
	return fitEmbed({
		title: 'Forwarding',
		color: paused ? COLOURS.danger : COLOURS.info,
		fields: targets.slice(0, 25).map((target) => {
			const lines = [
				`**${target.state}**${target.paused ? ` at event ${inline(target.paused.event)}${target.paused.account ? ` (${inline(target.paused.account)})` : ''}: ${line(target.paused.reason)}` : ''}`,
				`${target.waiting} waiting${target.oldestWaitingSeconds !== undefined ? `, oldest ${duration(target.oldestWaitingSeconds)}` : ''}`,
			];
			if (target.failingSince !== undefined) lines.push(`failing since ${when(target.failingSince)}`);
			if (target.lastAnswer)
				lines.push(
					`last: ${line(target.lastAnswer.text)} ${duration(seconds(now - target.lastAnswer.at))} ago`,
				);
			return {
				name: `${PROVIDER_FACTS[target.provider].displayName} → ${target.target}`.slice(0, 256),
				value: lines.join('\n'),
				inline: false,
			};
		}),
	});
}

function duration(totalSeconds: number): string {
	if (totalSeconds < 60) return `${totalSeconds} s`;
	if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)} min`;
	if (totalSeconds < 86_400)
		return `${Math.floor(totalSeconds / 3600)} h ${Math.floor((totalSeconds % 3600) / 60)} min`;
	return `${Math.floor(totalSeconds / 86_400)} d`;
}
