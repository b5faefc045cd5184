import assert from 'node:assert/strict';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import type { After } from '../src/clock.js';
import { type Config, parseConfig } from '../src/config.js';
import { createChannelPoster } from '../src/delivery/channel.js';
import type { Destination } from '../src/delivery/kind.js';
import type { ChannelDestination } from '../src/delivery/kinds/channel.js';
import { printDryRun, type StdoutDestination } from '../src/delivery/kinds/stdout.js';
import { executeWebhook, type WebhookDestination } from '../src/delivery/kinds/webhook.js';
import type { OutgoingMessage, PostToChannel, Send } from '../src/delivery/message.js';
import type { DeliverySettings } from '../src/delivery/term.js';
import type { ParsedEvent } from '../src/events/event.js';
import type { Dispatch } from '../src/interactions/dispatch.js';
import type { Metrics } from '../src/metrics/metrics.js';
import { PayloadError } from '../src/providers/fields.js';
import { composeServices } from '../src/service.js';
import type { Outbox, OutboxEntry } from '../src/state/outbox.js';
import type { Store } from '../src/store/store.js';

export const SECRET = 'test-secret-0123456789';
export const silent = pino({ level: process.env.TEST_LOG ?? 'silent' });

/** A config as the environment would give it, with test-friendly defaults. */
export function testConfig(env: Record<string, string> = {}): Config {
	return parseConfig({
		STORE_URL: 'memory://',
		HOOK_SECRET: SECRET,
		MOFH_ALLOWED_IPS: '*',
		XOLPHIN_ALLOWED_IPS: '*',
		WOOXY_ALLOWED_IPS: '*',
		RETRY_SCHEDULE: '10ms',
		...env,
	});
}

/**
 * The real sender with the bot's channel poster, pointed at a Discord double: it waits out every rate
 * limit the double answers rather than handing a long one back to the outbox.
 */
export function botSender(discord: { apiUrl: string; token: string }): Send {
	return discordSender({
		channel: createChannelPoster({
			apiUrl: discord.apiUrl,
			token: discord.token,
			timeoutMs: 15_000,
			maxRateLimitWaitMs: Number.POSITIVE_INFINITY,
		}),
	});
}

/**
 * The Discord kinds' own transports, by destination kind: for tests whose scripted sends go on to the
 * wire (a Discord double) or to a dry run's print.
 */
export function discordSender({
	channel,
	print = (text) => process.stdout.write(`${text}\n`),
}: {
	channel?: PostToChannel;
	print?: (text: string) => void;
} = {}): Send {
	return async (destination, message) => {
		if (destination.kind === 'channel') {
			if (!channel) throw new Error('no channel poster');
			return channel((destination as ChannelDestination).channelId, message);
		}
		if (destination.kind === 'webhook') {
			await executeWebhook((destination as WebhookDestination).url, message, 15_000);
			return;
		}
		printDryRun(message, (destination as StdoutDestination).intended, print);
	};
}

export interface Sent {
	destination: Destination;
	message: OutgoingMessage;
}

export interface TestAppOptions {
	store?: Store;
	logger?: FastifyBaseLogger;
	/** Answers `POST /interactions` instead of the slash commands (DISCORD_PUBLIC_KEY must be in `env`). */
	dispatch?: Dispatch;
	now?: () => number;
	metrics?: Metrics;
}

/**
 * The receiver with its real store, ingest and worker, sending into an array: for route tests through
 * `inject()` without a network. The returned `outbox` is the one ingest and the worker use.
 */
export async function buildTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}) {
	const config = testConfig(env);
	const sent: Sent[] = [];
	const services = await composeServices(config, {
		logger: options.logger ?? silent,
		gateway: false,
		// The test starts the worker itself, whatever the store.
		lease: false,
		// Route tests count alerts, not Discord's pace: thousands of them must not wait 5 s per 5 messages.
		delivery: { rate: { messages: 1_000, perMs: 1_000 } },
		send: async (destination, message) => {
			sent.push({ destination, message });
		},
		...(options.store && { store: options.store }),
		...(options.dispatch && { dispatch: options.dispatch }),
		...(options.now && { now: options.now }),
		...(options.metrics && { metrics: options.metrics }),
	});
	const { app, store, worker, outbox } = services;
	await worker.start();
	app.addHook('onClose', () => worker.stop());
	return { app, store, worker, sent, outbox, config };
}

/** `a=1&b=2` from a record. */
export function form(fields: Record<string, string>): string {
	return new URLSearchParams(fields).toString();
}

/**
 * The one multipart/form-data builder: text fields (in order; a name may repeat when given as entries),
 * as MOFH may post, optionally with a file part inserted before the field at `file.at`.
 */
export function multipart(
	fields: Record<string, string> | [string, string][],
	{
		boundary = 'hookcordboundary',
		file,
	}: { boundary?: string; file?: { name: string; filename: string; content: string; at: number } } = {},
): { body: string; contentType: string } {
	const part = (disposition: string, value: string) =>
		`--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\n\r\n${value}\r\n`;
	const entries = Array.isArray(fields) ? fields : Object.entries(fields);
	const parts = entries.map(([name, value]) => part(`name="${name}"`, value));
	if (file) parts.splice(file.at, 0, part(`name="${file.name}"; filename="${file.filename}"`, file.content));
	return {
		body: `${parts.join('')}--${boundary}--\r\n`,
		contentType: `multipart/form-data; boundary=${boundary}`,
	};
}

