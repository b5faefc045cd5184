import type { APIEmbed } from 'discord-api-types/v10';
import { change, type Summary } from '../stats/summary.js';
import { COLOURS } from './alert.js';
import { fitEmbed } from './limits.js';

/** hookcord's own state, for the periodic report: what an operator would page on. */
export interface Health {
	/** Alerts waiting in the outbox. */
	backlog: number;
	oldestAgeSeconds: number;
	deadLetters: number;
	/** Destinations and forward targets paused, as shown elsewhere (never a secret). */
	paused: string[];
	/** Why bot delivery stopped, when it did. */
	halted?: string;
	/** Rate limits Discord answered since this instance started, when metrics are on. */
	rateLimited?: number;
}

export interface StatsView {
	/** `Last 7 days` or `Report since Mon 1 Dec 09:00`. */
	title: string;
	timeZone: string;
	/** The attachment's name when a chart goes with the message. */
	chart?: string;
	health?: Health;
}

/** `Dec 1, 09:00`: a time as staff read it, in the report's zone. */
export function shortTime(ms: number, timeZone: string): string {
	return new Intl.DateTimeFormat('en-GB', {
		timeZone,
		day: 'numeric',
		month: 'short',
		hour: '2-digit',
		minute: '2-digit',
		hourCycle: 'h23',
	}).format(ms);
}

function healthProblems(health: Health): string[] {
	const problems: string[] = [];
	if (health.halted) problems.push(`bot delivery halted: ${health.halted}`);
	if (health.deadLetters > 0) problems.push(`${health.deadLetters} dead letter(s)`);
	if (health.paused.length > 0) problems.push(`paused: ${health.paused.join(', ')}`);
	if (health.oldestAgeSeconds > 900) problems.push('alerts waiting longer than 15 minutes');
	return problems;
}

function renderHealth(health: Health): string {
	const age = health.backlog > 0 ? `, oldest ${Math.round(health.oldestAgeSeconds)} s` : '';
	return [
		`Backlog: **${health.backlog}** alert(s)${age}`,
		`Dead letters: **${health.deadLetters}**`,
		`Paused: ${health.paused.length > 0 ? health.paused.join(', ') : 'none'}`,
		...(health.halted ? [`Bot delivery halted: ${health.halted}`] : []),
		...(health.rateLimited !== undefined
			? [`Discord rate limits (this instance): **${health.rateLimited}**`]
			: []),
	].join('\n');
}

/**
 * /stats and the report as one embed that reads on its own: every count of the period with its change
 * against the period before, worst first; the top suspension reasons with what they mean; hookcord's
 * health for the report; the chart below when attached. "All quiet" when nothing happened.
 */
export function renderStats(summary: Summary, view: StatsView): APIEmbed {
	const span = `${shortTime(summary.from, view.timeZone)} – ${shortTime(summary.to, view.timeZone)} (${view.timeZone})`;
	const problems = view.health ? healthProblems(view.health) : [];
	const quiet = summary.total === 0;
	const lines = summary.lines
		.filter((line) => line.count > 0 || line.previous > 0)
		.map(
			(line) =>
				`${line.problem && line.count > 0 ? '⚠️ ' : ''}**${line.count}** ${line.label} · ${change(line.count, line.previous)}`,
		);
	const description = quiet
		? `All quiet: no events in this period${problems.length === 0 && view.health ? ', and hookcord is healthy' : ''}.`
		: [
				`**${summary.total}** events · ${change(summary.total, summary.previousTotal)} against the period before`,
				'',
				...lines,
			].join('\n');
	const fields = [];
	if (summary.reasons.length > 0)
		fields.push({
			name: 'Top suspension reasons',
			value: summary.reasons
				.map(
					(reason) =>
						`\`${reason.code}\` ×${reason.count} (${change(reason.count, reason.previous)}): ${reason.meaning}`,
				)
				.join('\n'),
		});
	if (view.health)
		fields.push({
			name: problems.length > 0 ? '⚠️ hookcord health' : 'hookcord health',
			value: renderHealth(view.health),
		});
	const worrying =
		problems.length > 0 || summary.lines.some((line) => line.problem && line.count > line.previous);
	return fitEmbed({
		title: `${view.title} · ${span}`,
		description,
		color: quiet && problems.length === 0 ? COLOURS.good : worrying ? COLOURS.warning : COLOURS.info,
		...(fields.length > 0 && { fields }),
		...(view.chart && !quiet && { image: { url: `attachment://${view.chart}` } }),
		footer: {
			text: 'hookcord · counted per hour as events are stored; compared with the period of the same length before',
		},
	});
}
