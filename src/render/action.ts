import type { APIEmbed } from 'discord-api-types/v10';
import type { AccountAction, ActionOutcome } from '../events/event.js';
import { COLOURS } from './alert.js';
import { fitEmbed } from './limits.js';
import { inline, line } from './markdown.js';

/** Pure renderers of a staff action's confirmation and of its result, for the member who asked. */

export interface ActionRequest {
	action: AccountAction;
	key: string;
	reason?: string;
	linked?: boolean;
	/** The vPanel username, when MOFH confirmed it. */
	username?: string | undefined;
	/** The vPanel username the member gave, unverified. */
	hint?: { username: string; by: string } | undefined;
}

/** The vPanel user as hookcord knows it: confirmed by MOFH, or as given by a member (unverified). */
function vpanelUser(request: ActionRequest, unknown: string): string {
	if (request.username) return inline(request.username);
	if (request.hint) return `${inline(request.hint.username)} (given by ${line(request.hint.by)}, unverified)`;
	return unknown;
}

export function renderConfirmation(request: ActionRequest): APIEmbed {
	const suspend = request.action === 'suspend';
	const fields = [
		{ name: 'Key', value: inline(request.key), inline: true },
		{
			name: 'vPanel user',
			value: vpanelUser(request, '_not known to hookcord yet_'),
			inline: true,
		},
	];
	if (suspend) {
		fields.push(
			// MOFH stores a reseller's reason as `RES_CLOSE : <reason>` (docs/providers.md A.2, suspendacct).
			{
				name: 'Reason, as MOFH will store it',
				value: inline(`RES_CLOSE : ${request.reason ?? ''}`),
				inline: false,
			},
			{
				name: 'Linked accounts',
				value: request.linked
					? 'Yes: accounts with the same e-mail or IP address are suspended too.'
					: 'No: only this account.',
				inline: false,
			},
		);
	}
	return fitEmbed({
		title: `${suspend ? 'Suspend' : 'Unsuspend'} account ${request.key}?`,
		description: suspend
			? 'MOFH suspends the account within minutes; its websites go offline. Nothing is sent until you confirm.'
			: 'MOFH reactivates the account; it comes back online within minutes. Nothing is sent until you confirm.',
		color: suspend ? COLOURS.danger : COLOURS.info,
		fields,
	});
}

export interface ActionReport extends ActionRequest {
	outcome: ActionOutcome;
	/** MOFH's words, or why there are none. */
	answer: string;
	/** Why MOFH refused, when its wording says (see clients/mofh-answer.ts). */
	refusal?: string;
	/** Set when the audit line could not be stored. */
	auditProblem?: string;
}

const TITLES: Record<AccountAction, Record<ActionOutcome, string>> = {
	suspend: {
		done: 'Suspension accepted by MOFH',
		refused: 'MOFH refused the suspension',
		failed: 'The suspension was not sent',
		unknown: 'No answer from MOFH: the suspension may or may not have happened',
	},
	unsuspend: {
		done: 'Unsuspension accepted by MOFH',
		refused: 'MOFH refused the unsuspension',
		failed: 'The unsuspension was not sent',
		unknown: 'No answer from MOFH: the unsuspension may or may not have happened',
	},
};

/** What a refusal means for staff, beyond MOFH's own words. */
const REFUSAL_HINTS: Record<string, string> = {
	admin_suspended:
		'The host (iFastNet, which runs MOFH) suspended this account: only the host can lift it. A reseller cannot; open a ticket with them.',
	not_active:
		'The account is not active (already suspended, reactivating or closing), so there is nothing to suspend.',
	not_suspended: 'The account is not suspended, so there is nothing to lift.',
	unknown_key:
		'MOFH has no account with this key. Suspend and unsuspend take the key, not the vPanel username.',
};

export function renderActionResult(report: ActionReport): APIEmbed {
	const hint = report.refusal ? REFUSAL_HINTS[report.refusal] : undefined;
	const colour =
		report.outcome === 'done'
			? COLOURS.good
			: report.outcome === 'failed'
				? COLOURS.neutral
				: COLOURS.warning;
	return fitEmbed({
		title: TITLES[report.action][report.outcome],
		description: [
			`MOFH: ${inline(report.answer)}`,
			...(hint ? [hint] : []),
			...(report.outcome === 'unknown'
				? ['Check the account in the reseller panel (or wait for MOFH’s callback) before trying again.']
				: []),
		].join('\n\n'),
		color: colour,
		fields: [
			{ name: 'Key', value: inline(report.key), inline: true },
			{ name: 'vPanel user', value: vpanelUser(report, '—'), inline: true },
			...(report.action === 'suspend' && report.reason !== undefined
				? [{ name: 'Reason', value: inline(report.reason), inline: false }]
				: []),
		],
		footer: {
			text: report.auditProblem
				? `The audit line could not be stored yet (${report.auditProblem}); hookcord records it within a few minutes once the store takes it.`
				: 'Recorded in the account history and posted to its alert channel.',
		},
	});
}
