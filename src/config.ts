import { existsSync } from 'node:fs';
import { z } from 'zod';
import { TOPICS, type Topic } from './events/event.js';
import { coversAFamily, parseRange } from './net/allowlist.js';
import { shownTarget, targetKey } from './net/target-url.js';
import { cronProblem, isTimeZone } from './schedule/cron.js';
import { parseStoreUrl, StoreConfigError } from './store/url.js';
import {
	type AllowlistVariable,
	allowlistVariable,
	PROVIDER_FACTS,
	PROVIDER_IDS,
	type Provider,
} from './vocabulary/providers.js';

/**
 * The only module that reads the environment. One zod schema turns `process.env` (plus `.env` in the
 * working directory) into a typed `Config`; a wrong value stops start-up with a message naming the
 * variable and what it expects, and never echoes a secret back.
 */

/** Discord ids are snowflakes (17-20 digits today); any all-digit id up to 20 digits is taken. */
export const SNOWFLAKE = /^\d{1,20}$/;
/**
 * `https://discord.com/api/webhooks/ID/TOKEN`: any host and any path ending in `/webhooks/ID/TOKEN`, so a
 * proxy or a test double works; a query (`?thread_id=…`) is kept.
 */
export const WEBHOOK_URL =
	/^https?:\/\/[^\s/]+(?:\/[^\s/?]+)*?\/webhooks\/(\d{1,20})\/([\w-]{1,200})(?:\?[^\s]*)?$/;

/**
 * Never echoed in a config error. STORE_URL and API base URLs may carry a password (user info, or a query
 * such as `?password=` that the Postgres driver honours).
 */
const SECRET_VARIABLES = new Set([
	'DISCORD_TOKEN',
	'HOOK_SECRET',
	'WOOXY_API_TOKEN',
	'STORE_URL',
	'MOFH_API_PASSWORD',
]);
const isSecret = (name: string) =>
	SECRET_VARIABLES.has(name) ||
	name.endsWith('_API_URL') ||
	name.endsWith('_FORWARD_TO') ||
	name.startsWith('ALERTS_CHANNEL');

const optional = <T extends z.ZodType<string>>(schema: T) => schema.optional();

const destination = z
	.string()
	.trim()
	.refine(
		(value) => SNOWFLAKE.test(value) || WEBHOOK_URL.test(value) || value.toLowerCase() === 'off',
		'expected a channel id (digits), a Discord webhook URL, or "off"',
	);

const list = <T extends z.ZodType<unknown, string>>(item: T, what: string) =>
	z
		.string()
		.transform((value) =>
			value
				.split(',')
				.map((part) => part.trim())
				.filter(Boolean),
		)
		.pipe(z.array(item).describe(what));

const ADDRESSES = 'expected comma-separated IP addresses or CIDR ranges (IPv4 or IPv6)';
const allowed = z
	.string()
	.refine((value) => value === '*' || parseRange(value) !== undefined, `${ADDRESSES}, or *`);

/**
 * Your proxies' addresses: Fastify then takes the client address from X-Forwarded-For when the connection
 * comes from one of them. Trusting every address (`true`, `*`, a /0 range) would let any client choose its
 * address, and with it pass the allowlists and the per-address limits: refused, with the fix in the message.
 */
const TRUST_EVERYONE =
	"trusting every address lets any client choose its address with X-Forwarded-For; name your reverse proxy's addresses or CIDR ranges instead, e.g. 127.0.0.1 or 10.0.0.0/8";
const proxy = z.string().superRefine((value, ctx) => {
	const range = parseRange(value);
	if (value.toLowerCase() === 'true' || value === '*' || range?.prefix === 0)
		ctx.addIssue({ code: 'custom', message: TRUST_EVERYONE });
	else if (!range) ctx.addIssue({ code: 'custom', message: ADDRESSES });
});

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS = new Map([
	['ms', 1],
	['s', 1000],
	['m', 60_000],
	['h', 3_600_000],
	['d', 86_400_000],
]);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export function parseDuration(text: string): number | undefined {
	const match = DURATION.exec(text.trim());
	const unit = match && UNIT_MS.get(match[2] ?? '');
	return unit ? Math.round(Number(match[1]) * unit) : undefined;
}

