import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A MOFH reseller API double on 127.0.0.1 that behaves as docs/providers.md A.4 says: both
 * `/xml-api/` and `/json-api/`, with or without `.php`, 404 for unknown calls, HTTP 200 with the outcome
 * in the body for known ones; Basic auth for account calls (parameters from the form body or the query),
 * `api_user`/`api_key` for look-ups; one allowed caller IP; accounts indexed by key and by vPanel
 * username; the exact texts (typos, double spaces, trailing dots, the `<script>` element). It imports
 * nothing from hookcord: its texts are written from the facts file, not from the parser under test.
 */

export type MofhStatus = 'a' | 'x' | 'r' | 'c';

export interface MofhAccount {
	key: string;
	vpUser: string;
	status: MofhStatus;
	/** Who closed it: an `ADMIN_CLOSE` suspension can only be lifted by the host. */
	closedBy?: 'admin' | 'reseller';
	reason?: string;
	password: string;
	domains: string[];
	documentRoot?: string;
}

export type NewAccount = Pick<MofhAccount, 'key' | 'vpUser' | 'status'> & Partial<MofhAccount>;

/**
 * `hostile`: every call is answered HTTP 200 with `hostileBody` (up to the client's 1 MB), e.g. a
 * pathological run of `<` or `<script`. `echo`: the normal answer's message quotes the request it
 * answers, credentials included, as written, URL-encoded and as the Basic credential (a misconfigured
 * proxy or a debugging MOFH does this).
 */
export type MofhFault = 'slow' | 'duplicate' | 'junk' | 'empty' | 'hostile' | 'echo' | null;

export interface MofhRequest {
	method: string;
	path: string;
	call: string;
	api: 'xml' | 'json';
	/** Query and form parameters together. */
	params: Record<string, string>;
	/** Parameters that came in the query string (the look-up credentials must be there). */
	query: Record<string, string>;
	basic?: { user: string; password: string };
	contentType?: string;
}

export interface MofhDoubleOptions {
	apiUser?: string;
	apiKey?: string;
	/** The one caller address allowed (MOFH takes exactly one). Default 127.0.0.1. */
	allowedIp?: string;
	accounts?: NewAccount[];
}

const ACCOUNT_CALLS = new Set([
	'createacct',
	'suspendacct',
	'unsuspendacct',
	'passwd',
	'removeacct',
	'changepackage',
]);
const LOOKUPS = new Set(['checkavailable', 'getuserdomains', 'getdomainuser', 'listpkgs']);
/** Ticket calls want both auth forms: Basic and `api_user`/`api_key` parameters (docs/providers.md A.3). */
const TICKET_CALLS = new Set(['supportnewticket', 'supportreplyticket']);

/** A ticket opened through the double, with what each call sent. */
export interface MofhTicket {
	id: string;
	subject: string;
	domain: string;
	clientUsername: string;
	ip: string;
	/** The opening message, then each reply, as MOFH received them. */
	comments: string[];
}
const SCRIPT = "<script>if (self['clear_ui_status']) { clear_ui_status(); }</script>";

export class MofhDouble {
	url = '';
	readonly apiUser: string;
	apiKey: string;
	allowedIp: string;
	readonly accounts = new Map<string, MofhAccount>();
	readonly requests: MofhRequest[] = [];
	readonly tickets = new Map<string, MofhTicket>();
	/** `SUCCESS:123456` (InfinityFree's fixture) or `SUCCESS : 123456` (the community docs). */
	ticketAnswerStyle: 'tight' | 'spaced' = 'spaced';
	/** The next ticket id supportnewticket hands out; six digits, leading zeros kept. */
	nextTicketId = 1;
	fault: MofhFault = null;
	/** What a `hostile` double answers to every call. */
	hostileBody = '';
	/** How long a `slow` reply waits; set past the client's timeout. */
	slowMs = 12_000;
	readonly #server = createServer((req, res) => void this.#handle(req, res));
	readonly #hanging = new Set<ServerResponse>();
	#inFlight = 0;
	maxInFlight = 0;

