import { STATUS_CODES } from 'node:http';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { UserFacingError } from '../errors.js';
import { connections, formatDuration, parseBase, readBody, transportFailure } from './http.js';

/**
 * Wooxy API client (docs/providers.md C.2 and the webhook-create page): every call is a POST with
 * a JSON body to `https://api.wooxy.com/v3/…`, authenticated by the `Access-Token` header. Wooxy asks for
 * "no more than 10 concurrent API requests", so one client is meant to be shared by the whole process: a
 * FIFO semaphore keeps at most `maxConcurrent` requests in flight, later calls queue.
 *
 * Every failure is a `WooxyError` whose message can be shown to staff as it is. The token never appears in
 * an error (message or property): Wooxy's own texts that echo it ("no matches found for access token …")
 * are redacted to `[token]`. Nor does the hook secret: Wooxy's texts that echo a webhook URL (which carries
 * it) are redacted to `[secret]` before anyone shows or logs them.
 */

export interface WooxyWebhook {
	id: string;
	title: string;
	url: string;
	domain?: { id: string; name: string };
	events: string[];
	createdAt?: string;
}

export type WooxyErrorKind = 'api' | 'auth' | 'network' | 'timeout' | 'protocol' | 'config';

export class WooxyError extends UserFacingError {
	override name = 'WooxyError';

	constructor(
		message: string,
		readonly kind: WooxyErrorKind,
		readonly apiErrors: string[] = [],
	) {
		super(message);
	}
}

export interface WooxyClientOptions {
	/** Base URL without the `/v3/…` part, e.g. `https://api.wooxy.com` (`config.wooxy.apiUrl`). */
	apiUrl: string;
	/** The API key (`config.wooxy.apiToken`); without it every call fails with kind `config`. */
	token?: string;
	/** Other secrets to keep out of errors: the hook secret, which is in every webhook URL hookcord sends. */
	secrets?: string[];
	/** Per request, from taking a slot to the last byte of the answer. Default 10 000 ms. */
	timeoutMs?: number;
	/** Requests in flight at once across the client. Default 10, Wooxy's documented maximum. */
	maxConcurrent?: number;
}

export interface CreateWebhookInput {
	title: string;
	url: string;
	events: string[];
	/** Exactly one of `domain` (a domain name) and `domainId`. */
	domain?: string;
	domainId?: string;
}

