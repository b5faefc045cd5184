import { once } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';

/** One request as the panel received it: the bytes on the wire, not a parse of them. */
export interface PanelRequest {
	method: string;
	/** Path and query exactly as the request line carried them. */
	url: string;
	headers: http.IncomingHttpHeaders;
	body: Buffer;
	/** Epoch ms at which the whole request had arrived. */
	at: number;
}

/**
 * How the panel answers a request: a status (with headers, after `delayMs`), or a way of failing:
 * `hang` (never answers), `cut` (the request was read, then the connection is reset).
 */
export type PanelAnswer =
	| { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
	| 'hang'
	| 'cut';

export interface PanelDouble {
	/** `http://127.0.0.1:PORT` */
	url: string;
	requests: PanelRequest[];
	/** Decides each answer; the default answers 200 at once, like Xera's empty 200. */
	answer: (request: PanelRequest, index: number) => PanelAnswer;
	/** Connections reset as soon as they open (before any request is read), while true. */
	resetOnConnect: boolean;
	/** Requests being answered now, and the most ever at once. */
	inFlight: number;
	maxInFlight: number;
	close(): Promise<void>;
}

/**
 * A reseller panel's callback endpoint on loopback, for tests: records every request's raw bytes and
 * answers as the test says. Closing it destroys every connection (a hanging answer included).
 */
export async function startPanel(answer?: PanelDouble['answer']): Promise<PanelDouble> {
	const sockets = new Set<Socket>();
	const timers = new Set<NodeJS.Timeout>();
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const request: PanelRequest = {
				method: req.method ?? '',
				url: req.url ?? '',
				headers: req.headers,
				body: Buffer.concat(chunks),
				at: Date.now(),
			};
			const index = panel.requests.length;
			panel.requests.push(request);
			const how = panel.answer(request, index);
			if (how === 'hang') return;
			if (how === 'cut') {
				req.socket.resetAndDestroy();
				return;
			}
			panel.inFlight++;
			panel.maxInFlight = Math.max(panel.maxInFlight, panel.inFlight);
			const timer = setTimeout(() => {
				timers.delete(timer);
				panel.inFlight--;
				res.writeHead(how.status, how.headers ?? {});
				res.end(how.body ?? '');
			}, how.delayMs ?? 0);
			timers.add(timer);
		});
	});
	server.on('connection', (socket: Socket) => {
		if (panel.resetOnConnect) {
			socket.resetAndDestroy();
			return;
		}
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const { port } = server.address() as { port: number };
	const panel: PanelDouble = {
		url: `http://127.0.0.1:${port}`,
		requests: [],
		answer: answer ?? (() => ({ status: 200 })),
		resetOnConnect: false,
		inFlight: 0,
		maxInFlight: 0,
		async close() {
			for (const timer of timers) clearTimeout(timer);
			for (const socket of sockets) socket.destroy();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
	return panel;
}

/** A loopback port nothing listens on (bound, then closed): connecting to it is refused. */
export async function closedPort(): Promise<string> {
	const server = http.createServer();
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	const { port } = server.address() as { port: number };
	await new Promise<void>((resolve) => server.close(() => resolve()));
	return `http://127.0.0.1:${port}`;
}