	constructor(options: MofhDoubleOptions = {}) {
		this.apiUser = options.apiUser ?? 'mofh_api_user';
		this.apiKey = options.apiKey ?? 'mofh-api-password-0123456789';
		this.allowedIp = options.allowedIp ?? '127.0.0.1';
		for (const account of options.accounts ?? []) this.addAccount(account);
	}

	addAccount(account: NewAccount): MofhAccount {
		const full: MofhAccount = { password: 'initial-password', domains: [], ...account };
		this.accounts.set(full.key, full);
		return full;
	}

	byVpUser(vpUser: string): MofhAccount | undefined {
		return [...this.accounts.values()].find((account) => account.vpUser === vpUser);
	}

	/** `r` (reactivating) becomes `a` later at MOFH; tests move it on explicitly. */
	finishReactivation(key: string): void {
		const account = this.accounts.get(key);
		if (account?.status === 'r') account.status = 'a';
	}

	async listen(): Promise<this> {
		await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
		this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
		return this;
	}

	async close(): Promise<void> {
		for (const res of this.#hanging) res.destroy();
		this.#server.closeAllConnections();
		await new Promise<void>((resolve) => this.#server.close(() => resolve()));
	}

	async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		this.#inFlight++;
		this.maxInFlight = Math.max(this.maxInFlight, this.#inFlight);
		try {
			const chunks: Buffer[] = [];
			for await (const chunk of req) chunks.push(chunk as Buffer);
			const url = new URL(req.url ?? '/', 'http://127.0.0.1');
			const match = /^\/(xml|json)-api\/([a-z]+)(?:\.php)?$/.exec(url.pathname);
			const call = match?.[2] ?? '';
			if (!match || !(ACCOUNT_CALLS.has(call) || LOOKUPS.has(call) || TICKET_CALLS.has(call))) {
				return this.#send(
					res,
					404,
					`<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN"><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL ${url.pathname} was not found on this server.</p></body></html>`,
				);
			}
			const api = match[1] as 'xml' | 'json';
			const query = Object.fromEntries(url.searchParams);
			const form =
				req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') && chunks.length
					? Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
					: {};
			const basic = parseBasic(req.headers.authorization);
			const recorded: MofhRequest = {
				method: req.method ?? '',
				path: url.pathname,
				call,
				api,
				params: { ...query, ...form },
				query,
				...(basic && { basic }),
				...(req.headers['content-type'] && { contentType: req.headers['content-type'] }),
			};
			this.requests.push(recorded);

			if (this.fault === 'slow') {
				this.#hanging.add(res);
				// A caller that gave up closes the socket: stop counting it as in flight.
				await new Promise<void>((resolve) => {
					const timer = setTimeout(resolve, this.slowMs);
					res.once('close', () => {
						clearTimeout(timer);
						resolve();
					});
				});
				this.#hanging.delete(res);
				if (res.destroyed) return;
			}
			if (this.fault === 'hostile') return this.#send(res, 200, this.hostileBody);
			if (this.fault === 'junk') return this.#send(res, 200, 'please try again later');
			if (this.fault === 'empty') return this.#send(res, 200, '');

			const caller = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
			if (caller !== this.allowedIp) {
				const said = `ERROR :The API ip address calling (${caller}) does not match the allowed ip address. Please log into your reseller panel and set the allowed ip address under API settings. `;
				return api === 'json'
					? this.#send(res, 200, cpanelError(said + said))
					: this.#send(res, 200, said + said);
			}
			const body = LOOKUPS.has(call)
				? this.#lookup(call, recorded)
				: TICKET_CALLS.has(call)
					? this.#ticket(call, recorded)
					: this.#account(call, recorded);
			const out =
				this.fault === 'duplicate' && body.startsWith('<')
					? body + body
					: this.fault === 'echo'
						? echoed(body, req, url, recorded)
						: body;
			return this.#send(res, 200, out);
		} finally {
			this.#inFlight--;
		}
	}

	#send(res: ServerResponse, status: number, body: string): void {
		if (res.destroyed) return;
		// MOFH documents no Content-Type; it sends text/html for everything.
		res.writeHead(status, { 'content-type': 'text/html; charset=UTF-8' });
		res.end(body);
	}

