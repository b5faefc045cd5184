import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { LeaseBackend, LeaseBackendOptions } from './backend.js';
import type { Store } from './store.js';
import type { Change } from './unit.js';

/**
 * The delivery lease: which instance of several sharing one store delivers alerts and holds the Discord
 * gateway session. One atomic operation of the store per step, on the store's own clock:
 * - Redis: `SET key token NX PX ttl` (with the term's fencing number from `INCR`, in one script); renew
 *   and release are compare-and-set / compare-and-delete scripts on the token.
 * - PostgreSQL: one row, taken by `INSERT … ON CONFLICT DO UPDATE … WHERE expired RETURNING`; renewed
 *   and released by an `UPDATE … WHERE holder = token`.
 * - memory and SQLite belong to one process: the lease is always held. On SQLite a heartbeat row names
 *   the process, so a second process opening the same file is told at start.
 *
 * The holder believes its lease for less time than the store keeps it: from the moment the request that
 * took or renewed it was *sent*, minus a fifth. A holder paused past that (a long GC, SIGSTOP, a
 * partition) sees `isHeld()` false when it wakes, before anyone else could have taken the lease.
 */
export interface Lease {
	/** This instance's name in logs and `/readyz`. */
	readonly instanceId: string;
	readonly ttlMs: number;
	/** Shared between instances (Redis, PostgreSQL); false for a single-process store. */
	readonly shared: boolean;
	/** Takes the lease if it is free or expired; true when this instance holds it. */
	acquire(): Promise<boolean>;
	/** Extends the lease this instance holds; false when it is no longer ours. */
	renew(): Promise<boolean>;
	/** Gives the lease up at once, if it is still ours; the next instance to try takes it. */
	release(): Promise<void>;
	/** Held, and its local deadline not passed: asked before every send. */
	isHeld(): boolean;
	/** Milliseconds until the local deadline (Infinity for single-process stores; 0 when not held). */
	remainingMs(): number;
	/** The fencing number of the current term: every new holder gets a larger one. */
	readonly epoch: number | undefined;
	/** Which instance holds the lease, as last seen (this one while held). */
	readonly holder: string | undefined;
	/**
	 * Stores a unit of changes (Store.commit) only while this term holds the lease, checked by the store
	 * in the same atomic step: a holder paused between its own check and the write cannot write over the
	 * next holder's work. False, and nothing stored, once the lease is gone.
	 */
	commit(changes: Change[]): Promise<boolean>;
}

export interface LeaseOptions extends LeaseBackendOptions {
	instanceId: string;
	/** Monotonic milliseconds for the local deadline (tests stop it to play a paused process). */
	clock?: () => number;
}

/** The delivery lease on `store`, with its backend's primitives. */
export async function openLease(store: Store, options: LeaseOptions): Promise<Lease> {
	return createLease(store, await store.backend.lease(options), options);
}

function createLease(
	store: Store,
	backend: LeaseBackend,
	{ instanceId, ttlMs, clock = () => performance.now() }: LeaseOptions,
): Lease {
	// Believed for four fifths of what the store keeps: the rest covers the time between a check and the
	// send it allows, and clocks that run at slightly different rates.
	const believedMs = backend.shared ? ttlMs - ttlMs / 5 : Number.POSITIVE_INFINITY;
	let term: { token: string; epoch: number; deadline: number } | undefined;
	let holder: string | undefined;
	const isHeld = () => term !== undefined && clock() < term.deadline;
	return {
		instanceId,
		ttlMs,
		shared: backend.shared,
		async acquire() {
			if (isHeld()) return true;
			const token = `${instanceId}#${randomBytes(6).toString('hex')}`;
			const sentAt = clock();
			const taken = await backend.take(token, ttlMs);
			if ('epoch' in taken) {
				term = { token, epoch: taken.epoch, deadline: sentAt + believedMs };
				holder = instanceId;
				return true;
			}
			holder = taken.holder;
			return false;
		},
		async renew() {
			const current = term;
			if (!current || !isHeld()) return false;
			const sentAt = clock();
			const kept = await backend.extend(current.token, ttlMs);
			// Released or lost while the renewal was on its way: that answer no longer counts.
			if (term !== current) return false;
			if (kept) current.deadline = sentAt + believedMs;
			else term = undefined;
			return kept;
		},
		async release() {
			const current = term;
			term = undefined;
			if (current) await backend.drop(current.token);
		},
		isHeld,
		remainingMs: () => (term ? Math.max(0, term.deadline - clock()) : 0),
		get epoch() {
			return term?.epoch;
		},
		get holder() {
			return isHeld() ? instanceId : holder;
		},
		async commit(changes) {
			const current = term;
			if (!current || !isHeld()) return false;
			return store.commit(
				changes,
				backend.at === undefined ? undefined : { token: current.token, at: backend.at },
			);
		},
	};
}
