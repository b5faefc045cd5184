/**
 * A Wooxy API test double on 127.0.0.1: `/v3/webhook/create`, `/v3/webhook/list`, `/v3/webhook/remove`.
 *
 * Facts mirrored from docs/providers.md C.1 (webhook-create) and C.2:
 * - every call is a POST with a JSON body and the `Access-Token` header;
 * - errors are answered in the body as `{result:false, errors:[...]}` with HTTP 200, using the docs' texts;
 * - a wrong or missing token answers "Invalid authorization token!";
 * - create validates title/url/events/domain as the doc's error list describes, and answers `config` with the
 *   id as an integer (the docs' table says integer, the example a string; the client takes both);
 * - list answers `data[]` with `createdAt` as "YYYY-MM-DD HH:MM:SS", or the documented
 *   "There is no web hook configurations in your account" error when there is none;
 * - remove takes `{id}` (a positive integer) and answers `{result:true}`.
 *
 * Not documented, so chosen here: a wrong method, a non-JSON content type or an unparsable body answer
 * HTTP 400 "Bad Request" (one of the documented texts); an unknown path answers HTTP 404.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The event names Wooxy registers, copied here from its documentation (docs/providers.md C.2, from the
 * webhook-create page) rather than imported from hookcord, so the double cannot agree with a mistake in
 * hookcord's own table. Note `sms_delivered` with an underscore, as documented.
 */
export const DOCUMENTED_EVENTS = [
	// Email
	'read',
	'delivered',
	'click',
	'reject',
	'complaint',
	'hard',
	'subscribed',
	'soft',
	'unsubscribed',
	'email-subscribed',
	'email-unsubscribed',
	'list-unsubscribe',
	// Viber
	'viber-delivered',
	'viber-failed',
	'viber-expired',
	'viber-rejected',
	'viber-viewed',
	'viber-clicked',
	'viber-contact-channel-subscribed',
	'viber-contact-channel-unsubscribed',
	// SMS
	'sms_delivered',
	'sms-clicked',
	'sms-subscribed',
	'sms-unsubscribed',
	// Web push
	'web-push-delivered',
	'web-push-displayed',
	'web-push-clicked',
	'web-push-undelivered',
	'web-push-expired',
	'web-push-dismissed',
] as const;
const REGISTERED_EVENTS = new Set<string>(DOCUMENTED_EVENTS);

export interface WooxyDoubleOptions {
	/** The API key the double accepts. */
	token?: string;
	/** Hold every answer this long, so concurrency is observable. */
	delayMs?: number;
	/** Verified domains of the account. */
	domains?: { id: string; name: string }[];
}

export interface WooxyRecordedRequest {
	method: string;
	path: string;
	headers: IncomingHttpHeaders;
	/** Parsed JSON, or the raw text when it is not JSON; `undefined` when empty. */
	body: unknown;
}

export interface WooxyStoredWebhook {
	id: number;
	title: string;
	url: string;
	domain: { id: string; name: string };
	events: string[];
	createdAt: string;
}

export interface WooxyFault {
	/** HTTP status (default 200). */
	status?: number;
	/** JSON body, or a string sent as it is (for malformed answers). Default `{result:false, errors:['Internal server error']}`. */
	body?: unknown;
	/** Never answer; the socket stays open until the client gives up or the double closes. */
	hang?: boolean;
}

export interface WooxyDouble {
	url: string;
	token: string;
	requests: WooxyRecordedRequest[];
	/** The account's current webhooks. */
	readonly webhooks: WooxyStoredWebhook[];
	/** Highest number of requests being handled at once. */
	readonly maxInFlight: number;
	readonly inFlight: number;
	/** Answer the next request (after recording it) with this instead of the real behaviour. Queued, FIFO. */
	failNext(response: WooxyFault): void;
	/** An empty account again: no webhooks, requests, faults or in-flight maximum (per-test state). */
	reset(): void;
	close(): Promise<void>;
}

const DEFAULT_TOKEN = 'wooxy-test-token-5f3a9c1e7b';
const DEFAULT_DOMAINS = [
	{ id: '101', name: 'mail.example.com' },
	{ id: '102', name: 'news.example.org' },
];

