import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { TOPICS, type Topic } from './events/event.js';

/**
 * The only module that reads the environment. One zod schema turns `process.env` (plus `.env` in the
 * working directory) into a typed `Config`; a wrong value stops start-up with a message naming the
 * variable and what it expects, and never echoes a secret back.
 */

/** Discord ids are snowflakes (17-20 digits today); any all-digit id up to 20 digits is taken. */
const SNOWFLAKE = /^\d{1,20}$/;
/**
 * `https://discord.com/api/webhooks/ID/TOKEN`: any host and any path ending in `/webhooks/ID/TOKEN`, so a
 * proxy or a test double works; a query (`?thread_id=…`) is kept.
 */
export const WEBHOOK_URL =
	/^https?:\/\/[^\s/]+(?:\/[^\s/?]+)*?\/webhooks\/(\d{1,20})\/([\w-]{1,200})(?:\?[^\s]*)?$/;

const SECRET_VARIABLES = new Set(['DISCORD_TOKEN', 'HOOK_SECRET', 'WOOXY_API_TOKEN']);

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

const cidr = z.string().refine((value) => {
	if (value === '*') return true;
	const [address, bits, ...rest] = value.split('/');
	const family = isIP(address ?? '');
	if (!family || rest.length > 0) return false;
	if (bits === undefined) return true;
	const n = Number(bits);
	return /^\d+$/.test(bits) && n >= 0 && n <= (family === 4 ? 32 : 128);
}, 'expected comma-separated IP addresses or CIDR ranges (IPv4 or IPv6), or *');

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDuration(text: string): number | undefined {
	const match = DURATION.exec(text.trim());
	if (!match) return undefined;
	return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

const duration = z
	.string()
	.refine((value) => parseDuration(value) !== undefined, 'expected a duration such as 500ms, 30s, 5m, 24h')
	.transform((value) => parseDuration(value) as number);

const XOLPHIN_IPS = '185.93.12.91,185.93.12.111,2a03:8de0:1:1::91,2a03:8de0:1:1::111';
const WOOXY_IPS = '188.226.196.117';

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
		.regex(
			/^(sqlite|redis|rediss|postgres|postgresql|memory):\/\/.*$/,
			'expected sqlite://path, redis://…, postgres://… or memory://',
		)
		.default('sqlite://data/hookcord.sqlite'),
	DISCORD_TOKEN: optional(z.string().regex(/^[\w.-]{1,200}$/, 'expected a Discord bot token')),
	DISCORD_APPLICATION_ID: optional(z.string().regex(SNOWFLAKE, 'expected an application id (digits)')),
	DISCORD_GUILD_ID: optional(z.string().regex(SNOWFLAKE, 'expected a guild id (digits)')),
	DISCORD_PUBLIC_KEY: optional(z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected the 64-hex-digit public key')),
	DISCORD_API_URL: z
		.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as https://discord.com/api' })
		.default('https://discord.com/api'),
	ALERTS_CHANNEL: optional(destination),
	...Object.fromEntries(TOPICS.map((topic) => [`ALERTS_CHANNEL_${topic}`, optional(destination)])),
	STAFF_ROLE_IDS: list(z.string().regex(SNOWFLAKE, 'expected comma-separated role ids'), 'role ids').default(
		[],
	),
	MOFH_ALLOWED_IPS: list(cidr, 'addresses').default(['*']),
	XOLPHIN_ALLOWED_IPS: list(cidr, 'addresses').default(XOLPHIN_IPS.split(',')),
	WOOXY_ALLOWED_IPS: list(cidr, 'addresses').default([WOOXY_IPS]),
	TRUST_PROXY: optional(
		z
			.string()
			.refine(
				(value) => ['true', 'false'].includes(value) || cidr.safeParse(value.split(',')[0]?.trim()).success,
				{
					error: 'expected true, false, or comma-separated proxy IPs/CIDRs',
				},
			),
	),
	WOOXY_API_TOKEN: optional(z.string().min(8, 'expected the Wooxy API key')),
	WOOXY_API_URL: z
		.url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
		.default('https://api.wooxy.com'),
	LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
	RETRY_SCHEDULE: list(duration, 'durations').default(
		['5s', '30s', '2m', '10m', '30m', '1h'].map((d) => parseDuration(d) as number),
	),
	RETRY_BUDGET: duration.default(parseDuration('48h') as number),
	RATE_LIMIT_MAX_WAIT: duration.default(parseDuration('30s') as number),
	DELIVERY_TIMEOUT: duration.default(parseDuration('10s') as number),
	DELIVERY: z.enum(['on', 'off'], { error: 'expected on or off' }).default('on'),
	HOOK_RATE_LIMIT: z.coerce.number({ error: 'expected requests per minute' }).int().min(1).default(600),
});

