import type { APIEmbed } from 'discord-api-types/v10';
import { SNOWFLAKE, WEBHOOK_URL } from '../../config.js';
import { isTicketEvent, type TicketEvent } from '../../events/event.js';
import { ticketMessages, ticketThreadName } from '../../render/ticket.js';
import type { InFlightRecord, OutboxEntry } from '../../state/outbox.js';
import type { TicketState } from '../../state/projections.js';
import { recordTicketThread, ticketThreads } from '../../state/ticket-threads.js';
import type { Store } from '../../store/store.js';
import { DeliveryError, toFailure } from '../errors.js';
import type { Destination, DestinationKind } from '../kind.js';
import type { Send } from '../message.js';
import type { TicketThreads } from '../ticket-thread.js';
import { executeWebhook } from './webhook.js';

/**
 * TICKETS as conversations: one Discord thread per MOFH ticket (ticket-thread.ts does the bot channel,
 * text or forum; this file the kind around it and a channel webhook). Lanes are tickets: a ticket's
 * events go strictly in order, and a ticket whose thread creation is rate limited for minutes holds up
 * only itself, waiting in the store with its retry time.
 */
export interface TicketDestination extends Destination {
	kind: 'ticket';
	/** A bot channel, text or forum. */
	channelId?: string;
	/** Or a channel webhook: a forum's gets a post per ticket (`thread_name`, then `thread_id`). */
	url?: string;
}

/** One ticket event, its messages fixed when composed: a retry (or the next process) posts the same. */
export interface TicketRecord extends InFlightRecord {
	content: string;
	parts: APIEmbed[];
}

export interface TicketKindDeps {
	now: () => number;
	nonceWindowMs: number;
	timeoutMs: number;
	store: Pick<Store, 'read' | 'commit' | 'threads' | 'tickets'>;
	/** The bot channel side, when DISCORD_TOKEN is set. */
	threads?: TicketThreads | undefined;
	/** Replaces the transport (tests record what would be posted): each message of a ticket, in order. */
	send?: Send;
}

/** Tickets sent at once per destination: each ticket in order, a slow one never holds the others. */
const TICKET_LANES = 4;

export function ticketKind(deps: TicketKindDeps): DestinationKind<TicketDestination, TicketRecord> {
	/** Webhooks found to post into a forum (Discord answered 220001 to a plain post). */
	const forumWebhooks = new Set<string>();

	async function viaWebhook(destination: TicketDestination, event: TicketEvent, record: TicketRecord) {
		const url = destination.url as string;
		const known = (await ticketThreads(deps.store, event.ticketId))[destination.key];
		let threadId = known?.started ? known.threadId : undefined;
		for (const [part, embed] of record.parts.entries()) {
			const message = { content: part === 0 ? record.content : '', embeds: [embed] };
			if (threadId) {
				await executeWebhook(url, message, deps.timeoutMs, { id: threadId });
				continue;
			}
			if (!forumWebhooks.has(destination.key)) {
				try {
					// A text channel's webhook cannot start a thread: it posts as it always has.
					await executeWebhook(url, message, deps.timeoutMs);
					continue;
				} catch (error) {
					if (!(error instanceof DeliveryError && error.code === 220001)) throw error;
					forumWebhooks.add(destination.key);
				}
			}
			const subject =
				event.kind === 'ticket.opened'
					? event.subject
					: ((await deps.store.tickets.get(event.ticketId)) as TicketState | undefined)?.subject;
			const created = await executeWebhook(url, message, deps.timeoutMs, {
				name: ticketThreadName(event.ticketId, subject, event.text),
			});
			if (!created.channel_id) throw new DeliveryError('retry', 'Discord made the post without naming it');
			threadId = created.channel_id;
			await recordTicketThread(deps.store, event.ticketId, destination.key, {
				threadId,
				parentId: destination.key,
				started: true,
				at: deps.now(),
			});
		}
	}

	return {
		name: 'ticket',
		// TICKETS only, and only where a thread can be: a bot channel (with a token) or a channel webhook.
		parse(value, config, topic) {
			if (topic !== 'TICKETS' || !value) return undefined;
			const webhook = WEBHOOK_URL.exec(value);
			if (webhook) return { kind: 'ticket', key: `ticket:webhook-${webhook[1]}`, url: value };
			if (SNOWFLAKE.test(value) && config.discord.token)
				return { kind: 'ticket', key: `ticket:channel-${value}`, channelId: value };
			return undefined;
		},
		lanes: () => ({
			concurrency: TICKET_LANES,
			orderKey: (entry: OutboxEntry) => (isTicketEvent(entry.event) ? entry.event.ticketId : entry.event.id),
		}),
		paced: true,
		durable: true,
		credentials: 'DISCORD_TOKEN',
		compose(_destination, ready) {
			const [first] = ready;
			if (!first) throw new Error('compose: nothing ready');
			const event = first.event;
			const parts = isTicketEvent(event) ? ticketMessages(event) : [];
			return { ids: [event.id], content: parts[0]?.title ?? '', parts, since: deps.now() };
		},
		async send(destination, record, entries) {
			const event = entries[0]?.event;
			if (!event || !isTicketEvent(event)) throw new DeliveryError('reject', 'not a ticket event');
			if (deps.send) {
				for (const [part, embed] of record.parts.entries())
					await deps.send(destination, {
						content: part === 0 ? record.content : '',
						embeds: [embed],
						nonce: part === 0 ? event.id : `${event.id}.${part}`,
						events: [event],
					});
				return;
			}
			if (destination.url) return viaWebhook(destination, event, record);
			if (!deps.threads || !destination.channelId) throw new DeliveryError('halt', 'no Discord REST client');
			const lookBack = record.since !== undefined && deps.now() - record.since > deps.nonceWindowMs;
			await deps.threads.deliver(destination.key, destination.channelId, {
				event,
				parts: record.parts,
				content: record.content,
				lookBack,
			});
		},
		classify: toFailure,
		// Sent again unchanged: every step is recorded in the store or repeatable (nonce, 160004).
		recover: () => 'resend',
	};
}
