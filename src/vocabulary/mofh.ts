/** How long a suspension lasts, as staff need to know it. */
export type SuspensionCategory = 'permanent' | 'temporary' | 'inactivity' | 'unknown';

/**
 * MOFH's documented suspension reasons (docs/providers.md A.1), plus `DAILY_CPU`, which real
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

/**
 * A reason code's category and meaning: the documented table first, then the families real callbacks
 * show beyond it: every `DAILY_*` code is a daily resource limit (DAILY_IO, DAILY_HIT documented;
 * DAILY_CPU, DAILY_EP seen), lifted when the day resets. Undefined for a code nobody documented.
 */
export function suspensionReason(
	code: string,
): { category: SuspensionCategory; meaning: string } | undefined {
	// Own keys only: `constructor` or `__proto__` from a callback must not find Object's.
	if (Object.hasOwn(SUSPENSION_REASONS, code)) return SUSPENSION_REASONS[code];
	const daily = /^DAILY_([A-Z0-9]+)$/.exec(code);
	if (daily)
		return {
			category: 'temporary',
			meaning: `A daily resource limit (${daily[1]}) was exceeded; lifted when the day resets.`,
		};
	return undefined;
}

/** What a reason code means, for every renderer: documented codes and the `DAILY_*` family alike. */
export const suspensionMeaning = (code: string): string | undefined => suspensionReason(code)?.meaning;

export const CATEGORY_LABELS: Record<SuspensionCategory, string> = {
	permanent: 'Permanent',
	temporary: 'Temporary',
	inactivity: 'Inactivity',
	unknown: 'Unknown',
};

/**
 * When MOFH will likely delete a suspended account: about 60 days after a permanent suspension, about 2
 * after an inactivity one (docs/providers.md A.1). A temporary suspension is lifted, not followed by deletion, and
 * for a reason nobody documented hookcord does not guess: both have no estimate.
 */
export function estimatedDeletion(
	suspendedAt: number,
	reason: { category: SuspensionCategory },
): number | undefined {
	const days = { permanent: 60, inactivity: 2, temporary: undefined, unknown: undefined }[reason.category];
	return days === undefined ? undefined : suspendedAt + days * 86_400_000;
}

export type DomainKind = 'parked' | 'subdomain' | 'addon';
const DOMAIN_KINDS: Record<string, DomainKind> = { PARK: 'parked', SUB: 'subdomain', DOM: 'addon' };

/**
 * MOFH domain codes: `CLIENT` + PARK | SUB | DOM + ADD | REM | DEL. The documents spell removal REM, the
 * live docs and real callbacks also DEL (`CLIENTSUBDEL`): both mean removed, for every kind of domain.
 */
export function domainCode(
	code: string,
): { kind: 'domain.added' | 'domain.removed'; domainKind: DomainKind } | undefined {
	const match = /^CLIENT(PARK|SUB|DOM)(ADD|REM|DEL)$/.exec(code);
	const domainKind = match && DOMAIN_KINDS[match[1] ?? ''];
	if (!domainKind) return undefined;
	return { kind: match[2] === 'ADD' ? 'domain.added' : 'domain.removed', domainKind };
}
