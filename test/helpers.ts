import assert from 'node:assert/strict';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { type Config, parseConfig } from '../src/config.js';
import type { Destination } from '../src/delivery/destinations.js';
import { routeTopics } from '../src/delivery/destinations.js';
import { createOutbox } from '../src/delivery/outbox.js';
import type { OutgoingMessage } from '../src/delivery/senders.js';
import { createWorker } from '../src/delivery/worker.js';
import type { InteractionsOptions } from '../src/discord/interactions-route.js';
import type { ParsedEvent } from '../src/events/event.js';
import { PayloadError } from '../src/providers/fields.js';
import { createIngest } from '../src/state/ingest.js';
import { KeyedLock } from '../src/state/keyed-lock.js';
import { createProjector } from '../src/state/projector.js';
import { openStore, type Store } from '../src/state/store.js';

export const SECRET = 'test-secret-0123456789';
export const silent = pino({ level: 'silent' });

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

export interface Sent {
	destination: Destination;
	message: OutgoingMessage;
}

export interface TestAppOptions {
	store?: Store;
	logger?: FastifyBaseLogger;
	/** Enables `POST /interactions` (DISCORD_PUBLIC_KEY must be in `env` to match). */
	interactions?: InteractionsOptions;
}

/**
 * The receiver with its real store, ingest and worker, sending into an array: for route tests through
 * `inject()` without a network. The returned `outbox` is the one ingest and the worker use.
 */
export async function buildTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}) {
	const config = testConfig(env);
	const theStore = options.store ?? (await openStore(config.storeUrl));
	const sent: Sent[] = [];
	const lock = new KeyedLock();
	const project = createProjector(theStore, lock);
	const outbox = createOutbox(theStore);
	const worker = createWorker({
		outbox,
		send: async (destination, message) => {
			sent.push({ destination, message });
		},
		route: routeTopics(config),
		project,
		log: silent,
		retrySchedule: config.delivery.retrySchedule,
		retryBudget: config.delivery.retryBudget,
	});
	const ingest = createIngest({
		outbox,
		project,
		store: theStore,
		lock,
		log: silent,
		notify: worker.enqueue,
	});
	const app = await buildApp({
		config,
		store: theStore,
		ingest,
		hookSecret: config.hookSecret ?? SECRET,
		delivery: worker,
		logger: options.logger ?? silent,
		...(options.interactions && { interactions: options.interactions }),
	});
	await worker.start();
	app.addHook('onClose', () => worker.stop());
	return { app, store: theStore, worker, sent, outbox, config };
}

/** `a=1&b=2` from a record. */
export function form(fields: Record<string, string>): string {
	return new URLSearchParams(fields).toString();
}

/** A multipart/form-data body of text fields, as MOFH may post. */
export function multipart(
	fields: Record<string, string>,
	boundary = 'hookcordboundary',
): { body: string; contentType: string } {
	const parts = Object.entries(fields).map(
		([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
	);
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

/**
 * One process's worth of hookcord on `store` with no HTTP: ingest plus a worker whose Discord sends run
 * `script` (throw a DeliveryError to fail one). `attempts` records every send, `sent` the ones that went
 * through. The worker is not started.
 */
export function deliveryHarness(
	store: Store,
	script: (message: OutgoingMessage) => void | Promise<void> = () => {},
	options: { retryBudget?: number; retrySchedule?: number[]; pauseMs?: number; sweepMs?: number } = {},
) {
	const config = testConfig({ ALERTS_CHANNEL: '100000000000000001', DISCORD_TOKEN: 'x' });
	const attempts: OutgoingMessage[] = [];
	const sent: OutgoingMessage[] = [];
	const lock = new KeyedLock();
	const project = createProjector(store, lock);
	const outbox = createOutbox(store);
	const worker = createWorker({
		outbox,
		send: async (_destination, message) => {
			attempts.push(message);
			await script(message);
			sent.push(message);
		},
		route: routeTopics(config),
		project,
		log: silent,
		retrySchedule: options.retrySchedule ?? [5, 10],
		retryBudget: options.retryBudget ?? 60_000,
		...(options.pauseMs !== undefined && { pauseMs: options.pauseMs }),
		sweepMs: options.sweepMs ?? 50,
	});
	const ingest = createIngest({ outbox, project, store, lock, log: silent, notify: worker.enqueue });
	return { attempts, sent, ids: () => eventIds(sent), outbox, worker, ingest };
}

/** Reject if `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
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

/** Wooxy's documented webhook body (NOTES.md C.1), with the comma the doc's example misses. */
export const WOOXY_EXAMPLE = {
	datetime: 1234567890,
	event: 'read',
	email: 'user@example.com',
	id: '5537ab2a08d241dc69326b19',
	userId: 'myUserId-1',
	headers: { 'X-Additional-Header': 'additional-header-value' },
} as const;
