import { DiscordAPIError, type REST } from '@discordjs/rest';
import {
	type APIChannel,
	type APIEmbed,
	type APIMessage,
	ChannelType,
	type RESTPostAPIChannelMessageJSONBody,
	Routes,
} from 'discord-api-types/v10';
import type { TicketEvent } from '../events/event.js';
import { replyButtons } from '../render/components.js';
import { ticketThreadName } from '../render/ticket.js';
import type { TicketState } from '../state/projections.js';
import {
	forgetTicketThread,
	recordTicketThread,
	type TicketThread,
	ticketThreads,
} from '../state/ticket-threads.js';
import type { Store } from '../store/store.js';
import { botUser, ownRecentMessages, toDeliveryError } from './channel.js';
import { DeliveryError } from './errors.js';
import { NO_MENTIONS } from './message.js';

/**
 * One Discord thread per MOFH ticket in a bot channel (docs/discord.md §6). In a text channel the ticket's
 * first event posts its alert and starts a public thread on it; in a forum it makes a post. Later events
 * post into the thread (which un-archives it), a close posts and archives it (never locks it: MOFH
 * invites a reply to a closed ticket). Exactly once, step by step, each step's result in the store
 * before the next:
 * 1. the alert, posted with the event's nonce (a repeat within Discord's window returns the same message;
 *    past it the channel is searched first), then recorded as the ticket's thread-to-be;
 * 2. the thread started on that message: a thread's id is its message's, and Discord answers 160004 to a
 *    second one, so a repeat after a crash or a lost answer finds it instead of making another;
 * 3. the rest of the event's parts into the thread, each with its own nonce.
 * A forum post has no nonce: a creation whose answer was lost is looked for among the guild's active
 * threads before it is tried again. A step Discord refuses with a long rate limit throws, and the entry
 * waits in the store like any delivery; a restart resumes at the step the store records.
 */

export interface TicketPost {
	event: TicketEvent;
	/** The event's embeds, one message each, fixed when composed (see render/ticket.ts). */
	parts: APIEmbed[];
	/** The one-line text above the first embed. */
	content: string;
	/** An earlier attempt is older than Discord's nonce window: look for what it posted before posting. */
	lookBack: boolean;
}

export interface TicketThreadDeps {
	/** discord.js REST with the bot token, no automatic retries, long rate limits thrown. */
	rest: REST;
	store: Pick<Store, 'read' | 'commit' | 'threads' | 'tickets'>;
	now: () => number;
}

/** Threads stay listed for a week of quiet (the longest Discord offers): a ticket is slow mail. */
const AUTO_ARCHIVE_MINUTES = 10_080;

/** Discord codes meaning the thread is gone or closed to the bot: start another rather than stop. */
const THREAD_GONE = new Set([10003, 160005, 50083]);

