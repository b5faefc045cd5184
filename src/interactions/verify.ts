import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** How far a request's timestamp may be from our clock, as Stripe and Svix allow (docs.stripe.com/webhooks#verify-manually, docs.svix.com/receiving/verifying-payloads/how-manual). */
export const TIMESTAMP_TOLERANCE_S = 300;

export function publicKeyFromHex(hex: string): KeyObject {
	return createPublicKey({
		key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, 'hex')]),
		format: 'der',
		type: 'spki',
	});
}

/**
 * Discord's request signature: Ed25519 over `timestamp + rawBody` (docs/discord.md §3). Never throws:
 * anything malformed is simply not a valid signature. A timestamp outside the tolerance is refused so a
 * captured request cannot be replayed later.
 */
export function verifyDiscordRequest(
	key: KeyObject,
	signatureHex: unknown,
	timestamp: unknown,
	rawBody: Buffer,
	nowMs: number,
): boolean {
	if (typeof signatureHex !== 'string' || typeof timestamp !== 'string') return false;
	if (!/^[0-9a-f]{128}$/i.test(signatureHex) || !/^\d{1,12}$/.test(timestamp)) return false;
	if (Math.abs(nowMs / 1000 - Number(timestamp)) > TIMESTAMP_TOLERANCE_S) return false;
	try {
		return verify(
			null,
			Buffer.concat([Buffer.from(timestamp), rawBody]),
			key,
			Buffer.from(signatureHex, 'hex'),
		);
	} catch {
		return false;
	}
}
