/**
 * The one bounded wait of the tests: resolves with the probe's first truthy result, checking every
 * `everyMs`; rejects after `timeoutMs` naming what it waited for (and `detail()`, e.g. what a double saw).
 */
export async function until<T>(
	probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
	what: string,
	{
		timeoutMs = 3000,
		everyMs = 5,
		detail,
	}: { timeoutMs?: number; everyMs?: number; detail?: () => string } = {},
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value) return value;
		if (Date.now() >= deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
		}
		await new Promise((resolve) => setTimeout(resolve, everyMs));
	}
}

/**
 * Resolves once delivery is idle: nothing held, nothing known to wait in the store, nothing being sent.
 * Rejects after `timeoutMs` of real time.
 */
export async function idle(worker: { status(): { idle: boolean } }, timeoutMs = 10_000): Promise<void> {
	await until(() => worker.status().idle, 'delivery to become idle', { timeoutMs });
}
