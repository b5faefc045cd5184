import type { EventKind } from '../events/event.js';
import type { Counts, HourCounts } from '../state/counts.js';
import { sumCounts } from '../state/counts.js';
import { CATEGORY_LABELS, SUSPENSION_REASONS, suspensionReason } from '../vocabulary/mofh.js';
import { WOOXY_PROBLEM_EVENTS } from '../vocabulary/wooxy.js';

/**
 * What /stats and the periodic report say, from the per-hour counts: pure, so it is tested on a known
 * mix without a store. Lines are worst first: what needs a look (permanent suspensions, bounces,
 * deletions, callbacks hookcord could not read) before what is routine, each against the period before.
 */

export const PERIODS = { '24h': 24 * 3_600_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 } as const;
export type Period = keyof typeof PERIODS;

export interface Line {
	label: string;
	count: number;
	/** The same count in the period before, of the same length. */
	previous: number;
	/** Something staff may need to act on: listed first. */
	problem: boolean;
}

export interface Reason {
	code: string;
	meaning: string;
	count: number;
	previous: number;
}

export interface Summary {
	from: number;
	to: number;
	lines: Line[];
	/** The most frequent suspension reasons of the period, with what they mean. */
	reasons: Reason[];
	total: number;
	previousTotal: number;
}

/** What one count field is called, and whether it needs a look. */
const KIND_LINES: Partial<Record<EventKind, { label: string; problem: boolean }>> = {
	'account.activated': { label: 'Activations', problem: false },
	'account.sql_cluster': { label: 'SQL clusters assigned', problem: false },
	'account.reactivated': { label: 'Reactivations', problem: false },
	'account.deleted': { label: 'Deletions', problem: true },
	'domain.added': { label: 'Domains added', problem: false },
	'domain.removed': { label: 'Domains removed', problem: false },
	'ticket.opened': { label: 'Tickets opened from Discord', problem: false },
	'ticket.replied': { label: 'Ticket replies from support', problem: false },
	'ticket.reply_sent': { label: 'Ticket replies sent from Discord', problem: false },
	'ticket.closed': { label: 'Tickets closed', problem: false },
	'cert.issued': { label: 'Certificates issued', problem: false },
	'cert.updated': { label: 'Certificate updates', problem: false },
	'cert.deleted': { label: 'Certificates deleted', problem: false },
	'account.action': { label: 'Staff actions (suspend, unsuspend)', problem: false },
	unrecognized: { label: 'Callbacks hookcord could not read', problem: true },
};

/** Kinds counted by their parts instead (suspensions by category, e-mail by event). */
const SPLIT_KINDS = new Set(['account.suspended', 'email.event']);

const TOP_REASONS = 5;

export function summarize(current: Counts, previous: Counts, from: number, to: number): Summary {
	const lines: Line[] = [];
	const add = (label: string, field: string, problem: boolean) => {
		const count = current[field] ?? 0;
		const before = previous[field] ?? 0;
		if (count > 0 || before > 0) lines.push({ label, count, previous: before, problem });
	};
	for (const category of Object.keys(CATEGORY_LABELS) as (keyof typeof CATEGORY_LABELS)[])
		add(
			`Suspensions, ${CATEGORY_LABELS[category].toLowerCase()}`,
			`c:${category}`,
			category === 'permanent' || category === 'unknown',
		);
	const fields = new Set([...Object.keys(current), ...Object.keys(previous)]);
	for (const field of [...fields].sort()) {
		if (field.startsWith('e:')) {
			const name = field.slice(2);
			add(`E-mail: ${name}`, field, WOOXY_PROBLEM_EVENTS.has(name) || name === 'other');
		} else if (field.startsWith('k:')) {
			const kind = field.slice(2);
			if (SPLIT_KINDS.has(kind)) continue;
			const known = KIND_LINES[kind as EventKind];
			add(known?.label ?? kind, field, known?.problem ?? false);
		}
	}
	// Worst first: what needs a look, most first; then the rest, most first; ties by the larger rise.
	lines.sort(
		(a, b) =>
			Number(b.problem) - Number(a.problem) ||
			b.count - a.count ||
			b.count - b.previous - (a.count - a.previous) ||
			a.label.localeCompare(b.label),
	);
	const reasons: Reason[] = [...fields]
		.filter((field) => field.startsWith('r:') && (current[field] ?? 0) > 0)
		.map((field) => {
			const code = field.slice(2);
			return {
				code,
				meaning:
					code === 'OTHER'
						? 'Reasons MyOwnFreeHost does not document.'
						: (suspensionReason(code)?.meaning ?? SUSPENSION_REASONS.OTHER?.meaning ?? ''),
				count: current[field] ?? 0,
				previous: previous[field] ?? 0,
			};
		})
		.sort((a, b) => b.count - a.count || a.code.localeCompare(b.code))
		.slice(0, TOP_REASONS);
	const total = sumKinds(current);
	return { from, to, lines, reasons, total, previousTotal: sumKinds(previous) };
}

