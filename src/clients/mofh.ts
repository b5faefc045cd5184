import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { UserFacingError } from '../errors.js';
import {
	connections,
	formatDuration,
	parseBase,
	readBody,
	redactDeep,
	redactor,
	transportFailure,
} from './http.js';
import {
	type ActionResult,
	actionResult,
	type DomainOwner,
	domainOwner,
	type MofhAnswer,
	readAnswer,
	ticketAnswer,
	type UserDomain,
	userDomains,
} from './mofh-answer.js';

export type { ActionResult, DomainOwner, UserDomain };

/**
 * MOFH reseller API client (docs/providers.md A.2). Account calls (suspend, unsuspend) are POSTs
 * with HTTP Basic auth and form fields, naming the account by its 8-character **key**; look-ups are
 * GETs with `api_user`/`api_key` in the query, naming it by its **vPanel username** or a domain.
 * Timeouts follow InfinityFree's client: connect 5 s, GET 10 s, POST 60 s. A FIFO semaphore bounds
 * the requests in flight. Every failure is a `MofhError` whose message can be shown to staff; neither
 * the API password nor the request URL (which carries it for look-ups) ever appears in one.
 */

/**
 * `busy`: no connection came free within `slotWaitMs`, `cancelled`: the caller gave up while it waited;
 * in both cases nothing was sent.
 */
export type MofhErrorKind =
	| 'config'
	| 'input'
	| 'auth'
	| 'refused'
	| 'timeout'
	| 'network'
	| 'protocol'
	| 'busy'
	| 'cancelled';

export class MofhError extends UserFacingError {
	override name = 'MofhError';

	constructor(
		message: string,
		readonly kind: MofhErrorKind,
	) {
		super(message);
	}
}

export interface MofhClientOptions {
	/** Base URL, e.g. `https://panel.myownfreehost.net` (`config.mofh.apiUrl`). */
	apiUrl: string;
	username?: string;
	password?: string;
	connectTimeoutMs?: number;
	getTimeoutMs?: number;
	postTimeoutMs?: number;
	/** Requests in flight at once across the client. MOFH documents no limit; default 4. */
	maxConcurrent?: number;
	/**
	 * How long a call waits for one of those connections before giving up with nothing sent (`busy`).
	 * Default 15 s: a staff action is either sent soon after its click or not at all.
	 */
	slotWaitMs?: number;
}

/** How an account call is sent, for a caller that must know whether it left. */
export interface SendOptions {
	/** Aborting it while the call waits for a connection gives up with nothing sent (`cancelled`). */
	signal?: AbortSignal;
	/**
	 * Runs once a connection is held, just before the request leaves; if it throws, nothing is sent
	 * (`cancelled`). What the caller records here is the moment MOFH may start acting.
	 */
	beforeSend?: () => Promise<void>;
}

export interface SuspendInput {
	key: string;
	reason: string;
	/** Also suspend related accounts (same e-mail or IP address). */
	linked?: boolean;
}

/** A ticket opened with MOFH/iFastNet support on behalf of one hosting account (supportnewticket). */
export interface NewTicketInput {
	/** The account's vPanel username (`clientusername`). */
	username: string;
	subject: string;
	message: string;
	/** The domain the ticket is about (`domain_name`). */
	domain?: string;
	/** The address of the account holder who raised the problem (`ipaddress`). */
	ip: string;
}

/** The account's reply to a ticket (supportreplyticket). */
export interface TicketReplyInput {
	ticketId: string;
	username: string;
	message: string;
	domain?: string;
	ip: string;
}

export interface MofhClient {
	/** Both credentials are set: commands check this before asking for a confirmation. */
	readonly configured: boolean;
	/** What to set when `configured` is false. */
	readonly missing: string[];
	getDomainUser(domain: string): Promise<DomainOwner | null>;
	getUserDomains(username: string): Promise<UserDomain[]>;
	/** Resolves with MOFH's answer, done or refused; throws only when there is no answer to show. */
	suspend(input: SuspendInput, send?: SendOptions): Promise<ActionResult>;
	unsuspend(key: string, send?: SendOptions): Promise<ActionResult>;
	/** Opens a ticket; resolves with its id (a string: leading zeros count). MOFH's refusal is a `refused` MofhError. */
	openTicket(input: NewTicketInput): Promise<string>;
	/** Sends the account's reply; MOFH's refusal is a `refused` MofhError. */
	replyTicket(input: TicketReplyInput): Promise<void>;
	readonly inFlight: number;
	close(): Promise<void>;
}

