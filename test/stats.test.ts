import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { CHART_HEIGHT, CHART_WIDTH, chartPng, chartSvg } from '../src/render/chart.js';
import { renderStats } from '../src/render/stats.js';
import type { HourCounts } from '../src/state/counts.js';
import { buckets, CHART_GROUPS, change, summarize } from '../src/stats/summary.js';
import { SECRET, WOOXY_EXAMPLE } from './helpers.js';
import { type Payload, startInteractions } from './interactions.js';

const STAFF_ROLE = '223456789012345678';

/** A PNG's signature and its IHDR width and height. */
function pngSize(data: Buffer): { width: number; height: number } {
	assert.deepEqual(
		[...data.subarray(0, 8)],
		[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
		'PNG signature',
	);
	assert.equal(data.subarray(12, 16).toString('latin1'), 'IHDR');
	return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

describe('/stats: what the counts say', () => {
	it('lists every count worst first, against the period before, with the top reasons and their meaning', () => {
		const summary = summarize(
			{
				'k:account.activated': 40,
				'k:account.suspended': 7,
				'c:permanent': 5,
				'c:temporary': 2,
				'r:PHISHING': 4,
				'r:DAILY_IO': 2,
				'r:OTHER': 1,
				'k:email.event': 3,
				'e:hard': 2,
				'e:read': 1,
				'k:unrecognized': 1,
				'u:mofh': 1,
			},
			{
				'k:account.activated': 50,
				'c:permanent': 1,
				'k:account.suspended': 1,
				'e:hard': 2,
				'k:email.event': 2,
			},
			0,
			7 * 86_400_000,
		);
		assert.deepEqual(
			summary.lines.map((line) => [line.label, line.count, line.previous]),
			[
				['Suspensions, permanent', 5, 1],
				['E-mail: hard', 2, 2],
				['Callbacks hookcord could not read', 1, 0],
				['Activations', 40, 50],
				['Suspensions, temporary', 2, 0],
				['E-mail: read', 1, 0],
			],
		);
		assert.equal(summary.total, 51);
		assert.equal(summary.previousTotal, 53);
		assert.deepEqual(
			summary.reasons.map((reason) => [reason.code, reason.count]),
			[
				['PHISHING', 4],
				['DAILY_IO', 2],
				['OTHER', 1],
			],
		);
		assert.match(summary.reasons[0]?.meaning ?? '', /Phishing content/);
		assert.equal(change(5, 1), '+4 (+400 %)');
		assert.equal(change(40, 50), '−10 (−20 %)');
		assert.equal(change(1, 0), 'new');
		const embed = renderStats(summary, { title: 'Last 7 days', timeZone: 'UTC', chart: 'chart.png' });
		assert.match(embed.description ?? '', /^\*\*51\*\* events · −2 \(−4 %\)/);
		assert.match(embed.description ?? '', /⚠️ \*\*5\*\* Suspensions, permanent · \+4 \(\+400 %\)/);
		assert.equal(embed.image?.url, 'attachment://chart.png');
	});

	it('says "all quiet" with no chart when nothing happened', () => {
		const embed = renderStats(summarize({}, {}, 0, 3_600_000), {
			title: 'Last 24 hours',
			timeZone: 'UTC',
			chart: 'chart.png',
		});
		assert.match(embed.description ?? '', /^All quiet/);
		assert.equal(embed.image, undefined);
	});

	it('buckets hours into the days of the report zone, quiet days included', () => {
		const day = 86_400_000;
		const from = Date.UTC(2026, 2, 1);
		const hours: HourCounts[] = [
			{ hour: from + 23 * 3_600_000, counts: { 'k:account.suspended': 2, 'k:email.event': 1 } },
			{ hour: from + 2 * day + 5 * 3_600_000, counts: { 'k:some.new_kind': 3 } },
		];
		const utc = buckets(hours, from, from + 3 * day, 'day', 'UTC');
		assert.deepEqual(
			utc.map((bucket) => bucket.label),
			['1 Mar', '2 Mar', '3 Mar'],
		);
		assert.equal(utc[0]?.stacks[0], 2);
		assert.equal(utc[0]?.stacks[CHART_GROUPS.findIndex((group) => group.name === 'E-mail')], 1);
		assert.equal(utc[2]?.stacks.at(-1), 3, 'a kind of no group counts as Other');
		// 23:00 UTC is already the next day in Berlin (UTC+1 in early March).
		const berlin = buckets(hours, from, from + 3 * day, 'day', 'Europe/Berlin');
		assert.equal(berlin.find((bucket) => bucket.label === '2 Mar')?.stacks[0], 2);
	});

	it('renders the chart as a PNG of the stated size with the shipped font (text drawn, not dropped)', async () => {
		const input = {
			title: 'Events per day',
			groups: CHART_GROUPS.map((group) => group.name),
			buckets: [{ label: 'Mar 1', stacks: [3, 1, 0, 0, 0, 2, 0] }],
		};
		assert.match(chartSvg(input), /<text[^>]*>Events per day<\/text>/);
		const png = await chartPng(input);
		assert.deepEqual(pngSize(png), { width: CHART_WIDTH, height: CHART_HEIGHT });
		const blank = await chartPng({ ...input, title: '', groups: [] });
		assert.notEqual(png.length, blank.length, 'the title and legend change the picture: a font was found');
	});
});

describe('/stats end to end', () => {
	it('counts a known mix of real callbacks and answers with the chart attached and shown by the embed', async (t) => {
		const f = await startInteractions(
			(discord) => ({
				HOOK_SECRET: SECRET,
				DISCORD_GUILD_ID: discord.guildId,
				STAFF_ROLE_IDS: STAFF_ROLE,
				ALERTS_CHANNEL: 'off',
				WOOXY_ALLOWED_IPS: '*',
				XOLPHIN_ALLOWED_IPS: '*',
			}),
			{ gateway: false, who: { roles: [STAFF_ROLE] } },
		);
		t.after(() => f.close());
		for (const username of ['host_40000001', 'host_40000002', 'host_40000003'])
			await f.mofhCallback({ username, status: 'ACTIVATED' });
		await f.mofhCallback({
			username: 'host_40000001',
			status: 'SUSPENDED',
			comments: 'ADMIN_CLOSE : PHISHING',
		});
		await f.mofhCallback({
			username: 'host_40000002',
			status: 'SUSPENDED',
			comments: 'ADMIN_CLOSE : DAILY_IO',
		});
		// A provider retry is not counted twice.
		await f.mofhCallback({
			username: 'host_40000002',
			status: 'SUSPENDED',
			comments: 'ADMIN_CLOSE : DAILY_IO',
		});
		const wooxy = await f.service.app.inject({
			method: 'POST',
			url: `/hooks/wooxy/${SECRET}`,
			payload: { ...WOOXY_EXAMPLE, event: 'hard' },
		});
		assert.equal(wooxy.statusCode, 200);
		const xolphin = await f.service.app.inject({
			method: 'GET',
			url: `/hooks/xolphin/${SECRET}?RequestId=31337&Status=Issued`,
		});
		assert.equal(xolphin.statusCode, 200);

		const payload = f.command('stats', 'unused');
		payload.data = {
			...(payload.data as object),
			options: [{ type: ApplicationCommandOptionType.String, name: 'period', value: '24h' }],
		};
		const answer = await f.run('http', payload as Payload);
		assert.equal(answer.ephemeral, true);
		const [embed] = answer.embeds;
		assert.ok(embed);
		const text = embed.description ?? '';
		assert.match(text, /^\*\*7\*\* events · new/);
		assert.match(text, /\*\*3\*\* Activations · new/);
		assert.match(text, /\*\*1\*\* Suspensions, permanent/);
		assert.match(text, /\*\*1\*\* Suspensions, temporary/);
		assert.match(text, /\*\*1\*\* E-mail: hard/);
		assert.match(text, /\*\*1\*\* Certificates issued/);
		// Worst first: the permanent suspension and the bounce before the activations.
		assert.ok(text.indexOf('Suspensions, permanent') < text.indexOf('Activations'));
		assert.ok(text.indexOf('E-mail: hard') < text.indexOf('Activations'));
		assert.match(JSON.stringify(embed.fields), /PHISHING.*Phishing content was found/);

		// The chart went up as multipart with the edit, as a PNG of the stated size, and the embed shows it.
		const upload = f.discord.requests.find(
			(request) => request.method === 'PATCH' && request.files.some((file) => file.filename === 'chart.png'),
		);
		assert.ok(upload, 'the chart was uploaded');
		const file = upload.files[0];
		assert.ok(file);
		assert.equal(file.filename, 'chart.png');
		assert.deepEqual(pngSize(file.data), { width: CHART_WIDTH, height: CHART_HEIGHT });
		assert.equal(
			(upload.body as { embeds: { image: { url: string } }[] }).embeds[0]?.image.url,
			'attachment://chart.png',
		);
		const edit = f.discord.edits.at(-1);
		assert.equal(edit?.message.attachments[0]?.filename, 'chart.png');
		assert.equal(
			edit?.message.embeds[0]?.image?.url,
			edit?.message.attachments[0]?.url,
			'the embed shows the upload',
		);
	});
});