	#lookup(call: string, req: MofhRequest): string {
		const user = req.params.api_user ?? req.basic?.user;
		const key = req.params.api_key ?? req.basic?.password;
		if (user !== this.apiUser || key !== this.apiKey) {
			const said = 'ERROR :The API key you are using appears to be invalid 1. . Please check the API key.';
			return call === 'listpkgs' ? cpanelError(said) : said;
		}
		switch (call) {
			case 'getdomainuser': {
				const domain = (req.params.domain ?? '').toLowerCase();
				const account = [...this.accounts.values()].find((a) => a.domains.includes(domain));
				if (!account) return 'null';
				return JSON.stringify([
					rowStatus(account),
					domain,
					account.documentRoot ?? `/home/vol15_2/example.com/${account.vpUser}/htdocs`,
					account.vpUser,
				]);
			}
			case 'getuserdomains': {
				// Only the vPanel username works here; a key finds nothing.
				const account = this.byVpUser(req.params.username ?? '');
				if (!account || account.domains.length === 0) return 'null';
				return JSON.stringify(account.domains.map((domain) => [rowStatus(account), domain]));
			}
			case 'checkavailable': {
				const domain = (req.params.domain ?? '').toLowerCase();
				if (!/^[a-z0-9.-]+\.[a-z]{2,}$/.test(domain))
					return 'ERROR :Illegal charachters in domain name . . This domain name does not appear to be valid (to short !). .';
				return [...this.accounts.values()].some((a) => a.domains.includes(domain)) ? '0' : '1';
			}
			default:
				return JSON.stringify({ package: [] });
		}
	}

	/**
	 * supportnewticket / supportreplyticket: plain text under either path, blank lines around it. Both auth
	 * forms are required; `clientusername` is the vPanel username of an account of this reseller;
	 * `ipaddress` must not be empty.
	 */
	#ticket(call: string, req: MofhRequest): string {
		const basicOk = req.basic?.user === this.apiUser && req.basic.password === this.apiKey;
		const paramsOk = req.params.api_user === this.apiUser && req.params.api_key === this.apiKey;
		if (!basicOk || !paramsOk) return '\n\nThe API username you are using appears to be invalid 1. .  \n\n';
		const username = req.params.clientusername ?? '';
		if (!this.byVpUser(username))
			return '\n\nthe username posted does not appear to be owned by this reseller api key pair\n\n';
		const ip = (req.params.ipaddress ?? '').trim();
		if (!ip) return '\n\nipaddress post field was empty\n\n';
		const comments = req.params.comments ?? '';
		if (call === 'supportnewticket') {
			const id = String(this.nextTicketId++).padStart(6, '0');
			this.tickets.set(id, {
				id,
				subject: req.params.subject ?? '',
				domain: req.params.domain_name ?? '',
				clientUsername: username,
				ip,
				comments: [comments],
			});
			return `\n\n${this.ticketAnswerStyle === 'tight' ? `SUCCESS:${id}` : `SUCCESS : ${id}`}\n\n`;
		}
		// No source documents the answer for an unknown ticket id: this text is the double's own.
		const ticket = this.tickets.get(req.params.ticket_id ?? '');
		if (!ticket) return '\n\nERROR : ticket not found\n\n';
		ticket.comments.push(comments);
		return '\n\nSUCCESS\n\n';
	}

	#account(call: string, req: MofhRequest): string {
		if (req.basic?.user !== this.apiUser || req.basic.password !== this.apiKey)
			return 'The API username you are using appears to be invalid 1. .  ';
		const keyParam = req.params.user ?? '';
		switch (call) {
			case 'suspendacct': {
				if (!/^[A-Za-z0-9]{1,8}$/.test(keyParam)) return 'The username is invalid (8 characters maximum). .';
				const reason = req.params.reason ?? '';
				if (reason.trim().length < 5)
					return 'The suspension reason is to short, please give a reason for suspension.  .';
				const account = this.accounts.get(keyParam);
				if (!account) {
					return xml(
						'suspendacct',
						0,
						`This account is not active so can not be suspended  ( vPuser :  ,  status :  , reason :  ) .. No account mathcing this username ${keyParam} could be found.  .`,
					);
				}
				if (account.status !== 'a') {
					return xml(
						'suspendacct',
						0,
						`This account is not active so can not be suspended  ( vPuser : ${account.vpUser} ,  status : ${account.status} , reason : ${escapeXml(account.reason ?? '')} ) ..`,
					);
				}
				account.status = 'x';
				account.closedBy = 'reseller';
				account.reason = `RES_CLOSE : ${reason}`;
				return xml(
					'suspendacct',
					1,
					`${SCRIPT}Completed, this account will be fully suspended in 2 minutes.`,
				);
			}
			case 'unsuspendacct': {
				if (!/^[A-Za-z0-9]{1,8}$/.test(keyParam)) return 'The username is invalid (8 characters maximum). .';
				const account = this.accounts.get(keyParam);
				if (!account)
					return xml('unsuspendacct', 0, 'This account is NOT currently suspended (status :  ) .  .');
				if (account.status === 'x' && account.closedBy === 'admin')
					return xml('unsuspendacct', 0, 'This account appears to be admin suspended');
				if (account.status !== 'x')
					return xml(
						'unsuspendacct',
						0,
						`This account is NOT currently suspended (status : ${account.status} ) .  .`,
					);
				account.status = 'r';
				delete account.reason;
				delete account.closedBy;
				return xml('unsuspendacct', 1, `${SCRIPT}${keyParam} account has been unsuspended`);
			}
			case 'passwd': {
				const account = this.accounts.get(keyParam);
				if (!account) return '';
				if (account.status !== 'a')
					return xml(
						'passwd',
						0,
						`This account  currently not active, the account must be active to change the password (${account.status}). .`,
						'passwd',
					);
				const pass = req.params.pass ?? '';
				if (pass.length < 6) return 'The choosen password is to short.  .';
				if (pass === account.password)
					return xml('passwd', 0, 'An error occured changing this password.', 'passwd');
				account.password = pass;
				return xml('passwd', 1, `Password changed for user ${account.vpUser}`, 'passwd');
			}
			default:
				return xml(call, 0, 'This call is not modelled by the double.');
		}
	}
}