/** 1–8 letters and digits, chosen at createacct (docs/providers.md A.2, Identifiers). */
export const ACCOUNT_KEY = /^[A-Za-z0-9]{1,8}$/;
/** vPanel usernames, `<prefix>_<digits>`, taken as leniently as the callback parser takes them. */
export const VPANEL_USERNAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/i;
/** MOFH ticket ids: six digits in every source; kept as strings. */
export const TICKET_ID = /^\d{1,12}$/;
/** MOFH's answers are a few kilobytes. */
const MAX_BODY_BYTES = 1024 * 1024;
const CREDENTIALS_HINT =
	'check MOFH_API_USERNAME and MOFH_API_PASSWORD (reseller panel ▸ API ▸ Setup WHM API)';
const IP_HINT = "set this server's address as the API Allowed IP (reseller panel ▸ API ▸ Setup WHM API)";

export function createMofhClient(options: MofhClientOptions): MofhClient {
	const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
	const getTimeoutMs = options.getTimeoutMs ?? 10_000;
	const postTimeoutMs = options.postTimeoutMs ?? 60_000;
	const user = options.username?.trim() || undefined;
	const password = options.password || undefined;
	const missing = [...(user ? [] : ['MOFH_API_USERNAME']), ...(password ? [] : ['MOFH_API_PASSWORD'])];
	const base = parseBase(options.apiUrl);
	const closedError = () => new MofhError('The MOFH client is closed', 'config');
	const maxConcurrent = options.maxConcurrent ?? 4;
	const slotWaitMs = options.slotWaitMs ?? 15_000;
	const pool = connections(new Agent({ connect: { timeout: connectTimeoutMs } }), maxConcurrent, closedError);
	const { agent } = pool;
	/**
	 * MOFH's texts can quote the request (a debugging or misconfigured server does): the password and the
	 * Basic credential, in every form, are replaced before any text leaves the client (reply, audit, log).
	 */
	const redact = redactor([password, user && password ? `${user}:${password}` : undefined], '[redacted]');

	/**
	 * `auth`: look-ups (GET) send the credentials as `api_user`/`api_key` in the query; account calls (POST)
	 * as HTTP Basic; ticket calls want both (docs/providers.md A.3): Basic, the parameters in the form
	 * body and the credentials also in the query, as the community docs send them.
	 */
	async function call(
		method: 'GET' | 'POST',
		name: string,
		params: Record<string, string>,
		auth: 'basic' | 'both' = 'basic',
		send: SendOptions = {},
	): Promise<MofhAnswer> {
		if (pool.closed) throw closedError();
		if (!user || !password) {
			throw new MofhError(
				`The MOFH reseller API is not configured: set ${missing.join(' and ')} (reseller panel ▸ API ▸ Setup WHM API).`,
				'config',
			);
		}
		if (!base) throw new MofhError('MOFH_API_URL is not a valid http(s) URL', 'config');
		const release = await slot(name, send);
		const timeoutMs = method === 'GET' ? getTimeoutMs : postTimeoutMs;
		const timer = new AbortController();
		const timeout = setTimeout(() => timer.abort(), timeoutMs);
		try {
			const response =
				method === 'GET'
					? await request(
							`${base}/json-api/${name}?${new URLSearchParams({ api_user: user, api_key: password, ...params })}`,
							{ method, dispatcher: agent, signal: timer.signal, headers: { accept: '*/*' } },
						)
					: await request(
							auth === 'both'
								? `${base}/xml-api/${name}?${new URLSearchParams({ api_user: user, api_key: password })}`
								: `${base}/xml-api/${name}`,
							{
								method,
								dispatcher: agent,
								signal: timer.signal,
								headers: {
									authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
									'content-type': 'application/x-www-form-urlencoded',
									accept: '*/*',
								},
								body: new URLSearchParams(
									auth === 'both' ? { api_user: user, api_key: password, ...params } : params,
								).toString(),
							},
						);
			const text = await readBody(
				response.body,
				MAX_BODY_BYTES,
				() => new MofhError('MOFH sent an answer larger than 1 MB', 'protocol'),
			);
			if (response.statusCode !== 200) {
				// Known calls always answer 200; anything else means the URL is not the MOFH API.
				throw new MofhError(
					`MOFH answered HTTP ${response.statusCode} to ${name}: check MOFH_API_URL`,
					'protocol',
				);
			}
			// Before cleaning (which may cut a quoted credential in two), and after (entities decoded).
			const answer = redactDeep(readAnswer(redact(text)), redact);
			if (answer.kind === 'auth') {
				throw new MofhError(
					`MOFH refused the API access (${answer.message}): ${answer.ip ? IP_HINT : CREDENTIALS_HINT}`,
					'auth',
				);
			}
			return answer;
		} catch (error) {
			if (error instanceof MofhError) throw error;
			const failure = transportFailure(error, timer.signal.aborted);
			if (failure.kind === 'timeout') {
				throw new MofhError(
					method === 'POST'
						? `MOFH did not answer ${name} within ${formatDuration(timeoutMs)}: it may still have done it, check before trying again`
						: `MOFH did not answer ${name} within ${formatDuration(timeoutMs)}`,
					'timeout',
				);
			}
			throw new MofhError(`Could not reach the MOFH API (${failure.code})`, 'network');
		} finally {
			clearTimeout(timeout);
			release();
		}
	}

	/** A connection for `name`, waited for at most slotWaitMs; then `beforeSend`. Nothing is sent on a throw. */
	async function slot(name: string, { signal, beforeSend }: SendOptions): Promise<() => void> {
		const waited = AbortSignal.timeout(slotWaitMs);
		let release: () => void;
		try {
			release = await pool.acquire(signal ? AbortSignal.any([signal, waited]) : waited);
		} catch (error) {
			if (pool.closed) throw closedError();
			if (signal?.aborted)
				throw new MofhError(
					`${name} was cancelled before it was sent: nothing was sent to MOFH`,
					'cancelled',
				);
			if (waited.aborted)
				throw new MofhError(
					`hookcord's ${maxConcurrent} connections to MOFH stayed busy for ${formatDuration(slotWaitMs)}: ${name} was not sent. Try again in a moment.`,
					'busy',
				);
			throw error;
		}
		try {
			if (signal?.aborted)
				throw new MofhError(
					`${name} was cancelled before it was sent: nothing was sent to MOFH`,
					'cancelled',
				);
			await beforeSend?.();
		} catch (error) {
			release();
			if (error instanceof MofhError) throw error;
			// The caller could not get ready (e.g. its store refused the record of the send): not sent.
			throw new MofhError(
				`${name} was not sent to MOFH: ${error instanceof Error ? error.message : String(error)}`,
				'cancelled',
			);
		}
		return release;
	}

	function unexpected(name: string, answer: MofhAnswer): MofhError {
		// MOFH's own refusal text ("ERROR :…") is shown as it is; anything else is a protocol problem.
		if (answer.kind === 'text' && /^error\b/i.test(answer.message))
			return new MofhError(
				`MOFH refused ${name}: ${answer.message.replace(/^error\s*:\s*/i, '')}`,
				'refused',
			);
		const what = answer.kind === 'empty' ? 'an empty answer' : 'an answer hookcord does not understand';
		return new MofhError(`MOFH sent ${what} to ${name}`, 'protocol');
	}

	function checked(value: string, pattern: RegExp, what: string): string {
		const trimmed = value.trim();
		if (!pattern.test(trimmed)) throw new MofhError(`${what}`, 'input');
		return trimmed;
	}

	const keyOf = (key: string) =>
		checked(
			key,
			ACCOUNT_KEY,
			'An account key is 1 to 8 letters and digits (the `user` given at createacct).',
		);

	async function action(
		name: string,
		params: Record<string, string>,
		send?: SendOptions,
	): Promise<ActionResult> {
		const answer = await call('POST', name, params, 'basic', send);
		const result = actionResult(answer);
		if (!result) throw unexpected(name, answer);
		return result;
	}

	/** A ticket call: `SUCCESS[ : id]`, or MOFH's refusal shown as it said it (cleaned). */
	async function ticketCall(name: string, params: Record<string, string>): Promise<string | undefined> {
		const answer = await call('POST', name, params, 'both');
		const result = ticketAnswer(answer);
		if (!result) throw unexpected(name, answer);
		if (!result.ok) throw new MofhError(`MOFH refused ${name}: ${result.message}`, 'refused');
		return result.ticketId;
	}

	function ticketText(value: string, what: string): string {
		const text = value.trim();
		if (!text) throw new MofhError(`Give ${what}.`, 'input');
		return text;
	}

	function ipOf(value: string): string {
		const ip = value.trim();
		if (!isIP(ip))
			throw new MofhError(
				'MOFH needs the IP address of the account holder who raised the problem (ipaddress), e.g. 203.0.113.7.',
				'input',
			);
		return ip;
	}

	const usernameOf = (username: string) =>
		checked(username, VPANEL_USERNAME, 'That is not a vPanel username (e.g. host_12345678).');

	const domainParam = (domain: string | undefined): Record<string, string> =>
		domain?.trim()
			? { domain_name: checked(domain, DOMAIN, 'That is not a domain name.').toLowerCase() }
			: {};

	const client: MofhClient = {
		configured: missing.length === 0,
		missing,

		async getDomainUser(domain) {
			const name = checked(domain, DOMAIN, 'That is not a domain name.').toLowerCase();
			const answer = await call('GET', 'getdomainuser', { domain: name });
			const owner = answer.kind === 'json' ? domainOwner(answer.value) : undefined;
			if (owner === undefined) throw unexpected('getdomainuser', answer);
			return owner;
		},

		async getUserDomains(username) {
			const name = checked(username, VPANEL_USERNAME, 'That is not a vPanel username (e.g. host_12345678).');
			const answer = await call('GET', 'getuserdomains', { username: name });
			const rows = answer.kind === 'json' ? userDomains(answer.value) : undefined;
			if (!rows) throw unexpected('getuserdomains', answer);
			return rows;
		},

		async suspend({ key, reason, linked = false }, send) {
			const text = reason.trim();
			if (!text) throw new MofhError('Give a reason for the suspension.', 'input');
			return action('suspendacct', { user: keyOf(key), reason: text, linked: linked ? '1' : '0' }, send);
		},

		async unsuspend(key, send) {
			return action('unsuspendacct', { user: keyOf(key) }, send);
		},

		async openTicket({ username, subject, message, domain, ip }) {
			const id = await ticketCall('supportnewticket', {
				subject: ticketText(subject, 'a subject'),
				comments: ticketText(message, 'a message'),
				...domainParam(domain),
				clientusername: usernameOf(username),
				ipaddress: ipOf(ip),
			});
			if (!id) throw new MofhError('MOFH said SUCCESS to supportnewticket without a ticket id', 'protocol');
			return id;
		},

		async replyTicket({ ticketId, username, message, domain, ip }) {
			await ticketCall('supportreplyticket', {
				ticket_id: checked(ticketId, TICKET_ID, 'A MOFH ticket id is digits, e.g. 123456.'),
				comments: ticketText(message, 'a message'),
				...domainParam(domain),
				clientusername: usernameOf(username),
				ipaddress: ipOf(ip),
			});
		},

		get inFlight() {
			return pool.inFlight;
		},

		close: pool.close,
	};
	// What MOFH said is cleaned after it leaves call() (a look-up's fields, a refusal): every result and
	// every error message is redacted once more on its way out.
	for (const name of CALLS) {
		const method = client[name] as (...args: unknown[]) => Promise<unknown>;
		(client as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
			try {
				return redactDeep(await method(...args), redact);
			} catch (error) {
				if (error instanceof MofhError) throw new MofhError(redact(error.message), error.kind);
				throw error;
			}
		};
	}
	return client;
}

const CALLS = [
	'getDomainUser',
	'getUserDomains',
	'suspend',
	'unsuspend',
	'openTicket',
	'replyTicket',
] as const satisfies readonly (keyof MofhClient)[];
