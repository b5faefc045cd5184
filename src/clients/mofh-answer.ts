/**
 * MOFH reseller API answers ─▶ meaning. Pure. Every known call answers HTTP 200 and puts the outcome in
 * a body whose format does not follow the path (docs/providers.md A.2): XML with a status,
 * plain text, a bare JSON array, `null`, `1`/`0`, or a `cpanelresult` JSON error. Texts carry typos,
 * doubled spaces, `<script>` elements and trailing " .  ." runs, so they are cleaned and matched by
 * substring, as the MOFH client's maintainer advises.
 */

import { markupToText } from '../html.js';
import { dropBidiControls, truncate } from '../text.js';

/** Why an answer was not a success. `auth` covers wrong credentials and a caller IP MOFH does not allow. */
export type MofhAnswer =
	/** XML (or its JSON form) with a `<status>` and `<statusmsg>`. */
	| { kind: 'status'; status: number; message: string }
	| { kind: 'json'; value: unknown }
	| { kind: 'auth'; message: string; ip: boolean }
	| { kind: 'text'; message: string }
	| { kind: 'empty' };

const AUTH_TEXTS = [
	/api username you are using appears to be invalid/i,
	/api key you are using appears to be invalid/i,
	/api key or api username entered is not valid/i,
];
const IP_TEXT = /does not match the allowed ip address/i;
const MAX_MESSAGE = 400;

/** What a body says, before the caller decides what that means for its call. */
export function readAnswer(body: string): MofhAnswer {
	const text = body.replace(/^\uFEFF/, '').trim();
	if (!text) return { kind: 'empty' };
	const auth = authAnswer(text);
	if (auth) return auth;
	if (text.startsWith('<')) {
		const xml = xmlAnswer(text);
		if (xml) return xml;
	}
	if (text === 'null' || text.startsWith('[') || text.startsWith('{')) {
		try {
			const value: unknown = JSON.parse(text);
			const error = cpanelError(value);
			if (error !== undefined) return authAnswer(error) ?? { kind: 'text', message: clean(error) };
			return jsonStatus(value) ?? { kind: 'json', value };
		} catch {
			// not JSON after all: plain text below
		}
	}
	return { kind: 'text', message: clean(text) };
}

function authAnswer(text: string): MofhAnswer | undefined {
	// The refusal may be wrapped (createacct wraps it in XML, the JSON API in cpanelresult): look inside.
	const plain = clean(text);
	if (IP_TEXT.test(plain)) return { kind: 'auth', message: firstSentence(plain), ip: true };
	if (AUTH_TEXTS.some((re) => re.test(plain)))
		return { kind: 'auth', message: firstSentence(plain), ip: false };
	return undefined;
}

/**
 * The first `<status>` and `<statusmsg>` of the first document (a second, concatenated one is ignored),
 * looked for in the bounded prefix and each found by one forward search.
 */
function xmlAnswer(body: string): MofhAnswer | undefined {
	const text = body.slice(0, MAX_CLEAN_INPUT);
	const status = /<status>\s*(-?\d{1,9})\s*<\/status>/i.exec(text);
	if (!status) return undefined;
	const open = /<statusmsg>/i.exec(text);
	let message = '';
	if (open) {
		const start = open.index + open[0].length;
		const close = /<\/statusmsg>/gi;
		close.lastIndex = start;
		const end = close.exec(text);
		if (end) message = text.slice(start, end.index);
	}
	return { kind: 'status', status: Number(status[1]), message: clean(message) };
}

/** The JSON form of an account call's answer, `{"result":[{"status":1,"statusmsg":"…"}]}` (WD createacct). */
function jsonStatus(value: unknown): MofhAnswer | undefined {
	const result = (value as { result?: unknown } | null)?.result;
	const first = Array.isArray(result) ? result[0] : result;
	if (!first || typeof first !== 'object') return undefined;
	const { status, statusmsg } = first as { status?: unknown; statusmsg?: unknown };
	if (status === undefined || !/^-?\d+$/.test(String(status))) return undefined;
	return {
		kind: 'status',
		status: Number(status),
		message: clean(typeof statusmsg === 'string' ? statusmsg : ''),
	};
}