/** Narrows a parsed event to one kind, failing the test when it is another. */
export function expectKind<K extends ParsedEvent['kind']>(
	event: ParsedEvent,
	kind: K,
): ParsedEvent & { kind: K } {
	assert.equal(event.kind, kind, `expected ${kind}, got ${JSON.stringify(event)}`);
	return event as ParsedEvent & { kind: K };
}

/** Asserts `run` throws a PayloadError whose message matches `message`. */
export function throwsPayload(run: () => unknown, message: RegExp): void {
	assert.throws(run, (error: unknown) => {
		assert.ok(error instanceof PayloadError, `expected PayloadError, got ${String(error)}`);
		assert.match(error.message, message);
		return true;
	});
}

/** Event ids in the embeds' footers (`… · event <id>`), in order. */
export function eventIds(messages: OutgoingMessage[]): (string | undefined)[] {
	return messages.flatMap((message) =>
		message.embeds.map((embed) => /event (\w+)/.exec(embed.footer?.text ?? '')?.[1]),
	);
}

/** Delivery settings a harness changes, and its clock. */
export type HarnessOptions = DeliverySettings & { now?: () => number; after?: After };

/**
 * One process's worth of hookcord on `store` (composed like the real one; its HTTP side is not used):
 * ingest plus a worker whose Discord sends run `script` (throw a DeliveryError to fail one). `attempts`
 * records every send, `sent` the ones that went through, `reads` how often the outbox was read whole
 * (start and sweeps). The worker is not started.
 */
export async function deliveryHarness(
	store: Store,
	script: (message: OutgoingMessage) => void | Promise<void> = () => {},
	options: HarnessOptions = {},
) {
	const config = testConfig({ ALERTS_CHANNEL: '100000000000000001', DISCORD_TOKEN: 'x' });
	const { now, after, ...delivery } = options;
	const attempts: OutgoingMessage[] = [];
	const sent: OutgoingMessage[] = [];
	const { outbox, worker, ingest } = await composeServices(config, {
		logger: silent,
		store,
		gateway: false,
		// Several harnesses on one store stand for several processes, each starting its own worker.
		lease: false,
		send: async (_destination, message) => {
			attempts.push(message);
			await script(message);
			sent.push(message);
		},
		delivery: {
			retrySchedule: [5, 10],
			retryBudget: 60_000,
			sweepMs: 50,
			// Real-time tests with millisecond retries: Discord's pace only where a test asks for it.
			rate: { messages: 1_000, perMs: 1_000 },
			...delivery,
		},
		...(now && { now }),
		...(after && { after }),
	});
	// The worker reads the whole outbox at start and at every sweep: counting the reads lets a test wait
	// for sweeps (the chance to send a copy again) instead of sleeping.
	let reads = 0;
	const scan = outbox.scan;
	outbox.scan = () => {
		reads++;
		return scan();
	};
	return { attempts, sent, ids: () => eventIds(sent), reads: () => reads, outbox, worker, ingest };
}

/** Every entry of an outbox, oldest first (ids sort by receive time): what a test checks is left. */
export async function pendingEntries(outbox: Pick<Outbox, 'scan'>): Promise<OutboxEntry[]> {
	const entries: OutboxEntry[] = [];
	for await (const entry of outbox.scan()) entries.push(entry);
	return entries.sort((a, b) => (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0));
}

/** Rejects if `promise` has not settled within `ms` (src/within.ts resolves undefined instead). */
export async function rejectAfter<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
	});
	try {
		return await Promise.race([promise, timeout]);
	} finally {
		clearTimeout(timer);
	}
}

/** Wooxy's documented webhook body (docs/providers.md C.1), with the comma the doc's example misses. */
export const WOOXY_EXAMPLE = {
	datetime: 1234567890,
	event: 'read',
	email: 'user@example.com',
	id: '5537ab2a08d241dc69326b19',
	userId: 'myUserId-1',
	headers: { 'X-Additional-Header': 'additional-header-value' },
} as const;

/**
 * Provider text as Discord would show it cannot format, link, mention, reverse or ring: outside inline
 * code no markdown is left unescaped, and nowhere a mention token, `@everyone`, a bidi control or a C0
 * control other than the newline.
 */
export function assertInert(shown: string, where = 'text'): void {
	assert.doesNotMatch(shown, /<[@#]|<\/|<t:|<a?:/, `${where}: a mention or other <…> token: ${shown}`);
	assert.doesNotMatch(shown, /@(everyone|here)/i, `${where}: @everyone/@here: ${shown}`);
	assert.doesNotMatch(
		shown,
		/[\u202a-\u202e\u2066-\u2069]/,
		`${where}: a bidi control: ${JSON.stringify(shown)}`,
	);
	assert.doesNotMatch(shown, /(?!\n)\p{Cc}/u, `${where}: a control: ${JSON.stringify(shown)}`);
	const prose = shown.replace(/`[^`\n]*`/g, '');
	assert.doesNotMatch(
		prose,
		/(?<!\\)\]\(|(?<!\\)\*\*|(?<!\\)__|(?<!\\)~~|(?<!\\)\|\|/,
		`${where}: markdown: ${shown}`,
	);
}
