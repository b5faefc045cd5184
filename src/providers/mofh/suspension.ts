import type { SuspensionReason } from '../../events/event.js';
import { suspensionReason } from '../../vocabulary/mofh.js';

/** How much of a SUSPENDED callback's comments is read for its reason code. */
const MAX_READ = 512;

const WRAPPERS = { ADMIN_CLOSE: 'admin', RES_CLOSE: 'reseller' } as const;

/** `daily_ cpu` → `DAILY_CPU`: upper case, no space around underscores, single spaces. */
function normalise(text: string): string {
	return text
		.toUpperCase()
		.replace(/\s*_\s*/g, '_')
		.replace(/\s+/g, ' ')
		.trim();
}

/** The first known reason code among the words of `text` (`BAD PHISHING` → `PHISHING`). */
function knownCode(text: string): string | undefined {
	const normal = normalise(text);
	if (suspensionReason(normal)) return normal;
	return normal.split(/[\s;,]+/).find((word) => suspensionReason(word));
}

/** `some new reason` → `SOME_NEW_REASON`: how an unknown reason is shown and stored. */
const asCode = (text: string) => normalise(text).replace(/ /g, '_');

/** `DISPOSABLE_EMAIL`, `daily_ ep`, `SPAM`: one word in MOFH's code style, not an admin's sentence. */
const looksLikeCode = (text: string) => /^(?:[A-Za-z0-9]+(?:\s*_\s*[A-Za-z0-9]+)+|[A-Z0-9]+)$/.test(text);

/**
 * Parses the comments of a SUSPENDED callback (`<comment> : <reason>`). Real handlers split on ':' and
 * trim (docs/providers.md A.1); we split on the first ':' only, so an inner reason keeps any ':' of its own, and
 * we keep the raw text. `ADMIN_CLOSE : DAILY_HIT` stays a temporary DAILY_HIT, `ADMIN_CLOSE : DAILY_EP`
 * too (every DAILY_* is a daily limit); `ADMIN_CLOSE : SOMETHING_NEW` is the unknown SOMETHING_NEW;
 * `ADMIN_CLOSE; ADMIN_CLOSE` (seen in the wild) reads as ADMIN_CLOSE.
 */
export function parseSuspensionReason(raw: string): SuspensionReason {
	// The code is read from a bounded prefix (MOFH's comments are a few words); `raw` is kept whole.
	const text = raw.slice(0, MAX_READ);
	const colon = text.indexOf(':');
	const head = (colon < 0 ? text : text.slice(0, colon)).trim();
	const detail = colon < 0 ? undefined : text.slice(colon + 1).trim() || undefined;
	const headWords = normalise(head).split(/[\s;,]+/);
	const wrapper = headWords.find((word): word is keyof typeof WRAPPERS => word in WRAPPERS);

	const code = reasonCode(wrapper, head, detail);
	const reason: SuspensionReason = { raw, code, category: suspensionReason(code)?.category ?? 'unknown' };
	if (wrapper) reason.closedBy = WRAPPERS[wrapper];
	return reason;
}

function reasonCode(wrapper: keyof typeof WRAPPERS | undefined, head: string, detail?: string): string {
	// After RES_CLOSE comes the reseller's own text, never a MOFH code.
	if (wrapper === 'RES_CLOSE') return wrapper;
	// After ADMIN_CLOSE comes a code (one nobody documented is that unknown code, not the wrapper's
	// permanent closure) or an admin's words (the documented permanent `ADMIN_CLOSE : <reason>`).
	if (wrapper) {
		if (!detail) return wrapper;
		return knownCode(detail) ?? (looksLikeCode(detail) ? asCode(detail) : wrapper);
	}
	return knownCode(head) ?? (detail && knownCode(detail)) ?? (asCode(head) || 'UNKNOWN');
}
