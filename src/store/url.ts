/** A STORE_URL that cannot be used as given: the process refuses to start (exit 78) and says why. */
export class StoreConfigError extends Error {}

/** The backends hookcord stores in; `openStore` picks one from the URL's scheme. */
export type BackendKind = 'memory' | 'sqlite' | 'postgres' | 'redis';

/** Each URL scheme's backend (one more line here, and one in store.ts, for a new backend). */
const KINDS: Record<string, BackendKind> = {
	memory: 'memory',
	sqlite: 'sqlite',
	postgres: 'postgres',
	postgresql: 'postgres',
	redis: 'redis',
	rediss: 'redis',
};

/**
 * What names a deployment's data inside one server or file: Redis keys `prefix:collection:…`, PostgreSQL
 * and SQLite tables `prefix_collection`. Lower-case letters, digits and `_`, starting with a letter, so the
 * name means the same everywhere: PostgreSQL folds unquoted names to lower case and SQLite compares table
 * names without case, while Redis keys keep it (`Prod` and `prod` would be one deployment on two backends
 * and two on the third). 32 characters at most keep the longest table name well under PostgreSQL's 63.
 */
export const PREFIX_RULE = /^[a-z][a-z0-9_]{0,31}$/;
export const PREFIX_RULE_TEXT =
	'1 to 32 characters of a-z, 0-9 and _, starting with a letter (one name on Redis, PostgreSQL and SQLite)';
export const DEFAULT_PREFIX = 'hookcord';

/** STORE_URL read once: the backend, what its client is given, and hookcord's own parameters. */
export interface StoreUrl {
	kind: BackendKind;
	/** The URL for the backend's client, without `prefix=` (which only hookcord reads). */
	url: string;
	/** This deployment's prefix (`?prefix=`, default `hookcord`), already checked against PREFIX_RULE. */
	prefix: string;
}

/**
 * Reads STORE_URL, or throws StoreConfigError saying what is wrong (never echoing the URL, which may
 * carry a password). An invalid `?prefix=` is refused, never replaced by the default: two deployments
 * that meant to be apart would otherwise share one store, leader and hook secret.
 */
export function parseStoreUrl(storeUrl: string): StoreUrl {
	const scheme = storeUrl.slice(0, Math.max(0, storeUrl.indexOf('://')));
	const kind = Object.hasOwn(KINDS, scheme) ? KINDS[scheme] : undefined;
	if (!kind)
		throw new StoreConfigError('STORE_URL: expected sqlite://path, redis://…, postgres://… or memory://');
	const given = [...storeUrl.matchAll(/[?&]prefix=([^&#]*)/g)];
	if (given.length > 1) throw new StoreConfigError('STORE_URL: prefix= is given more than once');
	const [match] = given;
	if (!match) return { kind, url: storeUrl, prefix: DEFAULT_PREFIX };
	const prefix = match[1] as string;
	if (!PREFIX_RULE.test(prefix)) throw new StoreConfigError(`STORE_URL: prefix= must be ${PREFIX_RULE_TEXT}`);
	const url = storeUrl
		.replace(match[0], match[0].startsWith('?') ? '?' : '')
		.replace(/\?&/, '?')
		.replace(/\?$/, '');
	return { kind, url, prefix };
}

/**
 * How a store is shown (start-up banner, `npm run urls`): scheme, host, port and path only. User info and
 * the query are left out (a Postgres URL may carry `?password=`), and the URL is parsed rather than
 * pattern-matched. A password with an unencoded `/`, `?` or `#` ends the authority early, so what a parser
 * takes for the host is a piece of the password: an `@` left after the host gives that away, and then
 * nothing but the scheme is shown.
 */
export function describeStoreUrl(storeUrl: string): string {
	const scheme = storeUrl.slice(0, Math.max(0, storeUrl.indexOf('://')));
	const rest = storeUrl.slice(scheme.length + 3).split('?')[0] ?? '';
	if (storeUrl.startsWith('sqlite://') && !rest.includes('@')) return `sqlite://${rest}`;
	const hidden = `${scheme || 'store'}://…`;
	try {
		const url = new URL(storeUrl);
		if (`${url.pathname}${url.search}${url.hash}`.includes('@')) return hidden;
		return `${url.protocol}//${url.host}${url.pathname}`;
	} catch {
		return hidden;
	}
}
