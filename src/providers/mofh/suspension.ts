import type { SuspensionCategory, SuspensionReason } from '../../events/event.js';

/**
 * MOFH's documented suspension reasons (shared/providers/000, NOTES.md A.1), plus `DAILY_CPU`, which real
 * callbacks carry as `ADMIN_CLOSE : DAILY_cpu` although no document lists it.
 */
export const SUSPENSION_REASONS: Record<string, { category: SuspensionCategory; meaning: string }> = {
	PHISHING: { category: 'permanent', meaning: 'Phishing content was found on the account.' },
	VIRUS_MALWARE_HOSTING: { category: 'permanent', meaning: 'The account hosted viruses or malware.' },
	NULLED_SCRIPT: { category: 'permanent', meaning: 'A nulled (pirated) script was found on the account.' },
	CONTENT_VIOLATION: { category: 'permanent', meaning: 'The content breaks the terms of service.' },
	ABUSE_COMPLAINT: { category: 'permanent', meaning: 'An abuse complaint was received about the account.' },
	SPAM_DOMAIN_SIGNUP: { category: 'permanent', meaning: 'The account was signed up with a spam domain.' },
	REQUESTED: { category: 'permanent', meaning: 'Suspended at the request of the account holder.' },
	ADMIN_SUSPEND: { category: 'permanent', meaning: 'Suspended by a MyOwnFreeHost administrator.' },
	ADMIN_CLOSE: { category: 'permanent', meaning: 'Closed by a MyOwnFreeHost administrator.' },
	RES_CLOSE: { category: 'permanent', meaning: 'Closed (deactivated) by the reseller.' },
	OTHER: { category: 'permanent', meaning: 'Suspended for another reason.' },
	DAILY_IO: {
		category: 'temporary',
		meaning: 'The daily disk I/O limit was exceeded; lifted when the day resets.',
	},
	DAILY_HIT: {
		category: 'temporary',
		meaning: 'The daily hits limit was exceeded; lifted when the day resets.',
	},
	DAILY_CPU: {
		category: 'temporary',
		meaning: 'The daily CPU limit was exceeded; lifted when the day resets.',
	},
	MYSQL_OVERLOAD: { category: 'temporary', meaning: 'The databases overloaded the MySQL server.' },
	AUTO_IDLE: { category: 'inactivity', meaning: 'Suspended automatically for inactivity.' },
};

const WRAPPERS = { ADMIN_CLOSE: 'admin', RES_CLOSE: 'reseller' } as const;

/** `daily_ cpu` → `DAILY_CPU`: upper case, no space around underscores, single spaces. */
function normalise(text: string): string {
	return text
		.toUpperCase()
		.replace(/\s*_\s*/g, '_')
		.replace(/\s+/g, ' ')
		.trim();
}

/** The first documented reason code among the words of `text` (`BAD PHISHING` → `PHISHING`). */
function knownCode(text: string): string | undefined {
	const normal = normalise(text);
	if (normal in SUSPENSION_REASONS) return normal;
	return normal.split(/[\s;,]+/).find((word) => word in SUSPENSION_REASONS);
}

/**
 * Parses the comments of a SUSPENDED callback (`<comment> : <reason>`). Real handlers split on ':' and
 * trim (NOTES.md A.1); we split on the first ':' only, so an inner reason keeps any ':' of its own, and
 * we keep the raw text. `ADMIN_CLOSE : DAILY_HIT` stays a temporary DAILY_HIT; `ADMIN_CLOSE; ADMIN_CLOSE`
 * (seen in the wild) reads as ADMIN_CLOSE.
 */
export function parseSuspensionReason(raw: string): SuspensionReason {
	const colon = raw.indexOf(':');
	const head = (colon < 0 ? raw : raw.slice(0, colon)).trim();
	const detail = colon < 0 ? undefined : raw.slice(colon + 1).trim() || undefined;
	const headWords = normalise(head).split(/[\s;,]+/);
	const wrapper = headWords.find((word): word is keyof typeof WRAPPERS => word in WRAPPERS);

	let code: string | undefined;
	// After RES_CLOSE comes the reseller's own free text, never a MOFH code; after ADMIN_CLOSE a code often.
	if (wrapper === 'RES_CLOSE') code = wrapper;
	else if (wrapper) code = (detail && knownCode(detail)) || wrapper;
	else code = knownCode(head) ?? (detail ? knownCode(detail) : undefined);

	const reason: SuspensionReason = {
		raw,
		code: code ?? (normalise(head).replace(/ /g, '_') || 'UNKNOWN'),
		category: code ? (SUSPENSION_REASONS[code]?.category ?? 'unknown') : 'unknown',
	};
	if (wrapper) reason.closedBy = WRAPPERS[wrapper];
	if (detail) reason.detail = detail;
	return reason;
}

/** MOFH deletes a suspended account after about 60 days, an AUTO_IDLE one after about 2 (000_*.txt). */
export function estimatedDeletion(suspendedAt: number, reason: Pick<SuspensionReason, 'code'>): number {
	const days = reason.code === 'AUTO_IDLE' ? 2 : 60;
	return suspendedAt + days * 86_400_000;
}
