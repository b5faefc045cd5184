/**
 * `npm run bench -- --drain [--count N]`: how much reading a backlog costs the delivery worker. A SQLite
 * outbox holds N alerts; they are read the way the worker refills a destination (the first page of
 * 1,000, then the next 500 after the last one held, until none is left), once in key order from the
 * last one held (SQLite, PostgreSQL) and once reading the whole outbox at every page (what Redis and
 * memory stores, which keep no order, must do).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { newEventId } from '../src/events/id.js';
import { createOutbox, outboxAddition } from '../src/state/outbox.js';
import { openStore } from '../src/store/store.js';

const { values } = parseArgs({
	options: { drain: { type: 'boolean' }, count: { type: 'string', default: '20000' } },
	strict: false,
});
const COUNT = Number(values.count);
/** The backlog of one channel, as a flood leaves it. */
const DESTINATION = 'channel:100000000000000001';

async function drain(ordered: boolean): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'hookcord-drain-'));
	const store = await openStore(`sqlite://${dir}/drain.sqlite`);
	try {
		const start = Date.now();
		for (let i = 0; i < COUNT; i += 1000)
			await store.commit(
				Array.from({ length: Math.min(1000, COUNT - i) }, (_, k) => {
					const at = start + i + k;
					const username = `host_${i + k}`;
					return outboxAddition(
						{
							provider: 'mofh',
							kind: 'account.activated',
							username,
							id: newEventId(at),
							receivedAt: at,
						},
						DESTINATION,
					).write;
				}),
			);
		if (!ordered) delete store.readAfter;
		const outbox = createOutbox(store);
		const cpu = process.cpuUsage();
		const t0 = performance.now();
		let pages = 1;
		let read = 0;
		for (let page = await outbox.page(DESTINATION, 1000); page.length > 0; pages++) {
			read += page.length;
			page = await outbox.page(DESTINATION, 500, { after: page.at(-1)?.event.id ?? null });
		}
		const used = process.cpuUsage(cpu);
		process.stdout.write(
			`${ordered ? 'in key order from the last held' : 'whole outbox at every page'}: ${read} alerts in ${pages} pages, ` +
				`${((performance.now() - t0) / 1000).toFixed(2)} s, CPU ${((used.user + used.system) / 1e6).toFixed(2)} s\n`,
		);
	} finally {
		await store.close();
		rmSync(dir, { recursive: true, force: true });
	}
}

process.stdout.write(
	`node ${process.version}; a backlog of ${COUNT} alerts in a SQLite outbox, read page by page\n`,
);
await drain(true);
await drain(false);
