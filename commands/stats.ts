import {
	InteractionContextType,
	ApplicationCommandOptionType as OptionType,
	PermissionFlagsBits,
} from 'discord-api-types/v10';
import { definePlainCommand } from '../src/interactions/define-command.js';
import { CHART_FILE, chartPng } from '../src/render/chart.js';
import { renderStats } from '../src/render/stats.js';
import { readCounts } from '../src/state/counts.js';
import { buckets, CHART_GROUPS, PERIODS, type Period, summarizeHours } from '../src/stats/summary.js';
import type { Store } from '../src/store/store.js';

export const STATS = {
	name: 'stats',
	description:
		'Events of the last 24 hours, 7 or 30 days against the period before, worst first, with a chart',
	default_member_permissions: String(PermissionFlagsBits.ManageGuild),
	contexts: [InteractionContextType.Guild],
	options: [
		{
			type: OptionType.String,
			name: 'period',
			description: 'How far back (default 7 days)',
			choices: [
				{ name: '24 hours', value: '24h' },
				{ name: '7 days', value: '7d' },
				{ name: '30 days', value: '30d' },
			],
		},
	],
} as const;

const NAMES: Record<Period, string> = { '24h': 'Last 24 hours', '7d': 'Last 7 days', '30d': 'Last 30 days' };
const HOUR = 3_600_000;

export interface StatsDeps {
	store: Pick<Store, 'counts'>;
	/** REPORT_TIMEZONE: the days of the chart and the times shown. */
	timeZone?: string;
	now?: () => number;
}

/** What /stats and the report show for `[from, to)`: the embed and, unless all was quiet, the chart. */
export async function statsMessage(
	store: Pick<Store, 'counts'>,
	{ from, to, title, timeZone }: { from: number; to: number; title: string; timeZone: string },
) {
	// One record per hour of the period and of the one before: 1,440 reads for 30 days, whatever the traffic.
	const hours = await readCounts(store, from - (to - from), to);
	const summary = summarizeHours(hours, from, to);
	const quiet = summary.total === 0;
	const unit = to - from <= 48 * HOUR ? 'hour' : 'day';
	const png = quiet
		? undefined
		: await chartPng({
				title: `Events per ${unit}, ${title.toLowerCase()} (${timeZone})`,
				groups: CHART_GROUPS.map((group) => group.name),
				buckets: buckets(
					hours.filter(({ hour }) => hour >= from),
					from,
					to,
					unit,
					timeZone,
				),
			});
	return { summary, png };
}

/** `/stats [period]`: the period's counts, worst first, each against the period before, and a chart. */
export function stats({ store, timeZone = 'UTC', now = Date.now }: StatsDeps) {
	return definePlainCommand(STATS, {
		async execute({ period = '7d' }, { respond }) {
			await respond.defer(true);
			// Whole hours, the current one included: the counts are kept per hour.
			const to = Math.ceil((now() + 1) / HOUR) * HOUR;
			const from = to - PERIODS[period];
			const { summary, png } = await statsMessage(store, { from, to, title: NAMES[period], timeZone });
			const embed = renderStats(summary, {
				title: NAMES[period],
				timeZone,
				...(png && { chart: CHART_FILE }),
			});
			await respond.reply({ embeds: [embed], ...(png && { files: [{ name: CHART_FILE, data: png }] }) });
		},
	});
}
