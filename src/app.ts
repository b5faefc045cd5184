import type { Socket } from 'node:net';
import Fastify, {
	type FastifyBaseLogger,
	type FastifyError,
	type FastifyInstance,
	type FastifyReply,
	type FastifyRequest,
	LogController,
} from 'fastify';
import type { Config } from './config.js';
import type { LeadershipStatus } from './delivery/leadership.js';
import type { WorkerStatus } from './delivery/worker.js';
import { type InteractionsOptions, interactionsRoutes } from './interactions/route.js';
import { hideInLog } from './log.js';
import { meterIngest, meterRefusals } from './metrics/instrument.js';
import type { Metrics } from './metrics/metrics.js';
import { clientKey, createAllowlist } from './net/allowlist.js';
import { createRefusals, type Refusals } from './net/refusals.js';
import { PayloadError } from './providers/fields.js';
import { NOT_FOUND } from './providers/guard.js';
import { PROVIDERS } from './providers/index.js';
import { type Ingest, InProgressError, StoreUnavailableError } from './state/ingest.js';
import type { Store } from './store/store.js';
import { PROVIDER_IDS } from './vocabulary/providers.js';
import { within } from './within.js';

export interface AppDeps {
	config: Config;
	store: Store;
	ingest: Ingest;
	hookSecret: string;
	delivery: { status(): WorkerStatus };
	/** Each forward target's state (scheme, host and path only); shown by `/readyz` when there are targets. */
	forwards?: () => unknown[];
	/** Which instance leads delivery; shown by `/readyz`. */
	leadership?: () => LeadershipStatus;
	/** Whether the Discord gateway is connected; absent in a dry run or before the gateway exists. */
	discordReady?: () => boolean;
	logger: FastifyBaseLogger;
	/** Enables `POST /interactions` (when DISCORD_PUBLIC_KEY is set). */
	interactions?: InteractionsOptions;
	/** The clock of the per-address refusal windows. */
	now?: () => number;
	/** Counts callbacks by outcome and times their ingest (METRICS_PORT). */
	metrics?: Metrics;
}

/** More callbacks are waiting on the store than INGEST_MAX_PENDING: 503, and the provider retries. */
class StoreBusyError extends Error {
	override name = 'StoreBusyError';
}

