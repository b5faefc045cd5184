/**
 * The upstreams hookcord receives callbacks from, and what the rest of the code needs to know of each
 * without loading its parser or route: its names, how long a repeat counts as a retry, where its
 * callbacks come from and where its operator pastes the callback URL. `src/providers/index.ts` adds the
 * routes; both tables must name every provider, so a new one is one entry in each and the compiler
 * points at nothing else to forget.
 */
export const PROVIDER_IDS = ['mofh', 'xolphin', 'wooxy'] as const;
export type Provider = (typeof PROVIDER_IDS)[number];

export interface ProviderFacts {
	/** In alert footers and digests. */
	displayName: string;
	/** In the start-up banner and `npm run urls`, padded into a column. */
	label: string;
	/**
	 * How long an identical callback counts as a provider retry rather than news (see events/fingerprint.ts).
	 * Wooxy retries the same body for about 7 hours (3×100 s, 6×600 s, 6×3600 s: docs/providers.md), so its
	 * window covers that; MOFH and Xolphin document no retries, and the same MOFH callback can legitimately
	 * recur days later (a second DAILY_HIT suspension), so theirs is short.
	 */
	duplicateWindowMs: number;
	/** `<PROVIDER>_ALLOWED_IPS` when unset: the addresses the provider documents, or `*` where it names none. */
	allowedIps: readonly string[];
	/** Where the operator pastes the callback URL (start-up banner). */
	setupHint: string;
}

export const PROVIDER_FACTS = {
	mofh: {
		displayName: 'MyOwnFreeHost',
		label: 'MOFH',
		duplicateWindowMs: 10 * 60_000,
		// MOFH publishes no list of callback addresses (docs/providers.md): any address, behind the secret.
		allowedIps: ['*'],
		setupHint: 'reseller panel ▸ API ▸ Setup WHM API ▸ API Callback URL:',
	},
	xolphin: {
		displayName: 'Xolphin SSL',
		label: 'Xolphin',
		duplicateWindowMs: 10 * 60_000,
		allowedIps: ['185.93.12.91', '185.93.12.111', '2a03:8de0:1:1::91', '2a03:8de0:1:1::111'],
		setupHint: 'send to Xolphin support as the webhook endpoint:',
	},
	wooxy: {
		displayName: 'Wooxy',
		label: 'Wooxy',
		duplicateWindowMs: 8 * 3_600_000,
		allowedIps: ['188.226.196.117'],
		setupHint: 'default target of /wooxy create:',
	},
} as const satisfies Record<Provider, ProviderFacts>;

/** The environment variable holding a provider's allowlist, e.g. `MOFH_ALLOWED_IPS`. */
export type AllowlistVariable = `${Uppercase<Provider>}_ALLOWED_IPS`;
export const allowlistVariable = (provider: Provider) =>
	`${provider.toUpperCase()}_ALLOWED_IPS` as AllowlistVariable;

/** The path a provider posts its callbacks to, with the hook secret. */
export const hookPath = (provider: Provider, secret: string) => `/hooks/${provider}/${secret}`;
