import { createRequire } from 'node:module';
import type { CronExpressionParser as Parser } from 'cron-parser';

/** cron-parser (and luxon under it) load only when a schedule is configured, not at every start. */
let loaded: typeof Parser | undefined;
function parser(): typeof Parser {
	loaded ??= (createRequire(import.meta.url)('cron-parser') as { CronExpressionParser: typeof Parser })
		.CronExpressionParser;
	return loaded;
}

/**
 * REPORT_SCHEDULE: a standard 5-field cron expression (minute hour day-of-month month day-of-week, with
 * lists, ranges, steps and names), read as wall-clock time in an IANA zone. cron-parser does the
 * calendar work, daylight-saving changes included; this module fixes the dialect to 5 fields.
 */

/** Why `expression` is not a 5-field cron expression, or undefined when it is. */
export function cronProblem(expression: string): string | undefined {
	const fields = expression.trim().split(/\s+/);
	if (fields.length !== 5)
		return 'expected 5 fields (minute hour day-of-month month day-of-week), such as "0 9 * * 1"';
	try {
		parser().parse(expression.trim());
		return undefined;
	} catch (error) {
		return `not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`;
	}
}

export function isTimeZone(zone: string): boolean {
	try {
		new Intl.DateTimeFormat('en', { timeZone: zone });
		return true;
	} catch {
		return false;
	}
}

/** The first time after `fromMs` (epoch ms) that `expression` names in `timeZone`. */
export function nextRun(expression: string, timeZone: string, fromMs: number): number {
	const parsed = parser().parse(expression, { currentDate: new Date(fromMs), tz: timeZone });
	return parsed.next().getTime();
}

/** The last time at or before `atMs` that `expression` names in `timeZone`. */
export function previousRun(expression: string, timeZone: string, atMs: number): number {
	const parsed = parser().parse(expression, { currentDate: new Date(atMs + 1), tz: timeZone });
	return parsed.prev().getTime();
}
