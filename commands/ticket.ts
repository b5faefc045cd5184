import { isIP } from 'node:net';
import {
	type APIInteraction,
	type APIModalInteractionResponseCallbackData,
	ComponentType,
	InteractionContextType,
	ApplicationCommandOptionType as OptionType,
	PermissionFlagsBits,
	TextInputStyle,
} from 'discord-api-types/v10';
import { type MofhClient, MofhError, TICKET_ID, VPANEL_USERNAME } from '../src/clients/mofh.js';
import { UserFacingError } from '../src/errors.js';
import {
	type ButtonHandler,
	type Context,
	defineCommand,
	type ModalHandler,
} from '../src/interactions/define-command.js';
import { REPLY_BUTTON, replyButtons } from '../src/render/components.js';
import { line } from '../src/render/markdown.js';
import { renderTicketStatus } from '../src/render/ticket.js';
import type { Ingest } from '../src/state/ingest.js';
import type { KeyedLock } from '../src/state/keyed-lock.js';
import type { AccountState, TicketState } from '../src/state/projections.js';
import { ticketThreads } from '../src/state/ticket-threads.js';
import type { Store } from '../src/store/store.js';

/**
 * `/ticket open | reply | status`, the Reply button on ticket messages and the two modals
 * (docs/providers.md A.3). A member's text is taken through a modal (no message-content intent); the submit is claimed
 * once however often Discord delivers it, MOFH is called once, and the sent message becomes an event
 * (ticket.opened / ticket.reply_sent) through the same ingest as callbacks: the outbox posts it in the
 * ticket's thread, the projection keeps the conversation and whose ticket it is.
 */

const TICKET_ID_OPTION = {
	type: OptionType.String,
	name: 'id',
	description: 'MOFH ticket id, e.g. 123456',
	required: true,
	min_length: 1,
	max_length: 12,
} as const;

export const TICKET = {
	name: 'ticket',
	description: 'MOFH/iFastNet support tickets on behalf of a hosting account',
	default_member_permissions: String(PermissionFlagsBits.ManageGuild),
	contexts: [InteractionContextType.Guild],
	options: [
		{
			type: OptionType.Subcommand,
			name: 'open',
			description: 'Open a ticket with MOFH support for an account (a form asks for the message)',
			options: [
				{
					type: OptionType.String,
					name: 'user',
					description: 'The vPanel username the ticket is for, e.g. host_12345678',
					required: true,
					max_length: 64,
				},
				{
					type: OptionType.String,
					name: 'subject',
					description: "The ticket's subject",
					required: true,
					min_length: 1,
					max_length: 200,
				},
				{
					type: OptionType.String,
					name: 'domain',
					description: 'The domain the ticket is about (default: the account’s only domain, if known)',
					max_length: 253,
				},
				{
					type: OptionType.String,
					name: 'ip',
					description: 'IP address of the account holder who raised the problem (MOFH requires one)',
					max_length: 45,
				},
			],
		},
		{
			type: OptionType.Subcommand,
			name: 'reply',
			description: 'Reply to a ticket as the account (a form asks for the message); works in any channel',
			options: [TICKET_ID_OPTION],
		},
		{
			type: OptionType.Subcommand,
			name: 'status',
			description: "A ticket's conversation as hookcord has it, and its thread",
			options: [TICKET_ID_OPTION],
		},
	],
} as const;

export interface TicketCommandDeps {
	store: Pick<Store, 'tickets' | 'accounts' | 'actions' | 'threads' | 'seen' | 'claim'>;
	mofh: Pick<MofhClient, 'configured' | 'missing' | 'openTicket' | 'replyTicket'>;
	/** The callbacks' ingest: staff's side of the conversation is an event like support's. */
	ingest: Ingest;
	lock: KeyedLock;
}

/** A form waits as long as Discord keeps a modal open (15 minutes for the interaction token). */
const FORM_TTL_MS = 15 * 60_000;
/** A submit's outcome is kept this long, so a repeated delivery answers instead of calling MOFH again. */
const OUTCOME_TTL_MS = 7 * 24 * 3_600_000;
/** Marks a submit being carried out. */
const RUNNING = 'running since ';
/** Longer than any MOFH call can take (60 s for a POST): a submit still running then was cut off. */
const INTERRUPTED_AFTER_MS = 3 * 60_000;

/** The answer to a form delivered again: being sent, sent (and how), or cut off by a stop. */
function repeatedSubmit(earlier: string): string {
	if (!earlier.startsWith(RUNNING)) return `Already sent: ${earlier}`;
	const since = Number(earlier.slice(RUNNING.length));
	if (Date.now() - since < INTERRUPTED_AFTER_MS)
		return 'This form is being sent to MOFH already; its answer shows on the first submit.';
	return 'This form was interrupted (hookcord stopped while asking MOFH): MOFH may have it. Check the ticket with `/ticket status` before sending it again.';
}

/** Text inputs hold at most 4000 characters (docs/discord.md §6). */
const MESSAGE_MAX = 4000;