/**
 * The receiver: provider routes, health, and one error policy: a payload that is not a well-formed
 * callback gets 400 `{error}`, a store that cannot take the event (or has INGEST_MAX_PENDING waiting)
 * gets 503 (the provider retries), and nothing internal leaks in a 5xx. What an attacker does (wrong
 * secrets, unknown paths, addresses outside an allowlist, bad signatures) counts per address, 429 past
 * HOOK_RATE_LIMIT; request time and open connections are bounded. The hook secret is scrubbed from the log.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
	const { config, store, hookSecret } = deps;
	hideInLog(deps.logger, hookSecret);
	const refusals = createRefusals({ max: config.hookRateLimit, ...(deps.now && { now: deps.now }) });
	const limited = bounded(deps.ingest, config.ingestMaxPending);
	const ingest = deps.metrics
		? meterIngest(limited, deps.metrics, (error) => error instanceof StoreBusyError)
		: limited;
	const trustedProxy = createAllowlist(config.trustProxy);
	const timeout = config.requestTimeout;
	const app = Fastify({
		loggerInstance: deps.logger,
		logController: new RequestLog(refusals),
		// A function, not the list: the same parser as the allowlists, so every entry config accepted works.
		trustProxy: config.trustProxy.length > 0 ? (address: string) => trustedProxy(address) : false,
		bodyLimit: 64 * 1024,
		// Headers and body must both arrive within REQUEST_TIMEOUT (Node answers 408 and closes the socket).
		// Node checks open requests every `connectionsCheckingInterval` (30 s by default, which let a slow
		// body live up to twice the timeout); a second at most here.
		requestTimeout: timeout,
		http: {
			requestTimeout: timeout,
			headersTimeout: timeout,
			connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(timeout / 4))),
		},
		connectionTimeout: 60_000,
		keepAliveTimeout: 10_000,
		return503OnClosing: true,
		// The only path parameter is the hook secret (up to 128 characters); Fastify's default of 100 would
		// answer 414 to a valid long secret.
		routerOptions: { maxParamLength: 128 },
		// A path segment longer than any secret answers like an unknown path; an undecodable one (`%ZZ`)
		// gets the usual `{error}` 400 instead of Fastify's default body echoing the path.
		frameworkErrors: (error, request, reply: FastifyReply) => {
			if (error.code === 'FST_ERR_MAX_PARAM_LENGTH')
				return refusals.refuse(request, reply, 'notFound', 404, NOT_FOUND);
			return refusals.refuse(request, reply, 'malformedUrl', error.statusCode ?? 400, {
				error: 'malformed URL',
			});
		},
		// `__proto__` and `constructor.prototype` keys are refused by the default JSON parser
		// (secure-json-parse); repeated keys are not (the last one wins).
		onProtoPoisoning: 'error',
		onConstructorPoisoning: 'error',
	});
	limitConnections(app, config.connections, trustedProxy);
	if (deps.metrics) meterRefusals(app, deps.metrics);

	// Unknown paths count against the client address like wrong secrets: probing gets 429 past the limit.
	app.setNotFoundHandler((request, reply) => refusals.refuse(request, reply, 'notFound', 404, NOT_FOUND));
	app.setErrorHandler((error: FastifyError, request, reply) => {
		if (error instanceof PayloadError) return reply.code(400).send({ error: error.message });
		if (error instanceof InProgressError) {
			return reply.code(503).header('retry-after', '30').send({ error: error.message });
		}
		if (error instanceof StoreBusyError) {
			request.log.warn('too many callbacks waiting on the store: answered 503 so the provider retries');
			return reply.code(503).header('retry-after', '5').send({ error: error.message });
		}
		if (error instanceof StoreUnavailableError) {
			request.log.error({ err: error.cause }, 'store unavailable: answered 503 so the provider retries');
			return reply.code(503).header('retry-after', '30').send({ error: 'store unavailable, retry later' });
		}
		if (error.code === 'FST_FILES_LIMIT')
			return reply.code(400).send({ error: 'file uploads are not accepted' });
		const status = error.statusCode ?? 500;
		if (status >= 400 && status < 500) return reply.code(status).send({ error: error.message });
		request.log.error({ err: error }, 'request failed');
		return reply.code(500).send({ error: 'internal error' });
	});

	const hookOptions = { ingest, secret: hookSecret, refusals };
	// A provider with forward targets keeps each callback's bytes as they arrived (see arrivalOf).
	const forward = (provider: string) => config.forward.targets.some((target) => target.provider === provider);
	for (const provider of PROVIDER_IDS)
		await app.register(PROVIDERS[provider].routes, {
			...hookOptions,
			allowedIps: config.allowedIps[provider],
			forward: forward(provider),
		});
	if (deps.interactions) await app.register(interactionsRoutes, { ...deps.interactions, refusals });

	app.get('/healthz', async () => ({ status: 'ok' }));
	app.get('/readyz', async (_request, reply) => {
		const problems: string[] = [];
		const pinged = store.ping().then(
			() => true,
			() => false,
		);
		const storeAnswers = (await within(pinged, 2000)) === true;
		if (!storeAnswers) problems.push('store unreachable');
		const delivery = deps.delivery.status();
		if (delivery.halted) problems.push(`Discord delivery halted: ${delivery.halted}`);
		if (config.discord.token && deps.discordReady && !deps.discordReady())
			problems.push('Discord gateway not connected');
		const body = {
			status: problems.length ? 'unavailable' : 'ready',
			problems,
			// Whether the store answers, never where it is (the URL may carry credentials).
			store: storeAnswers ? 'ok' : 'unreachable',
			// Which deployment's data this is within a shared server (not a secret).
			prefix: store.prefix,
			discord: config.discord.token ? 'bot' : 'dry run',
			...(deps.leadership && { leadership: deps.leadership() }),
			delivery,
			...(deps.forwards && { forwards: deps.forwards() }),
			refused: refusals.counts(),
		};
		return reply.code(problems.length ? 503 : 200).send(body);
	});
	return app;
}

/**
 * One log line per request, when it completes (not two): at debug level for a refused request (so a
 * flood of guesses or bad signatures costs no log volume; `/readyz` counts them), at info for the rest.
 */
class RequestLog extends LogController {
	readonly #refusals: Refusals;

	constructor(refusals: Refusals) {
		super();
		this.#refusals = refusals;
	}

	override incomingRequest(): void {}

	override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
		const line = { req: request, res: reply, responseTime: reply.elapsedTime };
		if (error) reply.log.error({ ...line, err: error }, 'request errored');
		else if (this.#refusals.wasRefused(request)) reply.log.debug(line, 'request refused');
		else reply.log.info(line, 'request completed');
	}
}

/**
 * Bounds open connections in total (`server.maxConnections`: Node closes the extra ones at once) and per
 * client address (an IPv6 client's /64), so slow clients from one address cannot take every connection. A trusted reverse proxy
 * carries everyone's connections and counts only in the total.
 */
function limitConnections(
	app: FastifyInstance,
	limits: Config['connections'],
	trustedProxy: (ip: string) => boolean,
): void {
	app.server.maxConnections = limits.max;
	const open = new Map<string, number>();
	app.server.on('connection', (socket: Socket) => {
		const address = socket.remoteAddress ?? '';
		if (trustedProxy(address)) return;
		const ip = clientKey(address);
		const count = (open.get(ip) ?? 0) + 1;
		if (count > limits.perAddress) {
			socket.destroy();
			return;
		}
		open.set(ip, count);
		socket.once('close', () => {
			const left = (open.get(ip) ?? 1) - 1;
			if (left > 0) open.set(ip, left);
			else open.delete(ip);
		});
	});
}

/** At most `max` callbacks waiting on the store; past it StoreBusyError (503 with Retry-After). */
function bounded(ingest: Ingest, max: number): Ingest {
	let pending = 0;
	return async (parsed, alongside, arrival) => {
		if (pending >= max) throw new StoreBusyError('the store is not keeping up; retry later');
		pending++;
		try {
			return await ingest(parsed, alongside, arrival);
		} finally {
			pending--;
		}
	};
}
