import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type Store, splitPrefix } from './store.js';
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

/** One store's primitives, each one atomic operation there. */
interface LeaseBackend {
	/** Holds the lease with `token` (answering the term's fencing number), or names who holds it. */
	take(token: string, ttlMs: number): Promise<{ epoch: number } | { holder: string | undefined }>;
	/** Extends the lease if `token` still holds it. */
	extend(token: string, ttlMs: number): Promise<boolean>;
	/** Ends the lease if `token` still holds it. */
	drop(token: string): Promise<void>;
	/** False for memory and SQLite: one process, the lease never runs out. */
	readonly shared: boolean;
	/** Where the lease lives, for a fenced commit (Fence.at): the Redis key or the PostgreSQL table. */
	readonly at?: string;
}

export interface LeaseOptions {
	instanceId: string;
	ttlMs: number;
	/** Called when another process is found using the same SQLite file. */
	warn: (message: string) => void;
	/** Monotonic milliseconds for the local deadline (tests stop it to play a paused process). */
	clock?: () => number;
}

/** The lease for the store `STORE_URL` names (`store` opened from it). */
export async function openLease(store: Store, storeUrl: string, options: LeaseOptions): Promise<Lease> {
	const scheme = storeUrl.slice(0, storeUrl.indexOf('://'));
	const { prefix } = splitPrefix(storeUrl);
	const backend =
		scheme === 'redis' || scheme === 'rediss'
			? redisBackend(store, prefix)
			: scheme === 'postgres' || scheme === 'postgresql'
				? await postgresBackend(store, prefix)
				: localBackend(store, scheme === 'sqlite', options);
	return createLease(store, backend, options);
}

/** A token names its instance, then a random part: two terms (or two processes) never share one. */
const holderOf = (token: string | null | undefined) =>
	token ? token.slice(0, Math.max(0, token.lastIndexOf('#'))) || token : undefined;

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

/** What the Keyv Redis adapter hands out: a connected node-redis client. */
interface RedisClient {
	eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

// A fencing number only for a token that got the key: both in one script, so numbers follow the order
// in which holders took the lease.
const REDIS_TAKE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
	return redis.call('INCR', KEYS[2])
end
return redis.call('GET', KEYS[1])`;
const REDIS_EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;
const REDIS_DROP = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`;

function redisBackend(store: Store, prefix: string): LeaseBackend {
	const adapter = store.meta.store as { getClient(): Promise<RedisClient> };
	const key = `${prefix}:leader`;
	const run = async (script: string, keys: string[], args: string[]) =>
		(await adapter.getClient()).eval(script, { keys, arguments: args });
	return {
		shared: true,
		at: key,
		async take(token, ttlMs) {
			const answer = await run(REDIS_TAKE, [key, `${key}:epoch`], [token, String(Math.ceil(ttlMs))]);
			return typeof answer === 'number' ? { epoch: answer } : { holder: holderOf(answer as string | null) };
		},
		async extend(token, ttlMs) {
			return (await run(REDIS_EXTEND, [key], [token, String(Math.ceil(ttlMs))])) === 1;
		},
		async drop(token) {
			await run(REDIS_DROP, [key], [token]);
		},
	};
}

/** The Keyv Postgres adapter's pooled query: the lease row needs no session of its own. */
interface PostgresAdapter {
	opts: { schema?: string };
	query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
}

async function postgresBackend(store: Store, prefix: string): Promise<LeaseBackend> {
	const adapter = store.meta.store as PostgresAdapter;
	const table = `${adapter.opts.schema ?? 'public'}.${prefix}_leader`;
	// Expiry is kept and compared on the database's clock, so instances' clocks never meet.
	const expiry = `clock_timestamp() + $2::double precision * interval '1 millisecond'`;
	try {
		await adapter.query(`CREATE TABLE IF NOT EXISTS ${table} (
			name text PRIMARY KEY, holder text NOT NULL, epoch bigint NOT NULL, expires_at timestamptz NOT NULL)`);
	} catch (error) {
		// Two instances starting together both create it: one of them meets the other's new type or table.
		const code = (error as { code?: string }).code;
		if (code !== '23505' && code !== '42P07') throw error;
	}
	return {
		shared: true,
		at: table,
		async take(token, ttlMs) {
			const [row] = await adapter.query(
				`INSERT INTO ${table} AS lease (name, holder, epoch, expires_at) VALUES ('delivery', $1, 1, ${expiry})
				ON CONFLICT (name) DO UPDATE
				SET holder = EXCLUDED.holder, epoch = lease.epoch + 1, expires_at = EXCLUDED.expires_at
				WHERE lease.expires_at < clock_timestamp()
				RETURNING epoch`,
				[token, ttlMs],
			);
			if (row) return { epoch: Number(row.epoch) };
			const [held] = await adapter.query(`SELECT holder FROM ${table} WHERE name = 'delivery'`);
			return { holder: holderOf(held?.holder as string | undefined) };
		},
		async extend(token, ttlMs) {
			const rows = await adapter.query(
				`UPDATE ${table} SET expires_at = ${expiry}
				WHERE name = 'delivery' AND holder = $1 AND expires_at > clock_timestamp()
				RETURNING epoch`,
				[token, ttlMs],
			);
			return rows.length > 0;
		},
		async drop(token) {
			await adapter.query(
				`UPDATE ${table} SET expires_at = '-infinity' WHERE name = 'delivery' AND holder = $1`,
				[token],
			);
		},
	};
}

interface Heartbeat {
	token: string;
	pid: number;
	at: number;
}

/** Whether a process with this id runs on this machine (a SQLite file is local to it). */
function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as { code?: string }).code === 'EPERM';
	}
}

/**
 * Memory and SQLite: this process is the only one, so the lease is always held. On SQLite each renewal
 * also writes a heartbeat (pid, time) that lives one TTL; finding another process's live heartbeat
 * means two processes opened one file, and each would deliver every alert: say so.
 */
function localBackend(store: Store, sqlite: boolean, { warn, ttlMs }: LeaseOptions): LeaseBackend {
	const told = new Set<string>();
	const beat = async (token: string) => {
		if (!sqlite) return;
		try {
			const other = (await store.meta.get('process')) as Heartbeat | undefined;
			if (other && other.token !== token && !told.has(other.token) && alive(other.pid)) {
				told.add(other.token);
				warn(
					`another hookcord process (${holderOf(other.token)}, pid ${other.pid}) is using this SQLite file: ` +
						'SQLite serves one process, and each would deliver every alert. Run one process, or share ' +
						'Redis or PostgreSQL between instances (README, Scaling out).',
				);
			}
			await store.meta.set('process', { token, pid: process.pid, at: Date.now() } satisfies Heartbeat, ttlMs);
		} catch {
			// A heartbeat is advice; a store error here must not stop the only deliverer.
		}
	};
	return {
		shared: false,
		async take(token) {
			await beat(token);
			return { epoch: 1 };
		},
		async extend(token) {
			await beat(token);
			return true;
		},
		async drop(token) {
			if (!sqlite) return;
			const ours = ((await store.meta.get('process')) as Heartbeat | undefined)?.token === token;
			if (ours) await store.meta.delete('process');
		},
	};
}