const OPEN_MODAL = /^ticket:open:(\d{17,20})$/;
const REPLY_MODAL = /^ticket:reply:(\d{1,12}):(\d{17,20})$/;

/** What `/ticket open` was given, kept until its modal is submitted. */
interface OpenForm {
	username: string;
	subject: string;
	domain?: string;
	ip?: string;
}

const IP_NEEDED =
	'MOFH needs the IP address of the account holder who raised the problem (`ipaddress`), e.g. 203.0.113.7: nothing was sent.';

const formKey = (interactionId: string) => `ticket-open:${interactionId}`;
const submitKey = (formId: string) => `ticket-submit:${formId}`;

export function ticket({ store, mofh, ingest, lock }: TicketCommandDeps) {
	function requireMofh(): void {
		if (!mofh.configured)
			throw new UserFacingError(
				`The MOFH reseller API is not configured: set ${mofh.missing.join(' and ')} (reseller panel ▸ API ▸ Setup WHM API).`,
			);
	}

	/** The reply form: the message, and whatever hookcord does not know yet about the ticket. */
	async function showReplyForm(ticketId: string, { interaction, respond }: Context): Promise<void> {
		if (!TICKET_ID.test(ticketId))
			return respond.reply({ content: 'A MOFH ticket id is digits, e.g. 123456.' });
		requireMofh();
		const known = (await store.tickets.get(ticketId)) as TicketState | undefined;
		await respond.modal(replyModal(ticketId, interaction.id, { username: !known?.username, ip: !known?.ip }));
	}

	/**
	 * Runs `work` once per form, however often (and on however many instances) Discord delivers its submit:
	 * the first delivery claims it, a repeat is told what happened. `work` returns the outcome to remember.
	 */
	async function once(formId: string, context: Context, work: () => Promise<string>): Promise<void> {
		const key = submitKey(formId);
		// Who claimed it travels with the claim: a repeat of the same interaction must not answer at all.
		const submitter = context.interaction.id;
		const running = `${submitter} ${RUNNING}${Date.now()}`;
		const earlier = await lock.run(key, async () => {
			const claimed = await store.claim(key, running, OUTCOME_TTL_MS);
			if (claimed) return claimed;
			await store.seen.set(key, running, OUTCOME_TTL_MS);
			return undefined;
		});
		if (earlier) {
			const [by, ...rest] = earlier.split(' ');
			if (by === submitter) return context.respond.stayQuiet();
			return context.respond.reply({ content: repeatedSubmit(rest.join(' ')) });
		}
		const remember = (outcome: string) =>
			store.seen.set(key, `${submitter} ${outcome}`, OUTCOME_TTL_MS).catch(() => {});
		await context.respond.defer(true);
		let outcome: string;
		try {
			outcome = await work();
		} catch (error) {
			const said = error instanceof UserFacingError ? error.message : 'hookcord failed before MOFH answered.';
			const maybe = error instanceof MofhError && error.kind === 'timeout';
			await remember(maybe ? `no answer from MOFH in time (${said})` : `not sent (${said})`);
			throw error;
		}
		await remember(outcome);
	}

	const openModal: ModalHandler = {
		pattern: OPEN_MODAL,
		async execute(match, values, context) {
			const formId = match[1] as string;
			const form = (await store.actions.get(formKey(formId))) as OpenForm | undefined;
			if (!form)
				return context.respond.reply({ content: 'This form has expired: run `/ticket open` again.' });
			const message = (values.message ?? '').trim();
			const ip = form.ip ?? values.ip?.trim();
			if (!message) return context.respond.reply({ content: 'The message is empty: nothing was sent.' });
			if (!ip || !isIP(ip)) return context.respond.reply({ content: IP_NEEDED });
			await once(formId, context, async () => {
				const by = member(context.interaction);
				const ticketId = await mofh.openTicket({
					username: form.username,
					subject: form.subject,
					message,
					...(form.domain && { domain: form.domain }),
					ip,
				});
				await ingest({
					provider: 'mofh',
					kind: 'ticket.opened',
					ticketId,
					subject: form.subject,
					text: message,
					username: form.username,
					...(form.domain && { domain: form.domain }),
					ip,
					by,
					submitId: formId,
				});
				await context.respond.reply({
					content: `Ticket #${line(ticketId)} opened with MOFH support for ${line(form.username)}. Its thread starts in the tickets channel; support's answers arrive there.`,
					components: replyButtons([ticketId]),
				});
				return `ticket #${ticketId} opened by ${by.name}`;
			});
		},
	};

	const replyModalHandler: ModalHandler = {
		pattern: REPLY_MODAL,
		async execute(match, values, context) {
			const [, ticketId, formId] = match as unknown as [string, string, string];
			const message = (values.message ?? '').trim();
			if (!message) return context.respond.reply({ content: 'The message is empty: nothing was sent.' });
			const known = (await store.tickets.get(ticketId)) as TicketState | undefined;
			const username = known?.username ?? values.user?.trim();
			const ip = known?.ip ?? values.ip?.trim();
			if (!ip || !isIP(ip)) return context.respond.reply({ content: IP_NEEDED });
			if (!username || !VPANEL_USERNAME.test(username))
				return context.respond.reply({
					content: 'MOFH needs the vPanel username of the account the ticket is for (e.g. host_12345678).',
				});
			await once(formId, context, async () => {
				const by = member(context.interaction);
				await mofh.replyTicket({
					ticketId,
					username,
					message,
					...(known?.domain && { domain: known.domain }),
					ip,
				});
				await ingest({
					provider: 'mofh',
					kind: 'ticket.reply_sent',
					ticketId,
					text: message,
					username,
					...(known?.domain && { domain: known.domain }),
					ip,
					by,
					submitId: formId,
				});
				await context.respond.reply({
					content: `↩ Sent to MOFH support on ticket #${line(ticketId)}; it is posted in the ticket's thread.`,
				});
				return `reply by ${by.name} on ticket #${ticketId}`;
			});
		},
	};

	const replyButton: ButtonHandler = {
		pattern: REPLY_BUTTON,
		execute: (match, context) => showReplyForm(match[1] as string, context),
	};

	return defineCommand(
		TICKET,
		{
			open: {
				async execute(args, { interaction, respond }) {
					const username = args.user.trim();
					if (!VPANEL_USERNAME.test(username))
						return respond.reply({
							content: 'The `user` option is a vPanel username such as `host_12345678`.',
						});
					const ip = args.ip?.trim() || undefined;
					if (ip && !isIP(ip))
						return respond.reply({
							content: 'The `ip` option is an IPv4 or IPv6 address, e.g. 203.0.113.7.',
						});
					requireMofh();
					// The account's only domain, when hookcord knows it and none was given: MOFH asks which domain.
					const account = (await store.accounts.get(username.toLowerCase())) as AccountState | undefined;
					const domain =
						args.domain?.trim().toLowerCase() ||
						(account?.domains.length === 1 ? account.domains[0] : undefined);
					const form: OpenForm = {
						username,
						subject: args.subject.trim(),
						...(domain && { domain }),
						...(ip && { ip }),
					};
					await store.actions.set(formKey(interaction.id), form, FORM_TTL_MS);
					await respond.modal(openModalBody(interaction.id, !ip));
				},
			},
			reply: {
				execute: (args, context) => showReplyForm(args.id.trim(), context),
			},
			status: {
				async execute(args, { respond }) {
					const ticketId = args.id.trim();
					if (!TICKET_ID.test(ticketId))
						return respond.reply({ content: 'A MOFH ticket id is digits, e.g. 123456.' });
					const known = (await store.tickets.get(ticketId)) as TicketState | undefined;
					await respond.reply({
						embeds: [renderTicketStatus(ticketId, known, await ticketThreads(store, ticketId))],
						...(known && { components: replyButtons([ticketId]) }),
					});
				},
			},
		},
		[replyButton],
		[openModal, replyModalHandler],
	);
}

