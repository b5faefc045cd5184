import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';
import { hookPath, PROVIDER_IDS, type Provider } from '../vocabulary/providers.js';

export interface HookSecret {
	secret: string;
	/** True when this call generated it: the only time the start-up banner shows it in full. */
	generated: boolean;
}

/** HOOK_SECRET from the environment, else the one generated on the first start and kept in the store. */
export async function resolveHookSecret(configured: string | undefined, store: Store): Promise<HookSecret> {
	if (configured) return { secret: configured, generated: false };
	const kept = (await store.meta.get('hookSecret')) as string | undefined;
	if (kept) return { secret: kept, generated: false };
	const secret = randomBytes(24).toString('base64url');
	await store.meta.set('hookSecret', secret);
	return { secret, generated: true };
}

export type CallbackUrls = Record<Provider, string>;

/** The URL each provider is given: the receiver's public base, the provider, the secret. */
export function callbackUrls(publicUrl: string, secret: string): CallbackUrls {
	return Object.fromEntries(
		PROVIDER_IDS.map((provider) => [provider, `${publicUrl}${hookPath(provider, secret)}`]),
	) as CallbackUrls;
}
