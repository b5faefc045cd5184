/** Xolphin's documented webhook `State` values (docs/providers.md B.1). */
export const XOLPHIN_STATES = [
	'PhonecallDelayed',
	'Phone',
	'Organization',
	'CSR',
	'Message',
	'DCV',
	'Whois',
	'ReadyForReissue',
] as const;
export type XolphinState = (typeof XOLPHIN_STATES)[number];

/** What each Xolphin `State` means (docs/providers.md B.1), and whether it needs someone to act. */
export const XOLPHIN_STATE_MEANINGS: Record<XolphinState, { meaning: string; problem: boolean }> = {
	PhonecallDelayed: { meaning: 'The validation call has been delayed.', problem: false },
	Phone: { meaning: 'The validation call could not be completed.', problem: true },
	Organization: { meaning: 'The organization failed validation.', problem: true },
	CSR: { meaning: 'The CSR failed validation.', problem: true },
	Message: { meaning: 'Xolphin posted a new message on the request.', problem: false },
	DCV: { meaning: 'Domain control validation completed for a domain.', problem: false },
	Whois: { meaning: 'WHOIS validation failed.', problem: true },
	ReadyForReissue: {
		meaning: 'The certificate is ready for reissue (a new validity period).',
		problem: false,
	},
};
