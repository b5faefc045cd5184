import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

/**
 * The second listener (METRICS_HOST:METRICS_PORT): `GET /metrics` and nothing else. Kept off the public
 * receiver, which takes callbacks from the internet, as Alertmanager and most exporters keep their own
 * port; loopback by default.
 */
export async function startMetricsServer(
	metrics: Metrics,
	where: { host: string; port: number },
	logger: FastifyBaseLogger,
): Promise<{ server: FastifyInstance; address: string }> {
	const server = Fastify({ loggerInstance: logger.child({ component: 'metrics' }) });
	// A scrape every few seconds is not worth a log line each.
	server.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
		const { contentType, body } = await metrics.exposition();
		return reply.type(contentType).send(body);
	});
	await server.listen(where);
	const { port } = server.server.address() as { port: number };
	const host = where.host.includes(':') ? `[${where.host}]` : where.host;
	return { server, address: `http://${host}:${port}` };
}
