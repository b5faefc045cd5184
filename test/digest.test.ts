import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { APIEmbed } from 'discord-api-types/v10';
import { DeliveryError } from '../src/delivery/errors.js';
import type { OutgoingMessage } from '../src/delivery/message.js';
import type { Event, ParsedEvent, SuspensionCategory } from '../src/events/event.js';
import { renderDigest } from '../src/render/digest.js';
import { codePoints, embedLength, LIMITS } from '../src/render/limits.js';
import { composeMessage } from '../src/render/message.js';
import { openStore, type Store } from '../src/store/store.js';
import { eventually, ManualClock } from './clock.js';
import { assertInert, deliveryHarness, discordSender, eventIds, type HarnessOptions } from './helpers.js';

/** Floods become digests: what a digest says, when the worker folds, and that it is sent exactly once. */

const RECEIVED = Date.parse('2026-11-24T12:00:00Z');
const CHANNEL = 'channel:100000000000000001';

function suspended(username: string, code = 'DAILY_HIT', category: SuspensionCategory = 'temporary') {
	return {
		provider: 'mofh',
		kind: 'account.suspended',
		username,
		reason: { raw: code, code, category },
	} as const satisfies ParsedEvent;
}

let serial = 0;
function stamp(event: ParsedEvent, receivedAt = RECEIVED + serial * 1000): Event {
	serial++;
	return { ...event, id: `0mid${String(serial).padStart(16, '0')}`, receivedAt } as Event;
}

/** Every Discord limit a message must keep (docs/discord.md §1), counted in code points. */
function assertWithinLimits(message: { content: string; embeds: APIEmbed[] }): void {
	assert.ok(codePoints(message.content) <= LIMITS.content, 'content ≤ 2000');
	assert.ok(message.embeds.length <= LIMITS.embedsPerMessage, '≤ 10 embeds');
	assert.ok(
		message.embeds.reduce((sum, embed) => sum + embedLength(embed), 0) <= LIMITS.total,
		'≤ 6000 total',
	);
	for (const embed of message.embeds) {
		assert.ok(codePoints(embed.title ?? '') <= LIMITS.title);
		assert.ok(codePoints(embed.description ?? '') <= LIMITS.description);
		assert.ok((embed.fields ?? []).length <= LIMITS.fields, '≤ 25 fields');
		for (const field of embed.fields ?? []) {
			assert.ok(codePoints(field.name) <= LIMITS.fieldName && codePoints(field.name) > 0);
			assert.ok(codePoints(field.value) <= LIMITS.fieldValue && codePoints(field.value) > 0);
		}
	}
}

