import type { Event } from '../events/event.js';
import { emailEventLabel, reasonLabel } from '../events/labels.js';
import type { Store } from '../store/store.js';
import type { Addition } from '../store/unit.js';

/**
 * Counts that last: every stored event adds to the record of its UTC hour in `counts`, in the event's
 * own unit (an Addition: no read, no lock, no second write). Records are shared by every instance on the
 * store and survive restarts; /stats and the report read one record per hour of their period (1,440
 * for 30 days and the 30 before, whatever the traffic). Fields, all from closed sets:
 * - `k:<kind>`: events of a kind;
 * - `c:<category>` and `r:<reason>`: suspensions by category and by reason (a documented code, a daily
 *   limit, else `OTHER`);
 * - `e:<event>`: Wooxy events by name (documented, else `other`);
 * - `u:<provider>`: unrecognized callbacks by provider.
 */

export type Counts = Record<string, number>;

/** Kept a little longer than the longest period and the one before it (2 × 30 days). */
const KEEP_MS = 70 * 86_400_000;
const HOUR_MS = 3_600_000;

/** `2026-12-02T09`: the UTC hour a time falls in, as a key (keys sort by time). */
export function hourKey(ms: number): string {
	return new Date(ms).toISOString().slice(0, 13);
}

/** The fields an event adds 1 to. */
export function countsOf(event: Event): Counts {
	const counts: Counts = { [`k:${event.kind}`]: 1 };
	if (event.kind === 'account.suspended') {
		counts[`c:${event.reason.category}`] = 1;
		counts[`r:${reasonLabel(event.reason.code)}`] = 1;
	} else if (event.kind === 'email.event') counts[`e:${emailEventLabel(event.event)}`] = 1;
	else if (event.kind === 'unrecognized') counts[`u:${event.provider}`] = 1;
	return counts;
}

/** The change that counts `event` in its hour's record, for the event's own unit. */
export function countAddition(event: Event): Addition {
	return { collection: 'counts', key: hourKey(event.receivedAt), add: countsOf(event), ttlMs: KEEP_MS };
}

/** One hour's counts; `hour` is the hour's start (epoch ms). */
export interface HourCounts {
	hour: number;
	counts: Counts;
}

/**
 * The counts of every whole UTC hour from the one holding `fromMs` up to, not including, the one holding
 * `toMs`, oldest first; hours without events are absent.
 */
export async function readCounts(
	store: Pick<Store, 'counts'>,
	fromMs: number,
	toMs: number,
): Promise<HourCounts[]> {
	const hours: number[] = [];
	for (let hour = Math.floor(fromMs / HOUR_MS) * HOUR_MS; hour < toMs; hour += HOUR_MS) hours.push(hour);
	if (hours.length === 0) return [];
	const values = (await store.counts.getMany(hours.map(hourKey))) as (Counts | undefined)[];
	const found: HourCounts[] = [];
	for (const [i, counts] of values.entries()) if (counts) found.push({ hour: hours[i] as number, counts });
	return found;
}

/** The counts of several hours added up. */
export function sumCounts(hours: readonly HourCounts[]): Counts {
	const sum: Counts = {};
	for (const { counts } of hours)
		for (const [field, n] of Object.entries(counts)) sum[field] = (sum[field] ?? 0) + n;
	return sum;
}