function cpanelError(value: unknown): string | undefined {
	if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
	const result = (value as { cpanelresult?: { error?: unknown; data?: { reason?: unknown } } }).cpanelresult;
	if (!result || typeof result !== 'object') return undefined;
	const said = result.error ?? result.data?.reason;
	return typeof said === 'string' ? said : 'MOFH reported an error without a reason';
}

/**
 * How much of a text is cleaned: MOFH's messages are a few hundred bytes, and a body can be 1 MB. What
 * lies past this is not shown anyway (MAX_MESSAGE).
 */
const MAX_CLEAN_INPUT = 16 * 1024;

/**
 * MOFH's words for staff: no markup (the `<script>` element inside statusmsg, CDATA, tags), entities
 * decoded, control characters spaces, bidi controls dropped, whitespace collapsed, the trailing " .  ."
 * run reduced to one full stop, bounded length. Linear in the text (see html.ts).
 */
export function clean(text: string): string {
	const decoded = markupToText(text, { maxInput: MAX_CLEAN_INPUT, tag: ' ', badNumber: ' ' });
	// An escaped element (`&lt;script&gt;`) decodes into markup: strip it again, decoding nothing twice.
	const plain = dropBidiControls(
		markupToText(decoded, { maxInput: MAX_CLEAN_INPUT, tag: ' ', entities: false }),
	)
		.replace(/\p{Cc}/gu, ' ')
		.replace(/\s+/g, ' ')
		// " .  ." runs (MOFH's sentence ends, mid-text and trailing) become one full stop.
		.replace(/ ?(?:\. ?){2,}/g, '. ')
		.trim()
		.replace(/ \.$/, '.');
	return truncate(plain, MAX_MESSAGE);
}

/** MOFH repeats the wrong-IP text twice and appends panel directions; the first sentence says it. */
function firstSentence(text: string): string {
	const cut = text.search(/\.\s+(?:please|\.|the api)/i);
	return cut > 0 ? text.slice(0, cut + 1) : text;
}

// ---------------------------------------------------------------------------------------------------------
// suspendacct / unsuspendacct
// ---------------------------------------------------------------------------------------------------------

export type ActionRefusal =
	| 'not_active'
	| 'not_suspended'
	| 'admin_suspended'
	| 'unknown_key'
	| 'invalid'
	| 'other';

export interface ActionResult {
	outcome: 'done' | 'refused';
	/** MOFH's own words, cleaned. */
	message: string;
	refusal?: ActionRefusal;
	/**
	 * The vPanel username MOFH states for the key, only from the documented refusal of a suspension
	 * (`… not active … ( vPuser : host_123 ,  status : x , reason : … )`): a fact hookcord may record.
	 */
	vpUser?: string;
	/** The account's status letter when MOFH's text gives it: a active, x suspended, r reactivating, c closing. */
	status?: string;
}

/**
 * A suspend or unsuspend answer (already known not to be an auth failure). Status 1 is done; status 0
 * and plain text are MOFH refusing, classified by its wording so the reply can say what it means.
 */
export function actionResult(answer: MofhAnswer): ActionResult | undefined {
	if (answer.kind === 'status') {
		return answer.status === 1
			? { outcome: 'done', message: answer.message || 'Done.' }
			: refusal(answer.message || 'MOFH refused without a reason.');
	}
	if (answer.kind === 'text') return refusal(answer.message);
	return undefined;
}

function refusal(message: string): ActionResult {
	const result: ActionResult = { outcome: 'refused', message, refusal: classify(message) };
	const stated = statedAccount(message);
	if (stated?.vpUser && result.refusal === 'not_active') result.vpUser = stated.vpUser;
	const status = stated?.status ?? /status\s*:\s*([a-z]?)\s*[,)]/i.exec(message)?.[1];
	if (status) result.status = status.toLowerCase();
	return result;
}

/**
 * The `( vPuser : … , status : … , reason : … )` MOFH puts in its "not active" refusal, read at its first
 * `( vPuser` only: a later one (a quoted request, a stored reason) is not MOFH's statement.
 */
