import { TimestampStyles, time } from '@discordjs/formatters';
import type { APIEmbed } from 'discord-api-types/v10';
import type { Event } from '../events/event.js';
import { summarize } from '../events/summary.js';
import type { AccountState, CertState } from '../state/projections.js';
import { CATEGORY_LABELS, estimatedDeletion, suspensionMeaning } from '../vocabulary/mofh.js';
import { XOLPHIN_STATE_MEANINGS } from '../vocabulary/xolphin.js';
import { COLOURS } from './alert.js';
import { fitEmbed } from './limits.js';
import { inline, line } from './markdown.js';

/** Pure renderers of stored state for slash-command replies. */

/** An account's status as staff read it. */
export const STATUS_LABELS = {
	active: 'Active',
	suspended: 'Suspended',
	deleted: 'Deleted',
	unknown: 'Unknown',
} as const;
const STATUS_COLOURS = {
	active: COLOURS.good,
	suspended: COLOURS.danger,
	deleted: COLOURS.neutral,
	unknown: COLOURS.info,
} as const;

const seconds = (ms: number) => Math.floor(ms / 1000);

function when(ms: number): string {
	return `${time(seconds(ms), TimestampStyles.LongDateShortTime)} (${time(seconds(ms), TimestampStyles.RelativeTime)})`;
}

export function renderAccountStatus(account: AccountState): APIEmbed {
	const since = account.statusAt ?? account.firstSeen;
	const suspended = account.status === 'suspended' && account.suspension;
	const colour =
		suspended && account.suspension?.category === 'temporary'
			? COLOURS.warning
			: STATUS_COLOURS[account.status];
	const fields = [
		{ name: 'Status', value: STATUS_LABELS[account.status], inline: true },
		{ name: 'Since', value: when(since), inline: true },
		{ name: 'SQL cluster', value: account.sqlCluster ? inline(account.sqlCluster) : '—', inline: true },
	];
	// The key is what suspend and unsuspend take; MOFH has no call that maps a username to it.
	if (account.key) fields.push({ name: 'Key', value: inline(account.key), inline: true });
	if (suspended && account.suspension) {
		const reason = account.suspension;
		const meaning = suspensionMeaning(reason.code) ?? 'Not a documented MOFH reason.';
		const deletion = estimatedDeletion(since, reason);
		fields.push(
			{ name: 'Suspension reason', value: `${inline(reason.code)} — ${meaning}`, inline: false },
			{ name: 'Category', value: CATEGORY_LABELS[reason.category], inline: true },
			{ name: 'As sent', value: inline(reason.raw || '(empty)'), inline: true },
		);
		if (deletion !== undefined)
			fields.push({ name: 'Expected deletion (estimate)', value: when(deletion), inline: false });
	}
	fields.push({
		name: `Domains (${account.domains.length})`,
		value: account.domains.map(inline).join(', ') || '—',
		inline: false,
	});
	const recent = account.history.slice(-10).reverse();
	fields.push({
		name: 'Recent history',
		// Summaries were written with provider text in them (the cluster, a domain, a reason code).
		value:
			recent
				.map((entry) => `${time(seconds(entry.at), TimestampStyles.ShortDate)} ${line(entry.summary)}`)
				.join('\n') || '—',
		inline: false,
	});
	return fitEmbed({
		title: `Account ${line(account.username)}`,
		color: colour,
		fields,
		footer: {
			text: `First seen ${new Date(account.firstSeen).toISOString()} · ${account.history.length} callback(s) kept`,
		},
	});
}

export function renderCertStatus(cert: CertState): APIEmbed {
	const labels = { in_progress: 'In progress', issued: 'Issued', deleted: 'Deleted' } as const;
	const timeline = cert.steps
		.slice(-15)
		.map((step) => {
			const at = time(seconds(step.at), TimestampStyles.LongDateShortTime);
			if (step.kind === 'cert.issued') return `${at} Certificate issued`;
			if (step.kind === 'cert.deleted') return `${at} Request deleted`;
			const meaning = step.state
				? XOLPHIN_STATE_MEANINGS[step.state as keyof typeof XOLPHIN_STATE_MEANINGS]?.meaning
				: undefined;
			return `${at} ${step.state ? inline(step.state) : 'Updated'}${step.domain ? ` ${inline(step.domain)}` : ''}${meaning ? ` — ${meaning}` : ''}`;
		})
		.join('\n');
	return fitEmbed({
		title: `Xolphin request ${line(cert.requestId)}`,
		color:
			cert.status === 'issued' ? COLOURS.good : cert.status === 'deleted' ? COLOURS.neutral : COLOURS.info,
		fields: [
			{ name: 'Status', value: labels[cert.status], inline: true },
			{ name: 'Validated domains (DCV)', value: cert.dcvDomains.map(inline).join(', ') || '—', inline: true },
			{ name: 'Timeline', value: timeline || '—', inline: false },
		],
		footer: { text: `First webhook ${new Date(cert.firstSeen).toISOString()}` },
	});
}

/** What staff see of an alert that ran out of retries (the outbox's failed entries carry more). */
export interface FailedDelivery {
	event: Event;
	destination: string;
	lastError?: string;
}

export function renderFailed(entries: FailedDelivery[]): APIEmbed {
	return fitEmbed({
		title: entries.length ? `Failed deliveries (${entries.length})` : 'No failed deliveries',
		color: entries.length ? COLOURS.warning : COLOURS.good,
		description: entries.length
			? entries
					.slice(0, 20)
					.map(
						(entry) =>
							`${inline(entry.event.id)} ${line(summarize(entry.event))} → ${line(entry.destination)}: ${line(entry.lastError ?? 'unknown error')}`,
					)
					.join('\n')
			: 'Every alert reached Discord.',
		...(entries.length > 20 && { footer: { text: `and ${entries.length - 20} more` } }),
	});
}
