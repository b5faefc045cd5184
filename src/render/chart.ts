import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ResvgRenderOptions } from '@resvg/resvg-js';
import type { Bucket } from '../stats/summary.js';

/**
 * The stacked bar chart of /stats and the report: an SVG drawn here, turned into a PNG in-process by
 * resvg (no browser, no canvas). resvg ships no fonts and a slim server may have none, where text would
 * silently vanish: the DejaVu Sans TTF comes with hookcord (the dejavu-fonts-ttf package, its licence in
 * node_modules/dejavu-fonts-ttf/LICENSE), and system fonts are never loaded, so a chart looks the same
 * everywhere. Colours are mid-tones on a solid card, readable in Discord's dark and light themes alike.
 */

export const CHART_WIDTH = 960;
export const CHART_HEIGHT = 480;
export const CHART_FILE = 'chart.png';

const FONT_FILE = join(
	dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')),
	'ttf',
	'DejaVuSans.ttf',
);
const FONT = 'DejaVu Sans';

/** One colour per stack, in CHART_GROUPS order: mid-tone, told apart in both themes and by most eyes. */
const COLOURS = ['#e0575b', '#4e8fd6', '#3fae7a', '#d9a43b', '#8f6fd8', '#39a9b8', '#8a8f98'];
const CARD = '#2b2d31';
const TEXT = '#e6e7ea';
const MUTED = '#a4a8b0';
const GRID = '#474a52';

export interface ChartInput {
	title: string;
	/** What each stack is, in order (the legend). */
	groups: readonly string[];
	buckets: readonly Bucket[];
}

const xml = (text: string) =>
	text.replace(
		/[<>&"']/g,
		(c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
	);

/** A round axis maximum and step: 1, 2 or 5 times a power of ten, about five gridlines. */
function axis(max: number): { top: number; step: number } {
	if (max <= 0) return { top: 5, step: 1 };
	const rough = max / 5;
	const power = 10 ** Math.floor(Math.log10(rough));
	const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
	return { top: Math.ceil(max / step) * step, step: Math.max(1, step) };
}

/** The chart as SVG text (also what tests read). */
export function chartSvg({ title, groups, buckets }: ChartInput): string {
	const left = 64;
	const right = 24;
	const top = 56;
	const bottom = 96;
	const plotWidth = CHART_WIDTH - left - right;
	const plotHeight = CHART_HEIGHT - top - bottom;
	const totals = buckets.map((bucket) => bucket.stacks.reduce((sum, n) => sum + n, 0));
	const { top: max, step } = axis(Math.max(0, ...totals));
	const y = (n: number) => top + plotHeight - (n / max) * plotHeight;
	const parts: string[] = [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" font-family="${FONT}">`,
		`<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" rx="12" fill="${CARD}"/>`,
		`<text x="${left}" y="34" font-size="20" font-weight="bold" fill="${TEXT}">${xml(title)}</text>`,
	];
	for (let n = 0; n <= max; n += step) {
		parts.push(
			`<line x1="${left}" y1="${y(n)}" x2="${left + plotWidth}" y2="${y(n)}" stroke="${GRID}" stroke-width="1"/>`,
			`<text x="${left - 8}" y="${y(n) + 5}" font-size="13" text-anchor="end" fill="${MUTED}">${n}</text>`,
		);
	}
	const slot = plotWidth / Math.max(1, buckets.length);
	const barWidth = Math.max(2, slot * 0.7);
	// Label every bucket when they fit, else every k-th: labels never overlap.
	const every = Math.max(1, Math.ceil(buckets.length / Math.floor(plotWidth / 56)));
	buckets.forEach((bucket, i) => {
		const x = left + i * slot + (slot - barWidth) / 2;
		let base = 0;
		bucket.stacks.forEach((n, group) => {
			if (n <= 0) return;
			const height = y(base) - y(base + n);
			parts.push(
				`<rect x="${x.toFixed(1)}" y="${y(base + n).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${height.toFixed(1)}" fill="${COLOURS[group % COLOURS.length]}"/>`,
			);
			base += n;
		});
		if (i % every === 0)
			parts.push(
				`<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${top + plotHeight + 20}" font-size="13" text-anchor="middle" fill="${MUTED}">${xml(bucket.label)}</text>`,
			);
	});
	// The legend, in one row under the axis.
	let legendX = left;
	const legendY = CHART_HEIGHT - 28;
	groups.forEach((name, group) => {
		parts.push(
			`<rect x="${legendX}" y="${legendY - 12}" width="14" height="14" rx="3" fill="${COLOURS[group % COLOURS.length]}"/>`,
			`<text x="${legendX + 20}" y="${legendY}" font-size="14" fill="${TEXT}">${xml(name)}</text>`,
		);
		legendX += 20 + name.length * 8.5 + 22;
	});
	parts.push('</svg>');
	return parts.join('');
}

const RENDER: ResvgRenderOptions = {
	font: { loadSystemFonts: false, fontFiles: [FONT_FILE], defaultFontFamily: FONT },
	fitTo: { mode: 'original' },
};

/**
 * The chart as a PNG of CHART_WIDTH × CHART_HEIGHT, rendered on libuv's thread pool: tens of
 * milliseconds that callbacks on the event loop do not wait for.
 */
export async function chartPng(input: ChartInput): Promise<Buffer> {
	// The native renderer loads with the first chart, not with the commands.
	const { renderAsync } = await import('@resvg/resvg-js');
	return (await renderAsync(chartSvg(input), RENDER)).asPng();
}