function statedAccount(message: string): { vpUser?: string; status?: string } | undefined {
	const at = message.search(/\(\s*vPuser\s*:/i);
	if (at < 0) return undefined;
	const stated =
		/^\(\s*vPuser\s*:\s*([A-Za-z0-9][A-Za-z0-9_.-]{0,63})?\s*,\s*status\s*:\s*([a-z]?)\s*,\s*reason\s*:/i.exec(
			message.slice(at, at + 200),
		);
	if (!stated) return undefined;
	return { ...(stated[1] && { vpUser: stated[1] }), ...(stated[2] && { status: stated[2] }) };
}

function classify(message: string): ActionRefusal {
	if (/no account mat\w*ing/i.test(message)) return 'unknown_key';
	if (/admin suspended/i.test(message)) return 'admin_suspended';
	if (/not currently suspended/i.test(message)) {
		// An unknown key gives the same text with an empty status (docs/providers.md A.2, unsuspendacct).
		return /status\s*:\s*\)/i.test(message) ? 'unknown_key' : 'not_suspended';
	}
	if (/not active/i.test(message)) return 'not_active';
	if (/invalid|illegal|to short|too short|maximum|only letters/i.test(message)) return 'invalid';
	return 'other';
}

// ---------------------------------------------------------------------------------------------------------
// supportnewticket / supportreplyticket
// ---------------------------------------------------------------------------------------------------------

/** A ticket call's answer: done (with the new ticket's id for supportnewticket), or MOFH's refusal. */
export type TicketAnswer = { ok: true; ticketId?: string } | { ok: false; message: string };

/**
 * Plain text under either path, blank lines around it: `SUCCESS : 000000` / `SUCCESS:123456` (the id is a
 * string, leading zeros kept) or exactly `SUCCESS`; anything else is the refusal itself ("the username
 * posted does not appear to be owned by this reseller api key pair", "ipaddress post field was empty").
 */
export function ticketAnswer(answer: MofhAnswer): TicketAnswer | undefined {
	if (answer.kind === 'status')
		return answer.status === 1 ? { ok: true } : { ok: false, message: answer.message || 'refused' };
	if (answer.kind !== 'text') return undefined;
	const success = /^SUCCESS\s*(?::\s*(\d{1,12}))?\s*\.?$/i.exec(answer.message);
	if (success) return success[1] ? { ok: true, ticketId: success[1] } : { ok: true };
	return { ok: false, message: answer.message.replace(/^error\s*:\s*/i, '') || 'refused without a reason' };
}

// ---------------------------------------------------------------------------------------------------------
// Look-ups
// ---------------------------------------------------------------------------------------------------------

export interface DomainOwner {
	/** `ACTIVE` or `SUSPENDED` as MOFH says it. */
	status: string;
	domain: string;
	documentRoot: string;
	/** The owning account's vPanel username. */
	username: string;
}

/** getdomainuser: `[status, domain, documentRoot, vpusername]`, or `null` (not found). */
export function domainOwner(value: unknown): DomainOwner | null | undefined {
	if (value === null || (Array.isArray(value) && value.length === 0)) return null;
	if (!Array.isArray(value) || value.length < 4 || !value.slice(0, 4).every((v) => typeof v === 'string'))
		return undefined;
	const [status, domain, documentRoot, username] = value as string[];
	return {
		status: clean(status ?? ''),
		domain: clean(domain ?? ''),
		documentRoot: clean(documentRoot ?? ''),
		username: clean(username ?? ''),
	};
}

export interface UserDomain {
	status: string;
	domain: string;
}

/** getuserdomains: `[[status, domain], …]`, or `null` when the account has none (or does not exist). */
export function userDomains(value: unknown): UserDomain[] | undefined {
	if (value === null) return [];
	if (!Array.isArray(value)) return undefined;
	const rows: UserDomain[] = [];
	for (const row of value) {
		if (!Array.isArray(row) || row.length < 2 || typeof row[0] !== 'string' || typeof row[1] !== 'string')
			return undefined;
		rows.push({ status: clean(row[0]), domain: clean(row[1]) });
	}
	return rows;
}