export interface Config {
	host: string;
	port: number;
	publicUrl: string;
	hookSecret?: string;
	storeUrl: string;
	discord: {
		token?: string;
		applicationId?: string;
		guildId?: string;
		publicKey?: string;
		apiUrl: string;
	};
	/** Raw destinations: channel id, webhook URL or `off`; `undefined` falls back to the default. */
	alerts: { default?: string; topics: Partial<Record<Topic, string>> };
	staffRoleIds: string[];
	allowedIps: { mofh: string[]; xolphin: string[]; wooxy: string[] };
	trustProxy?: boolean | string[];
	wooxy: { apiToken?: string; apiUrl: string };
	logLevel: string;
	delivery: {
		enabled: boolean;
		retrySchedule: number[];
		retryBudget: number;
		maxRateLimitWait: number;
		timeout: number;
	};
	/** Callbacks accepted per client address and minute on the hook routes. */
	hookRateLimit: number;
}

export class ConfigError extends Error {
	override name = 'ConfigError';
}

/** Pure: an environment record ─▶ Config, or a ConfigError listing every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
	// `FOO=` in .env means "not set": the default applies, as for a variable that is absent.
	const given = Object.fromEntries(
		Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
	);
	const result = EnvSchema.safeParse(given);
	if (!result.success) {
		const lines = result.error.issues.map((issue) => {
			const name = String(issue.path[0] ?? 'environment');
			const value = env[name];
			// Webhook URLs carry their token: no ALERTS_CHANNEL* value is echoed either.
			const secret = SECRET_VARIABLES.has(name) || name.startsWith('ALERTS_CHANNEL');
			const shown = value === undefined || secret ? '' : ` (got "${value.slice(0, 80)}")`;
			return `  ${name}: ${issue.message}${shown}`;
		});
		throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
	}
	const e = result.data as z.infer<typeof EnvSchema> & Record<string, string | undefined>;
	const topics: Partial<Record<Topic, string>> = {};
	for (const topic of TOPICS) {
		const value = e[`ALERTS_CHANNEL_${topic}`];
		if (value) topics[topic] = value.toLowerCase() === 'off' ? 'off' : value;
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
			...(e.DISCORD_GUILD_ID && { guildId: e.DISCORD_GUILD_ID }),
			...(e.DISCORD_PUBLIC_KEY && { publicKey: e.DISCORD_PUBLIC_KEY.toLowerCase() }),
			apiUrl: e.DISCORD_API_URL.replace(/\/+$/, ''),
		},
		alerts: {
			...(e.ALERTS_CHANNEL && {
				default: e.ALERTS_CHANNEL.toLowerCase() === 'off' ? 'off' : e.ALERTS_CHANNEL,
			}),
			topics,
		},
		staffRoleIds: e.STAFF_ROLE_IDS,
		allowedIps: { mofh: e.MOFH_ALLOWED_IPS, xolphin: e.XOLPHIN_ALLOWED_IPS, wooxy: e.WOOXY_ALLOWED_IPS },
		...(e.TRUST_PROXY !== undefined && { trustProxy: parseTrustProxy(e.TRUST_PROXY) }),
		wooxy: {
			...(e.WOOXY_API_TOKEN && { apiToken: e.WOOXY_API_TOKEN }),
			apiUrl: e.WOOXY_API_URL.replace(/\/+$/, ''),
		},
		logLevel: e.LOG_LEVEL,
		hookRateLimit: e.HOOK_RATE_LIMIT,
		delivery: {
			enabled: e.DELIVERY === 'on',
			retrySchedule: e.RETRY_SCHEDULE.length > 0 ? e.RETRY_SCHEDULE : [5000],
			retryBudget: e.RETRY_BUDGET,
			maxRateLimitWait: e.RATE_LIMIT_MAX_WAIT,
			timeout: e.DELIVERY_TIMEOUT,
		},
	};
}

function parseTrustProxy(value: string): boolean | string[] {
	if (value === 'true') return true;
	if (value === 'false') return false;
	return value
		.split(',')
		.map((part) => part.trim())
		.filter(Boolean);
}

/** `process.env` over `.env` (the environment wins, as with every dotenv loader). */
export function loadConfig(envFile = '.env'): Config {
	if (existsSync(envFile)) process.loadEnvFile(envFile);
	return parseConfig(process.env);
}