/** `5/5s`: at most 5 messages in any 5 seconds. */
function parseRate(text: string): { messages: number; perMs: number } | undefined {
	const [count, window, ...rest] = text.split('/');
	const messages = Number(count);
	const perMs = parseDuration(window ?? '');
	if (rest.length > 0 || !Number.isInteger(messages) || messages < 1 || !perMs) return undefined;
	return { messages, perMs };
}

const duration = z.string().transform((value, context) => {
	const ms = parseDuration(value);
	if (ms !== undefined) return ms;
	context.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 30s, 5m, 24h' });
	return z.NEVER;
});

/** A forward target: an absolute http(s) URL (its path and query are the panel's own). */
const forwardUrl = z.string().superRefine((value, ctx) => {
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		ctx.addIssue({
			code: 'custom',
			message: 'expected an http(s) URL such as https://panel.example.com/c/mofh',
		});
		return;
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:')
		ctx.addIssue({
			code: 'custom',
			message: 'expected an http(s) URL (other schemes cannot be forwarded to)',
		});
});

const FORWARD_VARIABLES = {
	mofh: 'MOFH_FORWARD_TO',
	xolphin: 'XOLPHIN_FORWARD_TO',
	wooxy: 'WOOXY_FORWARD_TO',
} as const;

/** A provider's allowlist, by default the addresses it documents (vocabulary/providers.ts). */
const allowlist = (provider: Provider) =>
	list(allowed, 'addresses').default([...PROVIDER_FACTS[provider].allowedIps]);

