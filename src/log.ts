import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * A pattern for `secret` as it may appear in a URL: each character as itself or percent-encoded (in either
 * hex case, also encoded again as `%25…`), because a router decodes `%74` into `t` and still matches.
 */
function secretPattern(secret: string): RegExp {
	const hex = (digit: string) =>
		/\d/.test(digit) ? digit : `[${digit.toLowerCase()}${digit.toUpperCase()}]`;
	const chars = [...secret].map((char) => {
		const code = (char.codePointAt(0) as number).toString(16).padStart(2, '0');
		const literal = char.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
		return code.length === 2
			? `(?:${literal}|%(?:25)*${hex(code[0] as string)}${hex(code[1] as string)})`
			: literal;
	});
	return new RegExp(chars.join(''), 'g');
}

/** `/hooks/<provider>/<anything>` wherever it appears (also `//hooks`, `/HOOKS`, `hooks%2F`): a wrong guess is not logged either. */
const HOOK_PATH = /(\/hooks(?:\/|%2f)+[a-z]+(?:\/|%2f)+)[^/?#&\s"]+/gi;
const WEBHOOK_TOKEN = /(\/webhooks\/\d+\/)[\w-]+/g;

/**
 * A URL as it may be logged: the hook secret replaced wherever it appears (absolute-form targets, path
 * variants that 404, percent-encoded), any `/hooks/<provider>/…` segment masked, Discord webhook tokens too.
 */
export function redactPath(url: string, secrets: Iterable<string> = []): string {
	let redacted = url;
	for (const secret of secrets) redacted = redacted.replace(secretPattern(secret), '[secret]');
	return redacted.replace(HOOK_PATH, '$1[secret]').replace(WEBHOOK_TOKEN, '$1[token]');
}

const SECRETS = Symbol('secrets');
type Scrubbing = { [SECRETS]?: Map<string, RegExp> };

/**
 * From now on every line `logger` (and each of its children) writes has `secret` replaced by `[secret]`,
 * wherever it appears and however it is percent-encoded: in request URLs, messages and error stacks.
 */
export function hideInLog(logger: object, secret: string): void {
	const secrets = (logger as Scrubbing)[SECRETS];
	if (secrets && !secrets.has(secret)) secrets.set(secret, secretPattern(secret));
}

/**
 * Logs go to stderr as JSON so stdout stays for what a person reads (start-up URLs, dry-run alerts).
 * Request lines carry a redacted path and no headers; tokens are censored wherever they appear, and the
 * secrets given to `hideInLog` are scrubbed from every line before it is written.
 */
export function createLogger(
	level: string,
	destination: DestinationStream = pino.destination({ fd: 2, sync: false }),
): Logger {
	const secrets = new Map<string, RegExp>();
	const logger = pino(
		{
			level,
			redact: {
				paths: [
					'token',
					'*.token',
					'headers.authorization',
					'*.headers.authorization',
					'hookSecret',
					'accessToken',
				],
				censor: '[redacted]',
			},
			serializers: {
				req: (req: { method: string; url: string; ip?: string }) => ({
					method: req.method,
					url: redactPath(req.url, secrets.keys()),
					ip: req.ip,
				}),
				res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
				err: pino.stdSerializers.err,
			},
			hooks: {
				streamWrite: (line) => {
					let scrubbed = line;
					for (const pattern of secrets.values()) scrubbed = scrubbed.replace(pattern, '[secret]');
					return scrubbed;
				},
			},
		},
		destination,
	);
	// pino's children inherit from their parent's object, so they find the same map.
	return Object.assign(logger, { [SECRETS]: secrets });
}