export async function startMofhDouble(options: MofhDoubleOptions = {}): Promise<MofhDouble> {
	return new MofhDouble(options).listen();
}

/** The answer with the request quoted into its message: the path and query, the form body and the Basic header. */
function echoed(body: string, req: IncomingMessage, url: URL, recorded: MofhRequest): string {
	const said = recorded.basic ? `${recorded.basic.user}:${recorded.basic.password}` : recorded.params.api_key;
	const quote = ` (request: ${req.method} ${url.pathname}${url.search} authorization=${req.headers.authorization ?? ''} key=${said ?? ''})`;
	// Into the statusmsg of an XML answer, into the first string of a JSON one, else appended.
	if (body.includes('</statusmsg>')) return body.replace('</statusmsg>', `${quote}</statusmsg>`);
	if (body === 'null' || body.startsWith('[')) return `ERROR :no such account${quote}`;
	return `${body}${quote}`;
}

function rowStatus(account: MofhAccount): string {
	return account.status === 'x' ? 'SUSPENDED' : 'ACTIVE';
}

function xml(call: string, status: number, message: string, inner = 'result'): string {
	return `<${call}><${inner}><status>${status}</status><statusmsg>${message}</statusmsg></${inner}></${call}>`;
}

function escapeXml(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cpanelError(said: string): string {
	return JSON.stringify({
		cpanelresult: { apiversion: '2', error: said, data: { reason: said, result: '0' }, type: 'text' },
	});
}

function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
	const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
	if (!match) return undefined;
	const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
	const colon = decoded.indexOf(':');
	return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