export interface WooxyClient {
	createWebhook(input: CreateWebhookInput): Promise<WooxyWebhook>;
	listWebhooks(): Promise<WooxyWebhook[]>;
	removeWebhook(id: string): Promise<void>;
	/** Requests currently in flight (for tests and metrics). */
	readonly inFlight: number;
	/** Rejects queued calls, lets in-flight ones finish (each is bounded by the timeout), closes sockets. */
	close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_CONCURRENT = 10;
/** Wooxy's answers are a few kilobytes; anything far larger is not a Wooxy API answer. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const TOKEN_HINT = 'check WOOXY_API_TOKEN';
/** Wooxy's documented "list is empty" answer for /v3/webhook/list. */
const NO_WEBHOOKS = /^there is no web ?hook configurations? in your account\.?$/i;
/** Wooxy's documented texts that mean the key itself was refused. */
const AUTH_ERRORS = [
	/invalid authorization token/i,
	/no matches found for access token/i,
	/access token check failed/i,
	/no data found for key/i,
	/^user \S+ not enabled/i,
];

// ---------------------------------------------------------------------------------------------------------
// Response schemas
// ---------------------------------------------------------------------------------------------------------

const Id = z.union([z.string().min(1), z.number().int().nonnegative()]).transform(String);

const Webhook = z
	.object({
		id: Id,
		title: z.string(),
		url: z.string(),
		// The docs' table calls `domain` a string, but documents `domain.id`/`domain.name` and the example
		// is an object: take the object, and leave the domain out when it is anything else.
		domain: z
			.unknown()
			.optional()
			.transform((value) => {
				const parsed = z.object({ id: Id, name: z.string() }).safeParse(value);
				return parsed.success ? parsed.data : undefined;
			}),
		events: z.array(z.string()),
		createdAt: z.string().nullish(),
	})
	.transform(
		({ id, title, url, domain, events, createdAt }): WooxyWebhook => ({
			id,
			title,
			url,
			...(domain && { domain }),
			events,
			...(createdAt && { createdAt }),
		}),
	);

const CreateAnswer = z.object({ result: z.literal(true), config: Webhook });
const ListAnswer = z.object({ result: z.literal(true), data: z.array(Webhook).nullish() });
const RemoveAnswer = z.object({ result: z.literal(true) });
/** `{result:false, errors:[...]}`; `errors` is taken leniently (strings, objects or one string). */
const ErrorAnswer = z.object({ result: z.literal(false), errors: z.unknown().optional() });

// ---------------------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------------------

export function createWooxyClient(options: WooxyClientOptions): WooxyClient {
	const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
	const maxConcurrent = options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT;
	if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
		throw new RangeError('timeoutMs must be a positive number');
	const token = options.token?.trim() || undefined;
	const base = parseBase(options.apiUrl);
	const closedError = () => new WooxyError('The Wooxy client is closed', 'config');
	const pool = connections(
		new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }),
		maxConcurrent,
		closedError,
	);
	const { agent } = pool;
	const secrets = (options.secrets ?? []).filter(Boolean);
	const redact = (text: string) => redactSecrets(redactToken(text, token), secrets);

	async function call(operation: string, body: Record<string, unknown>): Promise<unknown> {
		if (pool.closed) throw closedError();
		if (!token) throw new WooxyError('WOOXY_API_TOKEN is not set', 'config');
		if (!/^[\x21-\x7e]+$/.test(token)) {
			throw new WooxyError('WOOXY_API_TOKEN contains characters that cannot be sent in a header', 'config');
		}
		if (!base) throw new WooxyError('WOOXY_API_URL is not a valid http(s) URL', 'config');
		const release = await pool.acquire();
		const timer = new AbortController();
		const timeout = setTimeout(() => timer.abort(), timeoutMs);
		try {
			return await send(operation, body, token, timer.signal);
		} catch (error) {
			if (error instanceof WooxyError) throw error;
			throw toTransportError(error, timer.signal.aborted, timeoutMs);
		} finally {
			clearTimeout(timeout);
			release();
		}
	}

	async function send(operation: string, body: Record<string, unknown>, key: string, signal: AbortSignal) {
		const response = await request(`${base}/v3/${operation}`, {
			method: 'POST',
			dispatcher: agent,
			signal,
			headers: { 'access-token': key, 'content-type': 'application/json', accept: 'application/json' },
			body: JSON.stringify(body),
		});
		const text = await readBody(
			response.body,
			MAX_BODY_BYTES,
			() => new WooxyError('Wooxy sent an answer larger than 4 MB', 'protocol'),
		);
		const status = response.statusCode;
		let json: unknown;
		let isJson = false;
		try {
			json = JSON.parse(text);
			isJson = true;
		} catch {
			// handled below
		}
		const failure = isJson ? ErrorAnswer.safeParse(json) : undefined;
		const apiErrors = failure?.success ? normaliseErrors(failure.data.errors).map(redact) : [];
		if (status === 401 || status === 403 || apiErrors.some((e) => AUTH_ERRORS.some((re) => re.test(e)))) {
			const said =
				apiErrors.length > 0 ? apiErrors.join('; ') : `HTTP ${status} ${statusText(status)}`.trim();
			throw new WooxyError(`Wooxy refused the API key (${said}): ${TOKEN_HINT}`, 'auth', apiErrors);
		}
		if (failure?.success) {
			if (
				operation === 'webhook/list' &&
				apiErrors.length > 0 &&
				apiErrors.every((e) => NO_WEBHOOKS.test(e))
			) {
				return { result: true, data: [] };
			}
			const said = apiErrors.length > 0 ? apiErrors.join('; ') : 'no reason given';
			throw new WooxyError(`Wooxy refused the request: ${said}`, 'api', apiErrors);
		}
		if (status < 200 || status > 299) {
			throw new WooxyError(`Wooxy answered HTTP ${status} ${statusText(status)}`.trim(), 'api');
		}
		if (!isJson) {
			throw new WooxyError(
				`Wooxy sent an answer to ${operation} that is not JSON (HTTP ${status})`,
				'protocol',
			);
		}
		return json;
	}

	function parse<T>(schema: z.ZodType<T>, operation: string, json: unknown): T {
		const result = schema.safeParse(json);
		if (result.success) return result.data;
		const issue = result.error.issues[0];
		const where = issue?.path.length ? issue.path.join('.') : 'body';
		throw new WooxyError(
			`Wooxy sent an unexpected answer to ${operation} (${where}: ${issue?.message ?? 'invalid'})`,
			'protocol',
		);
	}

	return {
		async createWebhook(input) {
			const domain = input.domain?.trim() || undefined;
			const domainId = input.domainId?.trim() || undefined;
			if (domain && domainId) {
				throw new WooxyError('Give either a domain or a domain id for the Wooxy webhook, not both', 'config');
			}
			if (!domain && !domainId) {
				throw new WooxyError('A domain or a domain id is required for the Wooxy webhook', 'config');
			}
			const body = {
				title: input.title,
				url: input.url,
				...(domainId ? { domainId } : { domain }),
				events: input.events,
			};
			const json = await call('webhook/create', body);
			return parse(CreateAnswer, 'webhook/create', json).config;
		},

		async listWebhooks() {
			const json = await call('webhook/list', {});
			return parse(ListAnswer, 'webhook/list', json).data ?? [];
		},

		async removeWebhook(id) {
			const trimmed = id.trim();
			const asNumber = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
			const wireId = Number.isSafeInteger(asNumber) ? asNumber : trimmed;
			const json = await call('webhook/remove', { id: wireId });
			parse(RemoveAnswer, 'webhook/remove', json);
		},

		get inFlight() {
			return pool.inFlight;
		},

		close: pool.close,
	};
}

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

