import type { FastifyBaseLogger } from 'fastify';
import type { Lease } from '../store/lease.js';
import { within } from '../within.js';
import { notLeading } from './errors.js';
import type { Send } from './message.js';

export interface LeadershipStatus {
	/** This instance's id. */
	instance: string;
	/** `leader` delivers and holds the gateway; `follower` takes over when the leader stops; `receiver`: DELIVERY=off. */
	role: 'leader' | 'follower' | 'receiver';
	/** The leading instance's id, as last seen. */
	leader?: string;
	/** The lease's fencing number while this instance leads. */
	epoch?: number;
}

export interface Leadership {
	/** Resolves after the first attempt to take the lease (and, when it was taken, after `onElected`). */
	readonly started: Promise<void>;
	isLeader(): boolean;
	status(): LeadershipStatus;
	/** Stops leading at once (`onDeposed`, then the lease is released for the next instance) and stops trying. */
	stop(): Promise<void>;
}

export interface LeadershipOptions {
	lease: Lease;
	/** How often the leader renews its lease and a follower tries to take it. */
	renewMs: number;
	/** What leading means for this instance, for the log: e.g. "it delivers alerts". */
	duties: string;
	log: FastifyBaseLogger;
	/** This instance now leads: start delivering and open the gateway. */
	onElected(epoch: number): Promise<void>;
	/** This instance no longer leads: stop delivering and close the gateway. */
	onDeposed(): Promise<void>;
}

/**
 * Takes, renews and hands over the delivery lease. A follower tries to take it every `renewMs`; the
 * leader renews it as often, and stops (`onDeposed`) as soon as a renewal says the lease is gone or its
 * local deadline passes without one: before the store lets another instance take it.
 */
export function startLeadership(options: LeadershipOptions): Leadership {
	return new LeaseHolder(options);
}

class LeaseHolder implements Leadership {
	readonly started: Promise<void>;
	readonly #options: LeadershipOptions;
	readonly #self: string;
	#leading = false;
	#closed = false;
	#lastSeen: string | undefined;
	#tickTimer: NodeJS.Timeout | undefined;
	#expiryTimer: NodeJS.Timeout | undefined;
	#ticking: Promise<void> = Promise.resolve();
	/** Elections and depositions run one at a time, in order. */
	#transitions: Promise<void> = Promise.resolve();

	constructor(options: LeadershipOptions) {
		this.#options = options;
		this.#self = options.lease.instanceId;
		this.started = this.#loop();
	}

	isLeader(): boolean {
		return this.#leading && this.#options.lease.isHeld();
	}

	status(): LeadershipStatus {
		const { lease } = this.#options;
		const leader = this.#leading ? this.#self : this.#lastSeen;
		return {
			instance: this.#self,
			role: this.#leading ? 'leader' : 'follower',
			...(leader && { leader }),
			...(this.#leading && lease.epoch !== undefined && { epoch: lease.epoch }),
		};
	}

	async stop(): Promise<void> {
		const { lease, renewMs } = this.#options;
		this.#closed = true;
		if (this.#tickTimer) clearTimeout(this.#tickTimer);
		// A try in flight may still take the lease: let it land (elect() releases it when closed).
		await within(this.#ticking, renewMs);
		// A planned stop is not a warning; on a shared store the next instance takes over at once.
		const reason = lease.shared
			? 'this instance is stopping; another takes over'
			: 'this instance is stopping';
		await this.#serial(() => this.#depose(reason, 'info'));
	}

	#serial(step: () => Promise<void>): Promise<void> {
		this.#transitions = this.#transitions.then(step, step);
		return this.#transitions;
	}

	/** Deposes when the lease's local deadline passes without a renewal. */
	#armExpiry(): void {
		if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
		const remaining = this.#options.lease.remainingMs();
		if (!Number.isFinite(remaining)) return;
		this.#expiryTimer = setTimeout(
			() => void this.#serial(() => this.#depose('its lease ran out before a renewal')),
			remaining,
		);
		this.#expiryTimer.unref();
	}

	async #elect(): Promise<void> {
		const { lease, log, duties, onElected } = this.#options;
		const self = this.#self;
		if (this.#leading) return;
		if (this.#closed || !lease.isHeld()) {
			await lease.release().catch(() => {});
			return;
		}
		this.#leading = true;
		this.#lastSeen = self;
		this.#armExpiry();
		log.info({ instance: self, epoch: lease.epoch }, `this instance (${self}) leads: ${duties}`);
		try {
			await onElected(lease.epoch ?? 0);
		} catch (error) {
			log.error({ err: error }, 'could not start delivering');
			await this.#depose('delivery did not start');
		}
	}

	async #depose(reason: string, level: 'info' | 'warn' = 'warn'): Promise<void> {
		const { lease, log, onDeposed } = this.#options;
		if (!this.#leading) return;
		this.#leading = false;
		this.#lastSeen = undefined; // the next try names the new leader
		if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
		log[level](
			{ instance: this.#self },
			`this instance (${this.#self}) no longer leads (${reason}): delivery and the gateway stop`,
		);
		await onDeposed().catch((error) => log.error({ err: error }, 'stopping delivery failed'));
		// Only if still ours (compare-and-delete): the next instance need not wait for it to expire.
		await lease.release().catch((error) => log.warn({ err: error }, 'could not release the lease'));
	}

	async #tick(): Promise<void> {
		const { lease, log, renewMs } = this.#options;
		const self = this.#self;
		try {
			if (this.#leading) {
				const kept = await within(lease.renew(), lease.remainingMs());
				if (kept === false) await this.#serial(() => this.#depose('its lease was lost'));
				else if (kept) this.#armExpiry();
				// No answer in time: the store is slow or down; the expiry timer deposes if it stays so.
			} else if (await within(lease.acquire(), Math.max(renewMs, lease.ttlMs))) {
				await this.#serial(() => this.#elect());
			} else {
				const leader = lease.holder;
				if (leader && leader !== this.#lastSeen)
					log.info(
						{ instance: self, leader },
						`instance ${leader} leads; this instance (${self}) receives callbacks and answers interactions, and takes over if the leader stops`,
					);
				this.#lastSeen = leader;
			}
		} catch (error) {
			if (this.#closed) return;
			log.warn(
				{ err: error },
				this.#leading ? 'could not renew the delivery lease' : 'could not read the delivery lease',
			);
		}
	}

	#loop(): Promise<void> {
		this.#ticking = this.#tick().then(() => {
			if (this.#closed) return;
			this.#tickTimer = setTimeout(() => void this.#loop(), this.#options.renewMs);
			this.#tickTimer.unref();
		});
		return this.#ticking;
	}
}

/**
 * Fencing: a send checks the lease first, so a leader that lost its lease (paused past it, cut off from
 * the store) sends nothing more, even before it has noticed.
 */
export function fenceSend<A extends unknown[] = Parameters<Send>>(
	lease: Pick<Lease, 'isHeld'>,
	send: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
	return async (...args) => {
		if (!lease.isHeld()) throw notLeading();
		return send(...args);
	};
}