const EnvSchema = z.object({
	HOST: z.string().trim().min(1).default('0.0.0.0'),
	PORT: z.coerce.number({ error: 'expected a port number' }).int().min(0).max(65535).default(3000),
	PUBLIC_URL: optional(
		z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://hooks.example.com' }),
	),
	HOOK_SECRET: optional(
		z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'expected 16 to 128 characters of A-Z, a-z, 0-9, _ or -'),
	),
	STORE_URL: z
		.string()
		.trim()
		.superRefine((value, context) => {
			// The store's own reading of the URL: its scheme, and an invalid `?prefix=` refused at start.
			try {
				parseStoreUrl(value);
			} catch (error) {
				if (!(error instanceof StoreConfigError)) throw error;
				context.addIssue({ code: 'custom', message: error.message.replace(/^STORE_URL: /, '') });
			}
		})
		.default('sqlite://data/hookcord.sqlite'),
	DISCORD_TOKEN: optional(z.string().regex(/^[\w.-]{1,200}$/, 'expected a Discord bot token')),
	DISCORD_APPLICATION_ID: optional(z.string().regex(SNOWFLAKE, 'expected an application id (digits)')),
	DISCORD_GUILD_ID: list(
		z.string().regex(SNOWFLAKE, 'expected a guild id or comma-separated guild ids (digits)'),
		'guild ids',
	).default([]),
	DISCORD_PUBLIC_KEY: optional(z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected the 64-hex-digit public key')),
	DISCORD_API_URL: z
		.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://discord.com/api' })
		.default('https://discord.com/api'),
	ALERTS_CHANNEL: optional(destination),
	...({
		ALERTS_CHANNEL_ACCOUNTS: optional(destination),
		ALERTS_CHANNEL_SUSPENSIONS: optional(destination),
		ALERTS_CHANNEL_DOMAINS: optional(destination),
		ALERTS_CHANNEL_TICKETS: optional(destination),
		ALERTS_CHANNEL_CERTS: optional(destination),
		ALERTS_CHANNEL_EMAIL: optional(destination),
		ALERTS_CHANNEL_OPS: optional(destination),
	} satisfies Record<`ALERTS_CHANNEL_${Topic}`, unknown>),
	STAFF_ROLE_IDS: list(z.string().regex(SNOWFLAKE, 'expected comma-separated role ids'), 'role ids').default(
		[],
	),
	...({
		MOFH_ALLOWED_IPS: allowlist('mofh'),
		XOLPHIN_ALLOWED_IPS: allowlist('xolphin'),
		WOOXY_ALLOWED_IPS: allowlist('wooxy'),
	} satisfies Record<AllowlistVariable, unknown>),
	// `false` (the default) trusts no proxy.
	TRUST_PROXY: z
		.string()
		.transform((value) => (value.trim().toLowerCase() === 'false' ? '' : value))
		.pipe(list(proxy, 'proxy addresses'))
		// Ranges that are each narrower than everything can still add up to everything.
		.refine((entries) => !coversAFamily(entries), TRUST_EVERYONE)
		.default([]),
	WOOXY_API_TOKEN: optional(z.string().min(8, 'expected the Wooxy API key')),
	WOOXY_API_URL: z
		.url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
		.default('https://api.wooxy.com'),
	MOFH_API_URL: z
		.url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
		.default('https://panel.myownfreehost.net'),
	MOFH_API_USERNAME: optional(
		z
			.string()
			.trim()
			.regex(/^\S{1,200}$/, 'expected the MOFH API username'),
	),
	MOFH_API_PASSWORD: optional(z.string().regex(/^[^\r\n]{1,500}$/, 'expected the MOFH API password')),
	LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
	// Capped at 20 s: after an outage of Discord, the backlog starts flowing within 20 s of its return.
	RETRY_SCHEDULE: list(duration, 'durations').default([5 * SECOND, 10 * SECOND, 20 * SECOND]),
	RETRY_BUDGET: duration.default(48 * HOUR),
	RATE_LIMIT_MAX_WAIT: duration.default(30 * SECOND),
	DELIVERY_TIMEOUT: duration.default(10 * SECOND),
	DELIVERY: z.enum(['on', 'off'], { error: 'expected on or off' }).default('on'),
	LEADER_LEASE: duration
		.refine((ms) => ms >= 1000 && ms <= 600_000, 'expected a duration from 1s to 10m')
		.default(15 * SECOND),
	OUTBOX_SWEEP: duration
		.refine((ms) => ms >= 100, 'expected a duration of at least 100ms')
		.default(15 * SECOND),
	INSTANCE_ID: optional(
		z.string().regex(/^[\w.:@-]{1,64}$/, 'expected up to 64 characters of A-Z, a-z, 0-9, _ . : @ -'),
	),
	DELIVERY_RATE: z
		.string()
		.transform((value, context) => {
			const rate = parseRate(value);
			if (rate) return rate;
			context.addIssue({ code: 'custom', message: 'expected messages per duration, such as 5/5s' });
			return z.NEVER;
		})
		.default({ messages: 5, perMs: 5 * SECOND }),
	DIGEST_THRESHOLD: z.coerce
		.number({ error: 'expected a number of alerts' })
		.int()
		.min(2, 'expected at least 2')
		.default(50),
	HOOK_RATE_LIMIT: z.coerce
		.number({ error: 'expected refused requests per minute' })
		.int()
		.min(1)
		.default(60),
	INGEST_MAX_PENDING: z.coerce.number({ error: 'expected a number of callbacks' }).int().min(1).default(256),
	// Zero would switch Node's request timeout off.
	REQUEST_TIMEOUT: duration
		.refine((ms) => ms >= 100, 'expected at least 100ms, such as 30s')
		.default(30 * SECOND),
	MOFH_FORWARD_TO: list(forwardUrl, 'forward targets').default([]),
	XOLPHIN_FORWARD_TO: list(forwardUrl, 'forward targets').default([]),
	WOOXY_FORWARD_TO: list(forwardUrl, 'forward targets').default([]),
	FORWARD_TIMEOUT: duration
		.refine((ms) => ms >= 100 && ms <= 600_000, 'expected a duration from 100ms to 10m, such as 30s')
		.default(30 * SECOND),
	FORWARD_CONCURRENCY: z.coerce
		.number({ error: 'expected a number of requests from 1 to 64' })
		.int('expected a whole number from 1 to 64')
		.min(1, 'expected a number of requests from 1 to 64')
		.max(64, 'expected a number of requests from 1 to 64')
		.default(4),
	METRICS_PORT: z.coerce.number({ error: 'expected a port number' }).int().min(0).max(65535).optional(),
	METRICS_HOST: z.string().trim().min(1).default('127.0.0.1'),
	REPORT_SCHEDULE: optional(
		z.string().transform((value, context) => {
			const problem = cronProblem(value);
			if (!problem) return value.trim().replace(/\s+/g, ' ');
			context.addIssue({ code: 'custom', message: problem });
			return z.NEVER;
		}),
	),
	REPORT_TIMEZONE: z
		.string()
		.trim()
		.refine(isTimeZone, 'expected an IANA time zone such as UTC or Europe/Berlin')
		.default('UTC'),
	MAX_CONNECTIONS: z.coerce.number({ error: 'expected a number of connections' }).int().min(1).default(512),
	MAX_CONNECTIONS_PER_ADDRESS: z.coerce
		.number({ error: 'expected a number of connections' })
		.int()
		.min(1)
		.default(64),
});

