import type { Arrival } from '../../state/forwards.js';

/** One forward as it goes on the wire: everything the sender needs, nothing it decides. */
export interface ForwardRequest {
	url: URL;
	/** Path and query as sent: the target's own path and query first, then the callback's query. */
	path: string;
	method: string;
	headers: Record<string, string>;
	body: Buffer;
}

/**
 * Pure: the request a target receives for a stored callback. The callback's method, body bytes and
 * Content-Type unchanged (a multipart boundary, a form's encoding, JSON's spacing all survive), on the
 * target's own URL (never hookcord's route, whose path holds the hook secret); the callback's query
 * string after the target's own. Headers: X-Forwarded-For (the provider's address, as a panel checking
 * MOFH's address expects), X-Hookcord-Event (the event id, the same on every re-send, for a panel that
 * wants to tell a re-send), User-Agent. A URL's user info becomes Basic authentication, as curl does.
 */
export function composeForward(
	targetUrl: string,
	entry: { event: { id: string }; request: Arrival },
	version: string,
): ForwardRequest {
	const url = new URL(targetUrl);
	const own = url.search.slice(1);
	const theirs = entry.request.query;
	const query = [own, theirs].filter(Boolean).join('&');
	const path = `${url.pathname}${query ? `?${query}` : ''}`;
	const body = Buffer.from(entry.request.body, 'base64');
	const headers: Record<string, string> = {
		'user-agent': `hookcord/${version}`,
		'x-forwarded-for': entry.request.address,
		'x-hookcord-event': entry.event.id,
		// One connection per forward: a kept-alive socket the panel closed meanwhile fails after the request
		// was written, which would look like a panel that may have acted.
		connection: 'close',
	};
	if (entry.request.contentType) headers['content-type'] = entry.request.contentType;
	if (entry.request.method !== 'GET' || body.length > 0) headers['content-length'] = String(body.length);
	if (url.username || url.password) {
		const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
		headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
	}
	return { url, path, method: entry.request.method, headers, body };
}