/** Events of every kind (the `k:` fields). */
function sumKinds(counts: Counts): number {
	let total = 0;
	for (const [field, n] of Object.entries(counts)) if (field.startsWith('k:')) total += n;
	return total;
}

/** The summary of `[to - length, to)` against the period before it, from hours covering both. */
export function summarizeHours(hours: readonly HourCounts[], from: number, to: number): Summary {
	const length = to - from;
	const inRange = (start: number, end: number) => hours.filter(({ hour }) => hour >= start && hour < end);
	return summarize(sumCounts(inRange(from, to)), sumCounts(inRange(from - length, from)), from, to);
}

/** `+12 (+40 %)`, `−3 (−50 %)`, `new`, `no change`: a count against the period before. */
export function change(count: number, previous: number): string {
	if (count === previous) return 'no change';
	if (previous === 0) return 'new';
	const delta = count - previous;
	const percent = Math.round((delta / previous) * 100);
	const sign = (n: number) => (n > 0 ? `+${n}` : `−${Math.abs(n)}`);
	return `${sign(delta)} (${sign(percent)} %)`;
}

/** The chart's stacks: a few groups of kinds, each one colour. */
export const CHART_GROUPS = [
	{ name: 'Suspensions', kinds: ['account.suspended'] },
	{
		name: 'Accounts',
		kinds: ['account.activated', 'account.sql_cluster', 'account.reactivated', 'account.deleted'],
	},
	{ name: 'Domains', kinds: ['domain.added', 'domain.removed'] },
	{ name: 'Tickets', kinds: ['ticket.opened', 'ticket.replied', 'ticket.reply_sent', 'ticket.closed'] },
	{ name: 'Certificates', kinds: ['cert.issued', 'cert.updated', 'cert.deleted'] },
	{ name: 'E-mail', kinds: ['email.event'] },
	{ name: 'Other', kinds: [] },
] as const satisfies readonly { name: string; kinds: readonly EventKind[] }[];

const GROUP_OF = new Map<string, number>(
	CHART_GROUPS.flatMap((group, i) => group.kinds.map((kind): [string, number] => [`k:${kind}`, i])),
);
const OTHER_GROUP = CHART_GROUPS.length - 1;

export interface Bucket {
	/** `2 Dec` for a day, `09` for an hour, in the report's time zone. */
	label: string;
	/** One count per CHART_GROUPS entry. */
	stacks: number[];
}

/**
 * The period's events per bucket (hours for 24 h, days in `timeZone` otherwise), stacked by group:
 * every bucket of the period is there, empty ones too, so the axis shows the quiet days.
 */
export function buckets(
	hours: readonly HourCounts[],
	from: number,
	to: number,
	unit: 'hour' | 'day',
	timeZone: string,
): Bucket[] {
	const format = new Intl.DateTimeFormat('en-GB', {
		timeZone,
		...(unit === 'hour' ? { hour: '2-digit', hourCycle: 'h23' } : { month: 'short', day: 'numeric' }),
	});
	const byHour = new Map(hours.map(({ hour, counts }) => [hour, counts]));
	const result: Bucket[] = [];
	const index = new Map<string, Bucket>();
	for (let hour = Math.floor(from / 3_600_000) * 3_600_000; hour < to; hour += 3_600_000) {
		const label = format.format(hour);
		let bucket = index.get(label);
		if (!bucket || bucket !== result.at(-1)) {
			bucket = { label, stacks: CHART_GROUPS.map(() => 0) };
			index.set(label, bucket);
			result.push(bucket);
		}
		const counts = byHour.get(hour);
		if (!counts) continue;
		for (const [field, n] of Object.entries(counts)) {
			if (!field.startsWith('k:')) continue;
			const group = GROUP_OF.get(field) ?? OTHER_GROUP;
			bucket.stacks[group] = (bucket.stacks[group] ?? 0) + n;
		}
	}
	return result;
}
