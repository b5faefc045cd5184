import type { FastifyBaseLogger } from 'fastify';
import type { Lease } from '../state/lease.js';
import { within } from '../within.js';
import { DeliveryError } from './errors.js';
import type { Send } from './kinds/discord.js';

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
	const { lease, renewMs, duties, log, onElected, onDeposed } = options;
	const self = lease.instanceId;
	let leading = false;
	let closed = false;
	let lastSeen: string | undefined;
	let tickTimer: NodeJS.Timeout | undefined;
	let expiryTimer: NodeJS.Timeout | undefined;
	// Elections and depositions run one at a time, in order.
	let transitions: Promise<void> = Promise.resolve();
	const serial = (step: () => Promise<void>) => {
		transitions = transitions.then(step, step);
		return transitions;
	};

	/** Deposes when the lease's local deadline passes without a renewal. */
	function armExpiry(): void {
		if (expiryTimer) clearTimeout(expiryTimer);
		const remaining = lease.remainingMs();
		if (!Number.isFinite(remaining)) return;
		expiryTimer = setTimeout(
			() => void serial(() => depose('its lease ran out before a renewal')),
			remaining,
		);
		expiryTimer.unref();
	}

	async function elect(): Promise<void> {
		if (leading) return;
		if (closed || !lease.isHeld()) {
			await lease.release().catch(() => {});
			return;
		}
		leading = true;
		lastSeen = self;
		armExpiry();
		log.info({ instance: self, epoch: lease.epoch }, `this instance (${self}) leads: ${duties}`);
		try {
			await onElected(lease.epoch ?? 0);
		} catch (error) {
			log.error({ err: error }, 'could not start delivering');
			await depose('delivery did not start');
		}
	}

	async function depose(reason: string, level: 'info' | 'warn' = 'warn'): Promise<void> {
		if (!leading) return;
		leading = false;
		lastSeen = undefined; // the next try names the new leader
		if (expiryTimer) clearTimeout(expiryTimer);
		log[level](
			{ instance: self },
			`this instance (${self}) no longer leads (${reason}): delivery and the gateway stop`,
		);
		await onDeposed().catch((error) => log.error({ err: error }, 'stopping delivery failed'));
		// Only if still ours (compare-and-delete): the next instance need not wait for it to expire.
		await lease.release().catch((error) => log.warn({ err: error }, 'could not release the lease'));
	}

	async function tick(): Promise<void> {
		try {
			if (leading) {
				const kept = await within(lease.renew(), lease.remainingMs());
				if (kept === false) await serial(() => depose('its lease was lost'));
				else if (kept) armExpiry();
				// No answer in time: the store is slow or down; the expiry timer deposes if it stays so.
			} else if (await within(lease.acquire(), Math.max(renewMs, lease.ttlMs))) {
				await serial(elect);
			} else {
				const leader = lease.holder;
				if (leader && leader !== lastSeen)
					log.info(
						{ instance: self, leader },
						`instance ${leader} leads; this instance (${self}) receives callbacks and answers interactions, and takes over if the leader stops`,
					);
				lastSeen = leader;
			}
		} catch (error) {
			if (closed) return;
			log.warn(
				{ err: error },
				leading ? 'could not renew the delivery lease' : 'could not read the delivery lease',
			);
		}
	}

	let ticking: Promise<void> = Promise.resolve();
	function loop(): Promise<void> {
		ticking = tick().then(() => {
			if (closed) return;
			tickTimer = setTimeout(() => void loop(), renewMs);
			tickTimer.unref();
		});
		return ticking;
	}

	const started = loop();
	return {
		started,
		isLeader: () => leading && lease.isHeld(),
		status() {
			const leader = leading ? self : lastSeen;
			return {
				instance: self,
				role: leading ? 'leader' : 'follower',
				...(leader && { leader }),
				...(leading && lease.epoch !== undefined && { epoch: lease.epoch }),
			};
		},
		async stop() {
			closed = true;
			if (tickTimer) clearTimeout(tickTimer);
			// A try in flight may still take the lease: let it land (elect() releases it when closed).
			await within(ticking, renewMs);
			// A planned stop is not a warning; on a shared store the next instance takes over at once.
			const reason = lease.shared
				? 'this instance is stopping; another takes over'
				: 'this instance is stopping';
			await serial(() => depose(reason, 'info'));
		},
	};
}

/** Thrown in place of a send once this instance no longer holds the lease. */
export const notLeading = () =>
	new DeliveryError('pause', 'this instance no longer holds the delivery lease');

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
