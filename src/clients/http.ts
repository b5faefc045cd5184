/**
 * What the provider API clients share: the base URL check, a size-bounded body read, and turning
 * undici's transport failures into "timed out" or "could not reach" with a code that is safe to show
 * (never a URL, header or credential), and the connections with their bound on calls in flight.
 */

import { setMaxListeners } from 'node:events';
import type { Agent } from 'undici';
import { Semaphore } from './semaphore.js';

/**
 * A client's connections: `agent`, at most `maxConcurrent` calls in flight (the rest queue in arrival
 * order), and one `close()` that refuses new and queued calls (`closedError()`) and closes the agent.
 */
export function connections(agent: Agent, maxConcurrent: number, closedError: () => Error) {
	const slots = new Semaphore(maxConcurrent);
	const closing = new AbortController();
	// Every queued call listens on this signal; the queue is bounded only by the callers.
	setMaxListeners(0, closing.signal);
	let closed: Promise<void> | undefined;
	return {
		agent,
		get closed() {
			return closing.signal.aborted;
		},
		/**
		 * Waits for a slot; resolves with its release. Rejects with `closedError()` when the client closes,
		 * and with `signal`'s reason when the caller gives up first (it then leaves the queue).
		 */
		async acquire(signal?: AbortSignal): Promise<() => void> {
			try {
				return await slots.acquire(signal ? AbortSignal.any([closing.signal, signal]) : closing.signal);
			} catch (error) {
				if (closing.signal.aborted) throw closedError();
				throw error;
			}
		},
		get inFlight() {
			return slots.active;
		},
		close(): Promise<void> {
			if (!closed) {
				closing.abort();
				closed = agent.close();
			}
			return closed;
		},
	};
}

/** `https://host/base/` ─▶ `https://host/base`; undefined unless it is an http(s) URL. */
export function parseBase(apiUrl: string): string | undefined {
	try {
		const url = new URL(apiUrl);
		if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
		return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
	} catch {
		return undefined;
	}
}

/** Reads a response body as UTF-8, throwing `tooLarge()` past `maxBytes` (the stream is destroyed). */
export async function readBody(
	body: AsyncIterable<Buffer | Uint8Array>,
	maxBytes: number,
	tooLarge: () => Error,
): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of body) {
		size += chunk.length;
		// Leaving the loop by a throw destroys the stream.
		if (size > maxBytes) throw tooLarge();
		chunks.push(Buffer.from(chunk));
	}
	return Buffer.concat(chunks).toString('utf8');
}

const TIMEOUT_CODES = new Set([
	'UND_ERR_HEADERS_TIMEOUT',
	'UND_ERR_BODY_TIMEOUT',
	'UND_ERR_CONNECT_TIMEOUT',
	'ETIMEDOUT',
]);

/** A failed request: `timeout` when our timer fired or undici gave up waiting, else `network` with its code. */
export function transportFailure(
	error: unknown,
	timedOut: boolean,
): { kind: 'timeout' } | { kind: 'network'; code: string } {
	const code = errorCode(error);
	if (timedOut || (code && TIMEOUT_CODES.has(code))) return { kind: 'timeout' };
	return { kind: 'network', code: code ?? 'unknown network error' };
}

function errorCode(error: unknown): string | undefined {
	let current: unknown = error;
	for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
		const code = (current as { code?: unknown }).code;
		if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
		const inner = (current as { errors?: unknown[]; cause?: unknown }).errors?.[0];
		current = inner ?? (current as { cause?: unknown }).cause;
	}
	return undefined;
}

export function formatDuration(ms: number): string {
	if (ms < 1000) return `${ms} ms`;
	const seconds = ms / 1000;
	return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}

/**
 * Every form a credential takes in a request, and so in an answer that quotes the request: as written,
 * percent-encoded (as `encodeURIComponent` and as a form body write it, in either hex case), escaped in
 * JSON and in XML, and base64 as in a Basic header (padded or not).
 */
export function credentialForms(secret: string): string[] {
	const percent = encodeURIComponent(secret);
	const form = new URLSearchParams({ s: secret }).toString().slice(2);
	const base64 = Buffer.from(secret).toString('base64');
	const forms = [
		secret,
		percent,
		percent.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
		form,
		form.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
		JSON.stringify(secret).slice(1, -1),
		secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
		base64,
		base64.replace(/=+$/, ''),
	];
	// Longest first, so a form containing another is replaced whole.
	return [...new Set(forms)].filter(Boolean).sort((a, b) => b.length - a.length);
}

/** Replaces every form (see credentialForms) of each secret with `label`. Linear in the text per form. */
export function redactor(secrets: readonly (string | undefined)[], label: string): (text: string) => string {
	const forms = [
		...new Set(secrets.filter((secret): secret is string => !!secret).flatMap(credentialForms)),
	].sort((a, b) => b.length - a.length);
	return (text) => {
		let out = text;
		for (const form of forms) if (out.includes(form)) out = out.split(form).join(label);
		return out;
	};
}

/** `value` with `redact` applied to every string in it (arrays and plain objects walked). */
export function redactDeep<T>(value: T, redact: (text: string) => string): T {
	if (typeof value === 'string') return redact(value) as T;
	if (Array.isArray(value)) return value.map((item) => redactDeep(item, redact)) as T;
	if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
		return Object.fromEntries(
			Object.entries(value).map(([key, item]) => [key, redactDeep(item, redact)]),
		) as T;
	return value;
}