/** The usernames listed in a digest's code blocks. */
function listed(embed: APIEmbed): string[] {
	return (embed.fields ?? [])
		.filter((field) => field.value.startsWith('```'))
		.flatMap((field) => field.value.replace(/```/g, '').split(/\s+/).filter(Boolean));
}

const digests = (messages: OutgoingMessage[]) =>
	messages.flatMap((message) => message.embeds).filter((embed) => /digest of/.test(embed.footer?.text ?? ''));

describe('digest rendering', () => {
	it('says how many, why (with meaning and category), to whom, when, and which events', () => {
		const events = [
			...Array.from({ length: 120 }, (_, i) => stamp(suspended(`hname_${i}`))),
			...Array.from({ length: 17 }, (_, i) => stamp(suspended(`pname_${i}`, 'PHISHING', 'permanent'))),
		];
		const { embed, taken } = renderDigest(events, LIMITS.total);
		assert.equal(taken, 137);
		assert.ok(embed);
		assert.equal(embed.title, '137 accounts suspended');
		assert.match(
			embed.description ?? '',
			/`DAILY_HIT` × 120 — The daily hits limit was exceeded.* · Temporary/,
		);
		assert.match(embed.description ?? '', /`PHISHING` × 17 — Phishing content .* · Permanent/);
		assert.deepEqual(
			listed(embed).sort(),
			events.map((event) => ('username' in event ? event.username : '')).sort(),
			'every username, once',
		);
		const received = embed.fields?.find((field) => field.name === 'Received')?.value ?? '';
		assert.match(received, new RegExp(`<t:${Math.floor(RECEIVED / 1000)}:T> – <t:\\d+:T>`));
		assert.match(
			embed.footer?.text ?? '',
			new RegExp(`digest of 137 events · event ${events[0]?.id} … ${events.at(-1)?.id}`),
		);
		assertWithinLimits({ content: '', embeds: [embed] });
	});

	it('takes only as many events as fit the room it is given, and never a broken code block', () => {
		const events = Array.from({ length: 900 }, (_, i) => stamp(suspended(`a_rather_long_username_${i}`)));
		const { embed, taken } = renderDigest(events, LIMITS.total);
		assert.ok(embed && taken > 50 && taken < 900, `took ${taken}`);
		assert.equal(listed(embed).length, taken);
		assert.equal(embed.title, `${taken} accounts suspended`);
		assertWithinLimits({ content: '', embeds: [embed] });
		for (const field of embed.fields ?? []) assert.equal((field.value.match(/```/g) ?? []).length % 2, 0);
	});

	it('a callback cannot break out of the monospace list', () => {
		const { embed } = renderDigest([stamp(suspended('evil```@everyone x')), stamp(suspended('b'))], 6000);
		const names = listed(embed as APIEmbed);
		assert.ok(names.every((name) => !name.includes('`')));
		assert.deepEqual(names, ['evil_@everyone_x', 'b']);
	});

	it('folds one digest per kind where the kind first arrived; tickets and certificates keep their text', () => {
		const events = [
			stamp(suspended('s1')),
			stamp({ provider: 'mofh', kind: 'ticket.replied', ticketId: '42', text: 'We looked into it.' }),
			stamp({ provider: 'mofh', kind: 'account.activated', username: 'a1' }),
			stamp(suspended('s2')),
			stamp({ provider: 'xolphin', kind: 'cert.issued', requestId: '9001' }),
			stamp({ provider: 'mofh', kind: 'account.activated', username: 'a2' }),
			stamp({ provider: 'mofh', kind: 'account.deleted', username: 'd1' }),
		];
		const message = composeMessage(events, true);
		assert.deepEqual(
			message.embeds.map((embed) => embed.title),
			[
				'2 accounts suspended',
				'Support replied to ticket #42',
				'2 accounts activated',
				'Certificate issued',
				'Account deleted',
			],
		);
		assert.equal(message.embeds[1]?.description, 'We looked into it.');
		assert.deepEqual([...message.ids].sort(), events.map((event) => event.id).sort(), 'each event once');
		assert.match(
			message.content,
			/^2 accounts suspended\nSupport replied to ticket #42\n2 accounts activated/,
		);
		assertWithinLimits(message);
	});
});

type Options = HarnessOptions;

/** A store with `events` accepted while nothing delivered, then a worker started on it (a restart). */
async function flood(
	t: TestContext,
	events: ParsedEvent[],
	script: (message: OutgoingMessage) => void = () => {},
	options: Options = {},
	store?: Store,
) {
	const theStore = store ?? (await openStore('memory://'));
	const clock = new ManualClock();
	const harness = await deliveryHarness(theStore, script, {
		now: clock.now,
		after: clock.after,
		retrySchedule: [5_000],
		sweepMs: 15_000,
		...options,
	});
	const ids: string[] = [];
	for (const event of events) ids.push((await harness.ingest(event)).id);
	await harness.worker.start();
	t.after(() => harness.worker.stop());
	const drain = async (seconds = 120) => {
		for (let i = 0; harness.worker.status().pending > 0; i++) {
			assert.ok(i < seconds, 'drained within the clock given');
			await clock.advance(1000);
		}
	};
	return { ...harness, ids, clock, drain, store: theStore };
}

