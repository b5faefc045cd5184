import rateLimit from '@fastify/rate-limit';
import Fastify, {
	type FastifyBaseLogger,
	type FastifyError,
	type FastifyInstance,
	type FastifyReply,
} from 'fastify';
import type { Config } from './config.js';
import type { WorkerStatus } from './delivery/worker.js';
import { type InteractionsOptions, interactionsRoutes } from './discord/interactions-route.js';
import { PayloadError } from './providers/fields.js';
import { NOT_FOUND } from './providers/guard.js';
import { mofhRoutes } from './providers/mofh/route.js';
import { wooxyRoutes } from './providers/wooxy/route.js';
import { xolphinRoutes } from './providers/xolphin/route.js';
import { type Ingest, InProgressError, StoreUnavailableError } from './state/ingest.js';
import type { Store } from './state/store.js';

export interface AppDeps {
	config: Config;
	store: Store;
	ingest: Ingest;
	hookSecret: string;
	delivery: { status(): WorkerStatus };
	/** Whether the Discord gateway is connected; absent in a dry run or before the gateway exists. */
	discordReady?: () => boolean;
	logger: FastifyBaseLogger;
	/** Enables `POST /interactions` (when DISCORD_PUBLIC_KEY is set). */
	interactions?: InteractionsOptions;
}

/**
 * The receiver: provider routes, health, and one error policy: a payload that is not a well-formed
 * callback gets 400 `{error}`, a store that cannot take the event gets 503 (the provider retries),
 * and nothing internal leaks in a 5xx.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
	const { config, store, ingest, hookSecret } = deps;
	const app = Fastify({
		loggerInstance: deps.logger,
		trustProxy: config.trustProxy ?? false,
		bodyLimit: 64 * 1024,
		requestTimeout: 30_000,
		connectionTimeout: 60_000,
		keepAliveTimeout: 10_000,
		return503OnClosing: true,
		// The only path parameter is the hook secret (up to 128 characters); Fastify's default of 100 would
		// answer 414 to a valid long secret.
		routerOptions: { maxParamLength: 128 },
		// A path segment longer than any secret answers like an unknown path; an undecodable one (`%ZZ`)
		// gets the usual `{error}` 400 instead of Fastify's default body echoing the path.
		frameworkErrors: (error, _request, reply: FastifyReply) => {
			if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return reply.code(404).send(NOT_FOUND);
			return reply.code(error.statusCode ?? 400).send({ error: 'malformed URL' });
		},
		// `__proto__` and `constructor.prototype` keys are refused by the default JSON parser
		// (secure-json-parse); repeated keys are not (the last one wins).
		onProtoPoisoning: 'error',
		onConstructorPoisoning: 'error',
	});

	// Per-address limits on the hook routes (their `config.rateLimit`) and on unknown paths, so neither
	// callbacks nor secret guessing can flood the store. 429s go through the error handler below.
	await app.register(rateLimit, {
		global: false,
		errorResponseBuilder: (_request, context) =>
			Object.assign(new Error(`too many requests from this address, retry in ${context.after}`), {
				statusCode: 429,
			}),
	});
	app.setNotFoundHandler(
		{ preHandler: app.rateLimit({ max: config.hookRateLimit, timeWindow: 60_000 }) },
		(_request, reply) => reply.code(404).send(NOT_FOUND),
	);
	app.setErrorHandler((error: FastifyError, request, reply) => {
		if (error instanceof PayloadError) return reply.code(400).send({ error: error.message });
		if (error instanceof InProgressError) {
			return reply.code(503).header('retry-after', '30').send({ error: error.message });
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

	const hookOptions = { ingest, secret: hookSecret, rateLimit: config.hookRateLimit };
	await app.register(mofhRoutes, { ...hookOptions, allowedIps: config.allowedIps.mofh });
	await app.register(xolphinRoutes, { ...hookOptions, allowedIps: config.allowedIps.xolphin });
	await app.register(wooxyRoutes, { ...hookOptions, allowedIps: config.allowedIps.wooxy });
	if (deps.interactions) await app.register(interactionsRoutes, deps.interactions);

	app.get('/healthz', async () => ({ status: 'ok' }));
	app.get('/readyz', async (_request, reply) => {
		const problems: string[] = [];
		try {
			await withTimeout(store.ping(), 2000);
		} catch {
			problems.push('store unreachable');
		}
		const delivery = deps.delivery.status();
		if (delivery.halted) problems.push(`Discord delivery halted: ${delivery.halted}`);
		if (config.discord.token && deps.discordReady && !deps.discordReady())
			problems.push('Discord gateway not connected');
		const body = {
			status: problems.length ? 'unavailable' : 'ready',
			problems,
			store: store.description,
			discord: config.discord.token ? 'bot' : 'dry run',
			delivery,
		};
		return reply.code(problems.length ? 503 : 200).send(body);
	});
	return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
