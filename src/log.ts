import pino, { type DestinationStream, type Logger } from 'pino';

/** `/hooks/<provider>/<secret>…` ─▶ `/hooks/<provider>/[secret]…`: the secret never reaches a log line. */
export function redactPath(url: string): string {
	return url
		.replace(/^(\/hooks\/[^/?#]+\/)[^/?#]+/, '$1[secret]')
		.replace(/(\/webhooks\/\d+\/)[\w-]+/, '$1[token]');
}

/**
 * Logs go to stderr as JSON so stdout stays for what a person reads (start-up URLs, dry-run alerts).
 * Request lines carry a redacted path and no headers; tokens are censored wherever they appear.
 */
export function createLogger(
	level: string,
	destination: DestinationStream = pino.destination({ fd: 2, sync: false }),
): Logger {
	return pino(
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
					url: redactPath(req.url),
					ip: req.ip,
				}),
				res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
				err: pino.stdSerializers.err,
			},
		},
		destination,
	);
}