describe('folding in the worker', () => {
	it('a lone alert on a quiet channel leaves at once as the full rich message', async (t) => {
		const { sent, ingest } = await flood(t, []);
		await ingest(suspended('host_lone', 'PHISHING', 'permanent'));
		// The clock does not move: no added wait.
		await eventually(() => sent.length === 1, 'the alert was sent');
		const [embed] = sent[0]?.embeds ?? [];
		assert.equal(embed?.title, 'Account suspended');
		assert.deepEqual(
			embed?.fields?.map((field) => field.name),
			['Username', 'Reason', 'Category', 'Expected deletion (estimate)', 'As sent'],
		);
		assert.equal(sent[0]?.content, 'Account suspended · `host_lone`');
	});

	it('folds a backlog exactly at the threshold, and not one below it', async (t) => {
		const at = await flood(
			t,
			Array.from({ length: 12 }, (_, i) => suspended(`host_at${i}`)),
			() => {},
			{ digestThreshold: 12 },
		);
		await at.drain();
		assert.equal(at.sent.length, 1, 'one message');
		assert.equal(at.sent[0]?.embeds[0]?.title, '12 accounts suspended');

		const below = await flood(
			t,
			Array.from({ length: 11 }, (_, i) => suspended(`host_below${i}`)),
			() => {},
			{ digestThreshold: 12 },
		);
		await below.drain();
		assert.equal(digests(below.sent).length, 0, 'no digest below the threshold');
		assert.deepEqual(eventIds(below.sent), below.ids, 'ten full alerts, then one');
		assert.deepEqual(
			below.sent.map((message) => message.embeds.length),
			[10, 1],
		);
	});

	it('splits a digest that cannot fit one message, each within limits, every username once', async (t) => {
		const names = Array.from({ length: 700 }, (_, i) => `host_${String(i).padStart(4, '0')}_long_name`);
		const { sent, drain } = await flood(
			t,
			names.map((name) => suspended(name)),
		);
		await drain();
		assert.ok(sent.length >= 2 && sent.length <= 5, `${sent.length} messages`);
		for (const message of sent) assertWithinLimits(message);
		const all = digests(sent).flatMap(listed);
		assert.deepEqual(all, names, 'every username once, in order');
		const counted = digests(sent).reduce(
			(sum, embed) => sum + Number(/^(\d+)/.exec(embed.title ?? '')?.[1]),
			0,
		);
		assert.equal(counted, 700);
		assert.equal(new Set(sent.map((message) => message.nonce)).size, sent.length, 'a nonce per message');
	});

	it('re-sends a digest after a crash with the same nonce and the same content, and nothing twice', async (t) => {
		const store = await openStore('memory://');
		const first = await flood(
			t,
			Array.from({ length: 60 }, (_, i) => suspended(`host_crash${i}`)),
			() => {
				throw new DeliveryError('retry', 'Discord 503');
			},
			{},
			store,
		);
		await eventually(() => first.attempts.length === 1, 'the first attempt');
		const tried = first.attempts[0] as OutgoingMessage;
		assert.equal(tried.embeds[0]?.title, '60 accounts suspended');
		await first.worker.stop(); // the "crash"
		// More arrive before the restart: they must not change the message in flight.
		await first.ingest(suspended('host_after'));
		const recorded = await first.outbox.getBatch(CHANNEL);
		assert.equal(recorded?.nonce, tried.nonce);

		const second = await flood(t, [], () => {}, {}, store);
		await second.drain();
		assert.deepEqual(second.sent[0], tried, 'the same message, same nonce');
		assert.equal(second.sent[1]?.content, 'Account suspended (temporary) · `host_after`');
		assert.equal(second.sent.length, 2);
		assert.equal(await second.outbox.getBatch(CHANNEL), undefined);
	});

	it('a dry run prints the digest staff would have seen', async (t) => {
		const printed: string[] = [];
		const sender = discordSender({ print: (text) => printed.push(text) });
		const { drain } = await flood(
			t,
			[
				...Array.from({ length: 55 }, (_, i) => suspended(`host_dry${i}`)),
				suspended('host_idle', 'AUTO_IDLE', 'inactivity'),
			],
			(message) => sender({ kind: 'stdout', key: 'stdout', intended: 'channel 123' }, message),
		);
		await drain();
		const text = printed.join('\n');
		assert.match(text, /── 56 accounts suspended {2}→ channel 123 \(dry run\)/);
		assert.match(
			text,
			/DAILY_HIT × 55 — The daily hits limit was exceeded; lifted when the day resets\. · Temporary/,
		);
		assert.match(text, /AUTO_IDLE × 1 — Suspended automatically for inactivity\. · Inactivity/);
		assert.match(text, /host_dry0 host_dry1 host_dry2/);
		assert.match(text, /Received: 2026-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
		assert.equal(printed.length, 1);
	});
});

describe('a digest names its groups with provider text as data', () => {
	const HOSTILE =
		'**bold** [x](https://evil.example) &lt;@123456789012345678&gt; <@123456789012345678> @everyone \u202ereversed\u0007';
	it('an SQL cluster status or a Wooxy event name cannot format, link, mention, reverse or ring', () => {
		const clusters = [1, 2, 3].map((n) =>
			stamp({ provider: 'mofh', kind: 'account.sql_cluster', username: `host_${n}`, cluster: HOSTILE }),
		);
		const mail = [1, 2, 3].map((n) =>
			stamp({
				provider: 'wooxy',
				kind: 'email.event',
				event: HOSTILE,
				email: `a${n}@example.com`,
				headers: {},
			}),
		);
		for (const events of [clusters, mail]) {
			const { embed } = renderDigest(events, LIMITS.total);
			assert.ok(embed);
			for (const field of embed.fields ?? []) assertInert(field.name, 'field name');
			assertInert(embed.description ?? '', 'description');
			assert.match(embed.fields?.[1]?.name ?? '', /^\\\*\\\*bold\\\*\\\* .* · 3$/);
		}
	});
});