function normaliseErrors(errors: unknown): string[] {
	const list = Array.isArray(errors)
		? errors
		: typeof errors === 'string'
			? [errors]
			: errors && typeof errors === 'object'
				? Object.values(errors)
				: [];
	return list
		.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)))
		.filter((item): item is string => typeof item === 'string' && item.length > 0);
}

/** Replaces the token (and whatever Wooxy quotes as the token) with `[token]`. */
function redactToken(text: string, token: string | undefined): string {
	let out = text;
	if (token) {
		for (const form of new Set([token, encodeURIComponent(token)])) out = out.split(form).join('[token]');
	}
	return out
		.replace(/(no matches found for access token\s+)(?!\[token\])\S+/gi, '$1[token]')
		.replace(/(access token check failed for key\/secret\s+)\S+/gi, '$1[key]/[token]');
}

/** Replaces each secret, as written and as a URL encodes it, with `[secret]`. */
function redactSecrets(text: string, secrets: string[]): string {
	let out = text;
	for (const secret of secrets) {
		for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('[secret]');
	}
	return out;
}

function toTransportError(error: unknown, timedOut: boolean, timeoutMs: number): WooxyError {
	const failure = transportFailure(error, timedOut);
	if (failure.kind === 'timeout')
		return new WooxyError(`Wooxy did not answer within ${formatDuration(timeoutMs)}`, 'timeout');
	return new WooxyError(`Could not reach Wooxy (${failure.code})`, 'network');
}

function statusText(status: number): string {
	return STATUS_CODES[status] ?? '';
}
