/**
 * `npm run chart:demo`: the chart of /stats and the report, rendered by hookcord itself from two weeks
 * of made-up per-hour counts, written to docs/stats-chart.png (the picture in the README).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { chartPng } from '../src/render/chart.js';
import type { HourCounts } from '../src/state/counts.js';
import { buckets, CHART_GROUPS } from '../src/stats/summary.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const to = Date.UTC(2026, 11, 1);
const from = to - 14 * DAY;

/** A steady week with a weekend dip, a suspension wave on day 9 and a bounce storm on day 11. */
function demoHours(): HourCounts[] {
	const hours: HourCounts[] = [];
	let seed = 7;
	const noise = () => {
		seed = (seed * 1103515245 + 12345) % 2 ** 31;
		return seed / 2 ** 31;
	};
	for (let hour = from; hour < to; hour += HOUR) {
		const day = Math.floor((hour - from) / DAY);
		const weekend = [5, 6, 12, 13].includes(day) ? 0.55 : 1;
		const daytime = Math.sin(((((hour / HOUR) % 24) - 6) / 24) * Math.PI * 2) * 0.5 + 0.8;
		const n = (base: number) => Math.max(0, Math.round(base * weekend * daytime * (0.7 + noise() * 0.6)));
		hours.push({
			hour,
			counts: {
				'k:account.suspended': n(day === 9 ? 9 : 1.6),
				'k:account.activated': n(3),
				'k:account.deleted': n(0.4),
				'k:domain.added': n(1.4),
				'k:ticket.replied': n(0.8),
				'k:cert.issued': n(0.3),
				'k:email.event': n(day === 11 ? 14 : 4),
				'k:unrecognized': n(0.05),
			},
		});
	}
	return hours;
}

const png = await chartPng({
	title: 'Events per day, 17 Nov – 30 Nov (UTC)',
	groups: CHART_GROUPS.map((group) => group.name),
	buckets: buckets(demoHours(), from, to, 'day', 'UTC'),
});
const file = resolve(import.meta.dirname, '..', 'docs', 'stats-chart.png');
writeFileSync(file, png);
process.stdout.write(`wrote ${file} (${png.length} bytes)\n`);