export function createTicketThreads({ rest, store, now }: TicketThreadDeps) {
	/** Channel types by id, asked once per process: an operator does not turn a text channel into a forum. */
	const channels = new Map<string, Promise<APIChannel>>();
	function channel(id: string): Promise<APIChannel> {
		let known = channels.get(id);
		if (!known) {
			known = rest.get(Routes.channel(id)) as Promise<APIChannel>;
			channels.set(id, known);
			known.catch(() => channels.delete(id));
		}
		return known;
	}

	/** One message, as the bot, exactly once: its nonce within Discord's window, a search past it. */
	async function postOnce(channelId: string, body: RESTPostAPIChannelMessageJSONBody, lookBack: boolean) {
		if (lookBack) {
			const found = await alreadyPosted(channelId, body);
			if (found) return found;
		}
		return (await rest.post(Routes.channelMessages(channelId), {
			body: { ...body, enforce_nonce: true, allowed_mentions: NO_MENTIONS },
		})) as APIMessage;
	}

	/** The bot's own user id, asked once when first needed. */
	const me = botUser(rest);

	/**
	 * A message of the bot's own among the channel's latest with the same footer (which names the event and
	 * part): anyone else's copy does not count, or whoever can post there could suppress a ticket message.
	 */
	async function alreadyPosted(channelId: string, body: RESTPostAPIChannelMessageJSONBody) {
		const footer = body.embeds?.[0]?.footer?.text;
		if (!footer) return undefined;
		const own = await ownRecentMessages(rest, me, channelId);
		return own?.find((message) => message.embeds?.[0]?.footer?.text === footer);
	}

	function message(post: TicketPost, part: number): RESTPostAPIChannelMessageJSONBody {
		const { event } = post;
		return {
			content: part === 0 ? post.content : '',
			embeds: [post.parts[part] as APIEmbed],
			components: replyButtons([event.ticketId]),
			// ≤ 25 characters: the event id (20) and the part.
			nonce: part === 0 ? event.id : `${event.id}.${part}`,
		};
	}

	async function postParts(threadId: string, post: TicketPost, from: number): Promise<void> {
		for (let part = from; part < post.parts.length; part++)
			await postOnce(threadId, message(post, part), post.lookBack);
	}

	async function threadName(event: TicketEvent): Promise<string> {
		const subject =
			event.kind === 'ticket.opened'
				? event.subject
				: ((await store.tickets.get(event.ticketId)) as TicketState | undefined)?.subject;
		return ticketThreadName(event.ticketId, subject, event.text);
	}

	async function remember(destination: string, ticketId: string, thread: Omit<TicketThread, 'at'>) {
		await recordTicketThread(store, ticketId, destination, { ...thread, at: now() });
	}

	/** Starts the ticket's thread in a text channel on its alert; returns the thread id. */
	async function startOnAlert(
		destination: string,
		channelId: string,
		post: TicketPost,
		pending: TicketThread | undefined,
	): Promise<string> {
		const { event } = post;
		let alertId = pending?.threadId;
		if (!alertId) {
			alertId = (await postOnce(channelId, message(post, 0), post.lookBack)).id;
			await remember(destination, event.ticketId, { threadId: alertId, parentId: channelId, started: false });
		}
		try {
			await rest.post(Routes.threads(channelId, alertId), {
				body: { name: await threadName(event), auto_archive_duration: AUTO_ARCHIVE_MINUTES },
			});
		} catch (error) {
			// 160004: started already (by the attempt whose answer was lost): the thread has the alert's id.
			if (!(error instanceof DiscordAPIError && error.code === 160004)) throw error;
		}
		await remember(destination, event.ticketId, { threadId: alertId, parentId: channelId, started: true });
		await postParts(alertId, post, 1);
		return alertId;
	}

	/** Makes the ticket's forum post (its first message is the event's first part); returns its id. */
	async function startForumPost(
		destination: string,
		forum: APIChannel,
		post: TicketPost,
		pending: TicketThread | undefined,
	): Promise<string> {
		const { event } = post;
		const name = await threadName(event);
		// A creation was tried and its outcome is unknown: find the post before making another.
		let postId = pending ? await findActiveThread(forum, name) : undefined;
		if (!postId) {
			await remember(destination, event.ticketId, { parentId: forum.id, started: false });
			const { nonce: _nonce, ...first } = message(post, 0);
			const created = (await rest.post(Routes.threads(forum.id), {
				body: {
					name,
					auto_archive_duration: AUTO_ARCHIVE_MINUTES,
					message: { ...first, allowed_mentions: NO_MENTIONS },
				},
			})) as { id: string };
			postId = created.id;
		}
		await remember(destination, event.ticketId, { threadId: postId, parentId: forum.id, started: true });
		await postParts(postId, post, 1);
		return postId;
	}

	async function findActiveThread(forum: APIChannel, name: string): Promise<string | undefined> {
		const guildId = 'guild_id' in forum ? forum.guild_id : undefined;
		if (!guildId) return undefined;
		const { threads } = (await rest.get(Routes.guildActiveThreads(guildId))) as {
			threads: { id: string; parent_id?: string | null; name?: string }[];
		};
		return threads.find((thread) => thread.parent_id === forum.id && thread.name === name)?.id;
	}

	return {
		/**
		 * Delivers one ticket event to the bot channel `channelId` (text or forum), `destination` naming it
		 * in the store. Throws Discord's refusal (or the rate limit) as it came: the caller classifies it.
		 */
		async deliver(destination: string, channelId: string, post: TicketPost): Promise<void> {
			try {
				await deliver(destination, channelId, post);
			} catch (error) {
				// The cap on a server's active threads: archiving closed tickets frees room, so try again later.
				if (error instanceof DiscordAPIError && error.code === 160006)
					throw new DeliveryError('retry', `Discord: ${error.message} (160006)`);
				throw toDeliveryError(error);
			}
		},
	};

	async function deliver(destination: string, channelId: string, post: TicketPost): Promise<void> {
		const { event } = post;
		let known: TicketThread | undefined = (await ticketThreads(store, event.ticketId))[destination];
		let threadId: string | undefined;
		if (known?.started && known.threadId) {
			try {
				await postParts(known.threadId, post, 0);
				threadId = known.threadId;
			} catch (error) {
				// Deleted, or locked by a moderator: the conversation goes on in a new thread.
				if (!(error instanceof DiscordAPIError && THREAD_GONE.has(Number(error.code)))) throw error;
				await forgetTicketThread(store, event.ticketId, destination);
				known = undefined;
			}
		}
		if (!threadId) {
			const target = await channel(channelId);
			threadId =
				target.type === ChannelType.GuildForum
					? await startForumPost(destination, target, post, known)
					: await startOnAlert(destination, channelId, post, known);
		}
		// Archived, not locked: a later reply (theirs or ours) posts into it and re-opens it.
		if (event.kind === 'ticket.closed')
			await rest.patch(Routes.channel(threadId), { body: { archived: true } });
	}
}

export type TicketThreads = ReturnType<typeof createTicketThreads>;