/** The environment, checked by EnvSchema and shaped for the rest of hookcord. */
const ConfigSchema = EnvSchema.superRefine(refuseLoops).transform(toConfig);

/**
 * A forward target that is hookcord's own hook route would send every callback back to itself (and the
 * target URL would carry the hook secret): refused. Its own route is any `/hooks/` path on PUBLIC_URL's
 * host, or on a loopback or listening address with PORT; any URL holding HOOK_SECRET is refused too.
 */
function refuseLoops(e: z.output<typeof EnvSchema>, ctx: z.RefinementCtx): void {
	const publicUrl = e.PUBLIC_URL ? new URL(e.PUBLIC_URL) : undefined;
	const ownHosts = new Set(
		['localhost', '127.0.0.1', '[::1]', '0.0.0.0', '[::]', e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST].map(
			(host) => `${host.toLowerCase()}:${e.PORT}`,
		),
	);
	if (publicUrl) ownHosts.add(hostWithPort(publicUrl));
	for (const name of Object.values(FORWARD_VARIABLES)) {
		const seen = new Set<string>();
		e[name].forEach((value, index) => {
			if (!URL.canParse(value)) return;
			const url = new URL(value);
			const own = ownHosts.has(hostWithPort(url)) && /^\/hooks(\/|$)/.test(url.pathname);
			if (own || (e.HOOK_SECRET && value.includes(e.HOOK_SECRET)))
				ctx.addIssue({
					code: 'custom',
					path: [name, index],
					message: "is hookcord's own hook route: put the panel's callback URL here, not hookcord's",
				});
			if (seen.has(value))
				ctx.addIssue({ code: 'custom', path: [name, index], message: 'lists the same target twice' });
			seen.add(value);
		});
	}
}

/** `host:port` with the scheme's default port spelled out, so `http://a` and `http://a:80` compare equal. */
function hostWithPort(url: URL): string {
	const port = url.port || (url.protocol === 'https:' ? '443' : '80');
	return `${url.hostname.toLowerCase()}:${port}`;
}
export type Config = z.output<typeof ConfigSchema>;

export class ConfigError extends Error {
	override name = 'ConfigError';
}

/** Pure: an environment record ─▶ Config, or a ConfigError listing every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
	// `FOO=` in .env means "not set": the default applies, as for a variable that is absent.
	const given = Object.fromEntries(
		Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
	);
	const result = ConfigSchema.safeParse(given);
	if (!result.success) {
		const lines = result.error.issues.map((issue) => {
			const name = String(issue.path[0] ?? 'environment');
			const value = env[name];
			// Webhook URLs carry their token: no ALERTS_CHANNEL* value is echoed either (see isSecret).
			// In a comma-separated list, say which entry is wrong.
			const entry = typeof issue.path[1] === 'number' ? `entry ${issue.path[1] + 1}` : '';
			const got = value === undefined || isSecret(name) ? [] : [`got "${value.slice(0, 80)}"`];
			const notes = [...got, ...(entry ? [entry] : [])];
			return `  ${name}: ${issue.message}${notes.length ? ` (${notes.join(', ')})` : ''}`;
		});
		throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
	}
	return result.data;
}

/** `off` in any case is `off`; anything else is a channel id or webhook URL. */
const normalDestination = (value: string) => (value.toLowerCase() === 'off' ? 'off' : value);

