import { createHash, randomFillSync } from 'node:crypto';

let lastMs = 0;
let sequence = 0;

/** Random bytes drawn from a pool refilled 4 KiB at a time: one system call per 680 ids, not per id. */
const pool = Buffer.alloc(4096);
let used = pool.length;
function random48(): number {
	if (used + 6 > pool.length) {
		randomFillSync(pool);
		used = 0;
	}
	const value = pool.readUIntBE(used, 6);
	used += 6;
	return value;
}

/**
 * A 20-character id that sorts by receive time (base36 ms, then a per-ms sequence, then randomness).
 * Short enough to be a Discord message nonce (≤ 25 chars) and unique across processes.
 */
export function newEventId(now: number): string {
	if (now === lastMs) sequence++;
	else {
		lastMs = now;
		sequence = 0;
	}
	const time = now.toString(36).padStart(9, '0');
	const seq = sequence.toString(36).padStart(3, '0');
	const rand = random48().toString(36).padStart(8, '0').slice(-8);
	return `${time}${seq}${rand}`;
}

/** A stable short hash (base36, `length` chars) of some text: nonces and fingerprints. */
export function shortHash(text: string, length = 25): string {
	const hex = createHash('sha256').update(text).digest('hex');
	return BigInt(`0x${hex}`).toString(36).padStart(length, '0').slice(0, length);
}