function textInput(
	customId: string,
	label: string,
	style: TextInputStyle,
	extra: Record<string, unknown> = {},
) {
	return {
		type: ComponentType.Label as const,
		label,
		component: {
			type: ComponentType.TextInput as const,
			custom_id: customId,
			style,
			required: true,
			...extra,
		},
	};
}

function openModalBody(formId: string, askIp: boolean): APIModalInteractionResponseCallbackData {
	return {
		custom_id: `ticket:open:${formId}`,
		title: 'Open a MOFH support ticket',
		components: [
			textInput('message', 'Message to MOFH support', TextInputStyle.Paragraph, {
				min_length: 1,
				max_length: MESSAGE_MAX,
			}),
			...(askIp ? [ipInput()] : []),
		],
	} as APIModalInteractionResponseCallbackData;
}

function replyModal(
	ticketId: string,
	formId: string,
	ask: { username: boolean; ip: boolean },
): APIModalInteractionResponseCallbackData {
	return {
		custom_id: `ticket:reply:${ticketId}:${formId}`,
		title: `Reply to ticket #${ticketId}`.slice(0, 45),
		components: [
			textInput('message', 'Your reply to MOFH support', TextInputStyle.Paragraph, {
				min_length: 1,
				max_length: MESSAGE_MAX,
			}),
			...(ask.username
				? [
						textInput('user', "Account's vPanel username (asked once)", TextInputStyle.Short, {
							min_length: 1,
							max_length: 64,
							placeholder: 'host_12345678',
						}),
					]
				: []),
			...(ask.ip ? [ipInput()] : []),
		],
	} as APIModalInteractionResponseCallbackData;
}

/** MOFH refuses a ticket call without `ipaddress`: the address of the account holder who raised it. */
function ipInput() {
	return textInput('ip', "Account holder's IP address", TextInputStyle.Short, {
		min_length: 2,
		max_length: 45,
		placeholder: '203.0.113.7',
	});
}

/** The member behind an interaction (guild interactions carry `member.user`). */
function member(interaction: APIInteraction): { id: string; name: string } {
	const user = interaction.member?.user ?? interaction.user;
	if (!user) throw new UserFacingError('Discord did not say who sent this.');
	return { id: user.id, name: user.global_name ?? user.username };
}