function toConfig(e: z.output<typeof EnvSchema>) {
	/** Raw destinations per topic: channel id, webhook URL or `off`; an absent one falls back to the default. */
	const topics: Partial<Record<Topic, string>> = {};
	for (const topic of TOPICS) {
		const value = e[`ALERTS_CHANNEL_${topic}`];
		if (value) topics[topic] = normalDestination(value);
	}
	return {
		host: e.HOST,
		port: e.PORT,
		publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
		...(e.HOOK_SECRET && { hookSecret: e.HOOK_SECRET }),
		storeUrl: e.STORE_URL,
		discord: {
			...(e.DISCORD_TOKEN && { token: e.DISCORD_TOKEN }),
			...(e.DISCORD_APPLICATION_ID && { applicationId: e.DISCORD_APPLICATION_ID }),
			guildIds: [...new Set(e.DISCORD_GUILD_ID)],
			...(e.DISCORD_PUBLIC_KEY && { publicKey: e.DISCORD_PUBLIC_KEY.toLowerCase() }),
			apiUrl: e.DISCORD_API_URL.replace(/\/+$/, ''),
		},
		alerts: {
			...(e.ALERTS_CHANNEL && { default: normalDestination(e.ALERTS_CHANNEL) }),
			topics,
		},
		staffRoleIds: e.STAFF_ROLE_IDS,
		allowedIps: Object.fromEntries(
			PROVIDER_IDS.map((provider) => [provider, e[allowlistVariable(provider)]]),
		) as Record<Provider, string[]>,
		trustProxy: e.TRUST_PROXY,
		wooxy: {
			...(e.WOOXY_API_TOKEN && { apiToken: e.WOOXY_API_TOKEN }),
			apiUrl: e.WOOXY_API_URL.replace(/\/+$/, ''),
		},
		mofh: {
			apiUrl: e.MOFH_API_URL.replace(/\/+$/, ''),
			...(e.MOFH_API_USERNAME && { username: e.MOFH_API_USERNAME }),
			...(e.MOFH_API_PASSWORD && { password: e.MOFH_API_PASSWORD }),
		},
		logLevel: e.LOG_LEVEL,
		/** Callbacks accepted per client address and minute on the hook routes. */
		hookRateLimit: e.HOOK_RATE_LIMIT,
		...(e.INSTANCE_ID && { instanceId: e.INSTANCE_ID }),
		ingestMaxPending: e.INGEST_MAX_PENDING,
		requestTimeout: e.REQUEST_TIMEOUT,
		connections: { max: e.MAX_CONNECTIONS, perAddress: e.MAX_CONNECTIONS_PER_ADDRESS },
		forward: {
			targets: (Object.keys(FORWARD_VARIABLES) as (keyof typeof FORWARD_VARIABLES)[]).flatMap((provider) =>
				e[FORWARD_VARIABLES[provider]].map((url) => ({
					provider,
					/** The whole URL, credentials and query included: used only to send. */
					url,
					key: targetKey(`${provider} ${url}`),
					shown: shownTarget(url),
				})),
			),
			timeoutMs: e.FORWARD_TIMEOUT,
			concurrency: e.FORWARD_CONCURRENCY,
		},
		...(e.METRICS_PORT !== undefined && { metrics: { host: e.METRICS_HOST, port: e.METRICS_PORT } }),
		report: {
			...(e.REPORT_SCHEDULE && { schedule: e.REPORT_SCHEDULE }),
			timeZone: e.REPORT_TIMEZONE,
		},
		delivery: {
			enabled: e.DELIVERY === 'on',
			leaderLease: e.LEADER_LEASE,
			sweep: e.OUTBOX_SWEEP,
			retrySchedule: e.RETRY_SCHEDULE.length > 0 ? e.RETRY_SCHEDULE : [5000],
			retryBudget: e.RETRY_BUDGET,
			maxRateLimitWait: e.RATE_LIMIT_MAX_WAIT,
			timeout: e.DELIVERY_TIMEOUT,
			rate: e.DELIVERY_RATE,
			digestThreshold: e.DIGEST_THRESHOLD,
		},
	};
}

/** `process.env` over `.env` (the environment wins, as with every dotenv loader). */
export function loadConfig(envFile = '.env'): Config {
	if (existsSync(envFile)) process.loadEnvFile(envFile);
	return parseConfig(process.env);
}
