import { after, before, describe, it, type TestContext } from 'node:test';
import { type StoreKind, unavailable } from './stores.js';

/** Declares one scenario of a chain: `body` gets the store's fixture as the previous scenario left it. */
export type Step<T> = (name: string, body: (fixture: T, t: TestContext) => Promise<void>) => void;

/**
 * Scenarios that build on each other, run in turn on one fixture per store (opened before the first,
 * closed after the last); the stores run side by side, one that is not configured is skipped. Once a
 * scenario fails, the rest on that store are skipped: each starts where the one before it ended.
 */
export function scenariosOnStores<T extends { close(): Promise<void> }>(
	title: string,
	kinds: readonly StoreKind[],
	open: (kind: StoreKind) => Promise<T>,
	scenarios: (step: Step<T>, kind: StoreKind) => void,
): void {
	describe(title, { concurrency: true }, () => {
		for (const kind of kinds) {
			describe(`on ${kind}`, { concurrency: 1, skip: unavailable(kind) ?? false }, () => {
				let fixture: T | undefined;
				let broken = false;
				before(async () => {
					fixture = await open(kind);
				});
				after(async () => {
					await fixture?.close();
				});
				const step: Step<T> = (name, body) =>
					it(name, async (t) => {
						if (!fixture || broken) return t.skip('an earlier scenario on this store failed');
						broken = true;
						await body(fixture, t);
						broken = false;
					});
				scenarios(step, kind);
			});
		}
	});
}