type Answer = { status: number; body: unknown };
const ok = (body: Record<string, unknown> = {}): Answer => ({ status: 200, body: { result: true, ...body } });
const fail = (...errors: string[]): Answer => ({ status: 200, body: { result: false, errors } });

export async function startWooxyDouble(options: WooxyDoubleOptions = {}): Promise<WooxyDouble> {
	const token = options.token ?? DEFAULT_TOKEN;
	const delayMs = options.delayMs ?? 0;
	const domains = options.domains ?? DEFAULT_DOMAINS;
	const requests: WooxyRecordedRequest[] = [];
	const webhooks: WooxyStoredWebhook[] = [];
	const faults: WooxyFault[] = [];
	const sockets = new Set<Socket>();
	const timers = new Set<NodeJS.Timeout>();
	let nextId = 1;
	let inFlight = 0;
	let maxInFlight = 0;

	const server = createServer((req, res) => {
		inFlight++;
		maxInFlight = Math.max(maxInFlight, inFlight);
		res.on('close', () => {
			inFlight--;
		});
		void handle(req, res).catch(() => {
			if (!res.headersSent)
				send(res, { status: 500, body: { result: false, errors: ['Internal server error'] } });
		});
	});
	server.on('connection', (socket) => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});

	async function handle(req: IncomingMessage, res: ServerResponse) {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		const text = Buffer.concat(chunks).toString('utf8');
		let body: unknown = text === '' ? undefined : text;
		let isJson = false;
		try {
			body = JSON.parse(text);
			isJson = true;
		} catch {
			// kept as text
		}
		const path = (req.url ?? '/').split('?')[0] ?? '/';
		requests.push({ method: req.method ?? '', path, headers: req.headers, body });

		const fault = faults.shift();
		if (fault?.hang) return;
		const answer: Answer = fault
			? {
					status: fault.status ?? 200,
					body: fault.body ?? { result: false, errors: ['Internal server error'] },
				}
			: route(req, path, isJson, body);
		if (delayMs > 0) {
			await new Promise<void>((resolve) => {
				const timer = setTimeout(() => {
					timers.delete(timer);
					resolve();
				}, delayMs);
				timers.add(timer);
			});
		}
		if (!res.destroyed) send(res, answer);
	}

	function route(req: IncomingMessage, path: string, isJson: boolean, body: unknown): Answer {
		const operation = /^\/v3\/webhook\/(create|list|remove)\/?$/.exec(path)?.[1];
		if (!operation) return { status: 404, body: { result: false, errors: ['Not Found'] } };
		if (req.method !== 'POST') return { status: 400, body: { result: false, errors: ['Bad Request'] } };
		if (req.headers['access-token'] !== token) return fail('Invalid authorization token!');
		const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
		if (contentType !== 'application/json' || !isJson || typeof body !== 'object' || body === null) {
			return { status: 400, body: { result: false, errors: ['Bad Request'] } };
		}
		const input = body as Record<string, unknown>;
		if (operation === 'create') return create(input);
		if (operation === 'list') return list();
		return remove(input);
	}

	function create(input: Record<string, unknown>): Answer {
		const errors: string[] = [];
		const { title, url, events, domain, domainId } = input;

		if (title === undefined) errors.push('Argument title required');
		else if (typeof title !== 'string') errors.push('Argument title must be a string');
		else if (title.trim() === '') errors.push('Argument title must be a non-empty string');
		else if (title.length > 250)
			errors.push('Argument title must be a string with max length within 250 characters');

		if (url === undefined) errors.push('Argument url required');
		else if (typeof url !== 'string' || url.trim() === '')
			errors.push('Argument url must be a non-empty string');
		else if (url.length > 2048) errors.push('Argument url can not be longer than 2048');
		else if (!isUri(url)) errors.push('Argument url must be a valid URI');

		if (events === undefined) errors.push('Argument events required');
		else if (!Array.isArray(events) || events.length === 0) {
			errors.push('Argument events must be an array of allowed event names');
		} else {
			const seen = new Map<string, string>();
			for (const event of events) {
				if (typeof event !== 'string' || event.trim() === '') {
					errors.push('Each event must be a not empty string with registered event type');
				} else if (!REGISTERED_EVENTS.has(event)) {
					errors.push(`Event type ${event} is not registered`);
				} else if (seen.has(event.toLowerCase())) {
					errors.push(`Event type ${event} is duplicated as ${seen.get(event.toLowerCase())}`);
				} else seen.set(event.toLowerCase(), event);
			}
		}

		let found: { id: string; name: string } | undefined;
		if (domain !== undefined && domainId !== undefined) errors.push('Only one domain identifier is allowed');
		else if (domain === undefined && domainId === undefined) {
			errors.push('Minimum one unique domain identification (domainId or domain) is required.');
		} else if (domainId !== undefined) {
			if (typeof domainId !== 'string' || domainId.trim() === '') {
				errors.push('Argument domainId must be a non-empty string');
			} else {
				found = domains.find((d) => d.id === domainId);
				if (!found) errors.push(`Domain ${domainId} not found`);
			}
		} else if (typeof domain !== 'string' || domain.trim() === '') {
			errors.push('Argument domain must be a non-empty string');
		} else if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(domain)) {
			errors.push('Argument domain must be a valid domain name');
		} else {
			found = domains.find((d) => d.name.toLowerCase() === domain.toLowerCase());
			if (!found) errors.push(`Domain ${domain} not found`);
		}

		if (errors.length > 0) return fail(...errors);
		const domainRef = found as { id: string; name: string };
		if (webhooks.some((w) => w.domain.id === domainRef.id && w.url === url)) {
			return fail('Web hook with such URL is already registered for selected domain');
		}
		const webhook: WooxyStoredWebhook = {
			id: nextId++,
			title: title as string,
			url: url as string,
			domain: { ...domainRef },
			events: [...(events as string[])],
			createdAt: new Date().toISOString().slice(0, 19).replace('T', ' '),
		};
		webhooks.push(webhook);
		const { createdAt: _createdAt, ...config } = webhook;
		return ok({ config });
	}

	function list(): Answer {
		if (webhooks.length === 0) return fail('There is no web hook configurations in your account');
		return ok({ data: webhooks.map((w) => ({ ...w, domain: { ...w.domain }, events: [...w.events] })) });
	}

	function remove(input: Record<string, unknown>): Answer {
		const { id } = input;
		if (id === undefined) return fail('Argument id required');
		if (typeof id !== 'number' || !Number.isInteger(id) || id <= 0) {
			return fail('Argument id must be a positive integer');
		}
		const index = webhooks.findIndex((w) => w.id === id);
		if (index === -1) return fail(`Web hook config ${id} not found in your account`);
		webhooks.splice(index, 1);
		return ok();
	}

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			server.off('error', reject);
			resolve();
		});
	});
	const { port } = server.address() as AddressInfo;

	return {
		url: `http://127.0.0.1:${port}`,
		token,
		requests,
		get webhooks() {
			return webhooks;
		},
		get maxInFlight() {
			return maxInFlight;
		},
		get inFlight() {
			return inFlight;
		},
		failNext(response) {
			faults.push(response);
		},
		reset() {
			webhooks.length = 0;
			requests.length = 0;
			faults.length = 0;
			maxInFlight = inFlight;
		},
		async close() {
			for (const timer of timers) clearTimeout(timer);
			timers.clear();
			const closed = new Promise<void>((resolve) => server.close(() => resolve()));
			server.closeAllConnections();
			for (const socket of sockets) socket.destroy();
			await closed;
		},
	};
}

function send(res: ServerResponse, answer: Answer) {
	const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
	res.writeHead(answer.status, {
		'content-type': typeof answer.body === 'string' ? 'text/html; charset=utf-8' : 'application/json',
		'content-length': Buffer.byteLength(text),
	});
	res.end(text);
}

function isUri(value: string): boolean {
	try {
		const url = new URL(value);
		return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
	} catch {
		return false;
	}
}
