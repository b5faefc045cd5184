/**
 * How a store is shown (start-up banner, `npm run urls`): scheme, host, port and path only. User info and
 * the query are left out (a Postgres URL may carry `?password=`), and the URL is parsed rather than
 * pattern-matched, so a password containing `@` or `/` cannot leak a tail.
 */
export function describeStoreUrl(storeUrl: string): string {
	const scheme = storeUrl.slice(0, Math.max(0, storeUrl.indexOf('://')));
	const rest = storeUrl.slice(scheme.length + 3).split('?')[0] ?? '';
	if (scheme === 'sqlite' && rest === ':memory:') return 'sqlite://:memory:';
	try {
		const url = new URL(storeUrl);
		// An `@` left in the path means a password with an unencoded `/` split the authority: show no path.
		const path = url.pathname.includes('@') ? '' : url.pathname;
		return `${url.protocol}//${url.host}${path}`;
	} catch {
		return `${scheme || 'store'}://…`;
	}
}
