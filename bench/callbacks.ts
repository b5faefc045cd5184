import type { Pool } from 'undici';

/** The hook secret of the benchmarks' hookcord processes. */
export const SECRET = 'bench-secret-0123456789';

/**
 * Posts MOFH callbacks (`bodies`, form fields) over `connections` parallel requests of `pool`, each
 * answer read whole; `answered` hears each status and its latency in ms (and may throw to stop the load).
 */
export async function postCallbacks(
	pool: Pool,
	bodies: Record<string, string>[],
	connections: number,
	answered: (status: number, ms: number) => void,
): Promise<void> {
	let next = 0;
	await Promise.all(
		Array.from({ length: connections }, async () => {
			while (next < bodies.length) {
				const body = new URLSearchParams(bodies[next++]).toString();
				const t0 = performance.now();
				const res = await pool.request({
					method: 'POST',
					path: `/hooks/mofh/${SECRET}`,
					headers: { 'content-type': 'application/x-www-form-urlencoded' },
					body,
				});
				await res.body.dump();
				answered(res.statusCode, performance.now() - t0);
			}
		}),
	);
}
