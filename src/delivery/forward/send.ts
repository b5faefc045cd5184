import http from 'node:http';
import https from 'node:https';
import type { Outcome } from './outcome.js';
import type { ForwardRequest } from './request.js';

/** Sends one forward; never throws: every way it can end is an Outcome. */
export type SendForward = (request: ForwardRequest, timeoutMs: number) => Promise<Outcome>;

/**
 * One forward over node:http(s) rather than undici: what decides between a retry and asking a person is
 * whether the whole request was handed to the network before it failed, and node's ClientRequest says
 * so (its `finish` event); undici's request API does not. A fresh connection each time (no keep-alive,
 * see composeForward), redirects never followed (node does not follow them), no answer within
 * `timeoutMs` of the start ends it. The answer's body is read and dropped, up to a small size.
 */
export const sendForward: SendForward = (request, timeoutMs) =>
	new Promise<Outcome>((resolve) => {
		const { url } = request;
		const client = url.protocol === 'https:' ? https : http;
		let written = false;
		let settled = false;
		let timer: NodeJS.Timeout | undefined;
		const settle = (outcome: Outcome) => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			resolve(outcome);
		};
		let req: http.ClientRequest;
		try {
			req = client.request({
				protocol: url.protocol,
				hostname: url.hostname.replace(/^\[|\]$/g, ''),
				port: url.port || undefined,
				method: request.method,
				path: request.path,
				headers: request.headers,
				agent: false,
			});
		} catch (error) {
			// Refused before anything was sent (e.g. a header node will not put on the wire).
			settle({ answered: false, written: false, timedOut: false, error: (error as Error).message });
			return;
		}
		timer = setTimeout(() => {
			settle({ answered: false, written, timedOut: true, error: 'timeout' });
			req.destroy();
		}, timeoutMs);
		req.on('finish', () => {
			written = true;
		});
		req.on('error', (error: NodeJS.ErrnoException) => {
			settle({ answered: false, written, timedOut: false, error: error.code ?? error.message });
		});
		req.on('response', (res) => {
			const header = (name: string) => {
				const value = res.headers[name];
				return Array.isArray(value) ? value[0] : value;
			};
			const location = header('location');
			const retryAfter = header('retry-after');
			settle({
				answered: true,
				status: res.statusCode ?? 0,
				...(location && { location }),
				...(retryAfter && { retryAfter }),
			});
			// The answer is all the status says; its body is drained (bounded) so the socket can close.
			let read = 0;
			res.on('data', (chunk: Buffer) => {
				read += chunk.length;
				if (read > 64 * 1024) res.destroy();
			});
			res.on('error', () => {});
		});
		req.end(request.body.length > 0 ? request.body : undefined);
	});
