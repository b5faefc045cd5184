import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InteractionResponseType, PermissionFlagsBits } from 'discord-api-types/v10';
import type { Service } from '../src/service.js';
import type { AccountState, TicketState } from '../src/state/projections.js';
import type { DiscordDouble, ModalShown } from './doubles/discord.js';
import { type MofhDouble, startMofhDouble } from './doubles/mofh.js';
import { type Interactions, type Payload, startInteractions, type Who } from './interactions.js';
import { idle } from './poll.js';

/**
 * MOFH tickets from Discord, end to end on the gateway path: `/ticket open|reply|status`, the Reply
 * button, the two modals and the calls MOFH receives, a submit delivered twice, MOFH's refusal, and the
 * staff gate at the command, the button and the submit.
 */

const SECRET = 'tickets-secret-0123456789abcdef';
const STAFF_ROLE = '323456789012345678';
const STAFF: Who = {
	roles: [STAFF_ROLE],
	permissions: String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ManageGuild),
};
const MEMBER: Who = { roles: [], permissions: String(PermissionFlagsBits.ViewChannel) };
const USER = 'hname_12345678';

describe('MOFH tickets from Discord', () => {
	let f: Interactions;
	let discord: DiscordDouble;
	let service: Service;
	let mofh: MofhDouble;

	before(async () => {
		mofh = await startMofhDouble();
		mofh.addAccount({ key: 'abcd1234', vpUser: USER, status: 'a', domains: ['shop.example.com'] });
		f = await startInteractions(
			(double) => ({
				HOOK_SECRET: SECRET,
				DISCORD_GUILD_ID: double.guildId,
				ALERTS_CHANNEL: double.channelIds[0] as string,
				STAFF_ROLE_IDS: STAFF_ROLE,
				MOFH_API_URL: mofh.url,
				MOFH_API_USERNAME: mofh.apiUser,
				MOFH_API_PASSWORD: mofh.apiKey,
				MOFH_ALLOWED_IPS: '*',
			}),
			{ who: STAFF },
		);
		({ discord, service } = f);
		// hookcord knows the account and its one domain from its callbacks.
		await f.mofhCallback({ username: USER, status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' });
		await f.mofhCallback({ username: USER, status: 'CLIENTDOMADD', comments: 'shop.example.com' });
		await idle(service.worker);
	});
	after(async () => {
		await f?.close();
		await mofh?.close();
	});

	/** Sends an interaction over the gateway; resolves with the modal it opened. */
	async function modalFor(payload: Payload): Promise<ModalShown> {
		discord.injectInteraction(payload);
		return discord.waitFor(
			(d) => d.modals.find((modal) => modal.interactionId === payload.id),
			5000,
			'a modal',
		);
	}

	/** What the member finally reads after `payload`: the first answer, or the edit of a deferred one. */
	async function answerTo(payload: Payload): Promise<string> {
		const first = await discord.waitFor(
			(d) => d.interactionResponses.find((r) => r.interactionId === payload.id),
			5000,
			'the first answer',
		);
		if (first.body.type !== InteractionResponseType.DeferredChannelMessageWithSource)
			return JSON.stringify(first.body.data ?? {});
		const edit = await discord.waitFor(
			(d) => d.edits.filter((e) => e.token === payload.token).at(-1),
			8000,
			'the deferred answer',
		);
		return JSON.stringify(edit.body);
	}

	function submit(modal: ModalShown, values: Record<string, string>, who: Who = STAFF): Payload {
		const payload = discord.makeModalSubmit(modal, { values, ...who }) as Payload;
		discord.injectInteraction(payload);
		return payload;
	}

	async function ticketState(id: string): Promise<TicketState | undefined> {
		return (await service.store.tickets.get(id)) as TicketState | undefined;
	}

	it('opens a ticket through a modal: MOFH gets one call with both auth forms, once however often the submit arrives', async () => {
		mofh.nextTicketId = 101;
		const modal = await modalFor(
			f.command('ticket', 'open', { user: USER, subject: 'Site down', ip: '203.0.113.7' }),
		);
		assert.match(modal.body.custom_id, /^ticket:open:\d+$/);
		assert.ok(modal.body.title.length <= 45);
		const values = { message: 'The site answers <b>500</b> since 10:00.\n\n@everyone look' };
		const payload = discord.makeModalSubmit(modal, { values, ...STAFF }) as Payload;
		// Discord delivers the same submit twice (a gateway resume replays it, say).
		discord.injectInteraction(payload);
		discord.dispatch('INTERACTION_CREATE', payload);
		const answer = await answerTo(payload);
		assert.match(answer, /Ticket #000101 opened/);
		await idle(service.worker);
		const calls = mofh.requests.filter((r) => r.call === 'supportnewticket');
		assert.equal(calls.length, 1, 'one call to MOFH');
		const [call] = calls;
		assert.deepEqual(call?.basic, { user: mofh.apiUser, password: mofh.apiKey });
		assert.equal(call?.params.api_key, mofh.apiKey);
		assert.equal(call?.query.api_user, mofh.apiUser);
		assert.deepEqual(
			{
				subject: call?.params.subject,
				comments: call?.params.comments,
				domain: call?.params.domain_name,
				user: call?.params.clientusername,
				ip: call?.params.ipaddress,
			},
			{
				subject: 'Site down',
				comments: values.message,
				domain: 'shop.example.com',
				user: USER,
				ip: '203.0.113.7',
			},
		);
		const ticket = await ticketState('000101');
		assert.equal(ticket?.username, USER);
		assert.equal(ticket?.domain, 'shop.example.com');
		assert.equal(ticket?.ip, '203.0.113.7');
		assert.equal(ticket?.subject, 'Site down');
		assert.equal(ticket?.openedBy?.name, 'oncall-engineer');
		assert.deepEqual(
			ticket?.replies.map((turn) => turn.kind),
			['ticket.opened'],
		);
		// In the account's history too.
		const account = (await service.store.accounts.get(USER)) as AccountState;
		assert.ok(
			account.history.some((entry) => /Ticket #000101 opened by oncall-engineer/.test(entry.summary)),
		);
		// The ticket's thread starts with the member's text (as data) and who opened it.
		const thread = await discord.waitFor(
			(d) => [...d.threads.values()].find((one) => one.name === 'Ticket #000101 · Site down'),
			5000,
			"the ticket's thread",
		);
		const opening = discord.channelMessages(thread.parentId).find((m) => m.id === thread.id);
		const shown = JSON.stringify(opening?.embeds);
		assert.match(shown, /Opened by/);
		assert.match(shown, /oncall-engineer/);
		assert.match(shown, /The site answers/);
		assert.ok(!shown.includes('@everyone'), 'mentions in the text are inert');
	});

	it('replies through /ticket reply and through the Reply button; MOFH gets the remembered account and address', async () => {
		mofh.nextTicketId = 202;
		const open = await modalFor(
			f.command('ticket', 'open', { user: USER, subject: 'Mail', ip: '198.51.100.4' }),
		);
		await answerTo(submit(open, { message: 'Mail bounces.' }));
		const modal = await modalFor(f.command('ticket', 'reply', { id: '000202' }));
		// hookcord knows the account and the address: only the message is asked.
		assert.deepEqual(
			(modal.body.components as { component: { custom_id: string } }[]).map((c) => c.component.custom_id),
			['message'],
		);
		const sent = submit(modal, { message: 'Any news?' });
		assert.match(await answerTo(sent), /Sent to MOFH support on ticket #000202/);
		const reply = mofh.requests.filter((r) => r.call === 'supportreplyticket').at(-1);
		assert.deepEqual(
			[
				reply?.params.ticket_id,
				reply?.params.clientusername,
				reply?.params.ipaddress,
				reply?.params.comments,
			],
			['000202', USER, '198.51.100.4', 'Any news?'],
		);
		assert.deepEqual(mofh.tickets.get('000202')?.comments, ['Mail bounces.', 'Any news?']);
		// Posted once in the ticket's thread.
		const thread = await discord.waitFor(
			(d) => [...d.threads.values()].find((one) => one.name === 'Ticket #000202 · Mail'),
			5000,
		);
		await discord.waitFor(
			(d) =>
				d
					.threadMessages(thread.id)
					.some((m) => m.embeds[0]?.title === '↩ oncall-engineer replied to MOFH support'),
			5000,
			'the reply in the thread',
		);

		// The button on the ticket's message opens the same form.
		await idle(service.worker);
		const posted = discord.messages.find((m) => JSON.stringify(m.body).includes('ticket:reply:000202'));
		assert.ok(posted, 'a ticket message with a Reply button');
		const click = discord.makeButtonClick(posted.message, 'ticket:reply:000202', STAFF) as Payload;
		const fromButton = await modalFor(click);
		assert.match(await answerTo(submit(fromButton, { message: 'Second reply' })), /Sent to MOFH support/);
		assert.equal(mofh.tickets.get('000202')?.comments.length, 3);
		const ticket = await ticketState('000202');
		assert.deepEqual(
			ticket?.replies.map((turn) => [turn.kind, turn.text]),
			[
				['ticket.opened', 'Mail bounces.'],
				['ticket.reply_sent', 'Any news?'],
				['ticket.reply_sent', 'Second reply'],
			],
		);
	});

	it('a ticket opened elsewhere: the reply form asks for the username and the address once, then remembers them', async () => {
		mofh.tickets.set('000303', {
			id: '000303',
			subject: 'from the panel',
			domain: '',
			clientUsername: USER,
			ip: '192.0.2.1',
			comments: ['opened in the panel'],
		});
		await f.mofhCallback({
			callback_type: 'ticket',
			ticket_id: '000303',
			ticket_status: 'S',
			support_reply: 'Hello',
		});
		const modal = await modalFor(f.command('ticket', 'reply', { id: '000303' }));
		assert.deepEqual(
			(modal.body.components as { component: { custom_id: string } }[]).map((c) => c.component.custom_id),
			['message', 'user', 'ip'],
		);
		await answerTo(submit(modal, { message: 'Thanks', user: USER, ip: '192.0.2.1' }));
		assert.equal((await ticketState('000303'))?.username, USER);
		const again = await modalFor(f.command('ticket', 'reply', { id: '000303' }));
		assert.equal((again.body.components as unknown[]).length, 1, 'only the message now');
		// The support reply that came before is in the account's history as well as later ones.
		await f.mofhCallback({
			callback_type: 'ticket',
			ticket_id: '000303',
			ticket_status: 'S',
			support_reply: 'Fixed',
		});
		const account = (await service.store.accounts.get(USER)) as AccountState;
		assert.ok(account.history.some((entry) => entry.summary === 'Support replied to ticket #000303'));
	});

	it('the same over HTTP interactions: the modal goes back inline, the submit is answered', async () => {
		mofh.nextTicketId = 404;
		const command = f.command('ticket', 'open', { user: USER, subject: 'Over HTTP', ip: '203.0.113.9' });
		const first = await f.run('http', command);
		assert.equal(first.type, InteractionResponseType.Modal);
		const modal = discord.modals.find((shown) => shown.interactionId === command.id);
		assert.ok(modal, 'Discord took the modal');
		const submitted = discord.makeModalSubmit(modal, { values: { message: 'Sent over HTTP' }, ...STAFF });
		const answer = await f.run('http', submitted as Payload);
		assert.match(answer.content ?? '', /Ticket #000404 opened/);
		assert.equal(mofh.tickets.get('000404')?.comments[0], 'Sent over HTTP');
	});

	it("shows MOFH's refusal as it said it, cleaned, and never the API password", async () => {
		const modal = await modalFor(
			f.command('ticket', 'open', { user: 'other_99999999', subject: 'x', ip: '203.0.113.7' }),
		);
		const answer = await answerTo(submit(modal, { message: 'help' }));
		assert.match(answer, /the username posted does not appear to be owned by this reseller api key pair/);
		assert.ok(!answer.includes(mofh.apiKey));
	});

	it('/ticket status: the conversation, who opened it, and its thread', async () => {
		const status = f.command('ticket', 'status', { id: '000202' });
		discord.injectInteraction(status);
		const answer = await answerTo(status);
		const thread = [...discord.threads.values()].find((one) => one.name === 'Ticket #000202 · Mail');
		for (const expected of [
			'Ticket #000202',
			'Mail',
			'oncall-engineer',
			'Any news?',
			'Second reply',
			USER,
			`<#${thread?.id}>`,
		])
			assert.ok(answer.includes(expected), `${expected} in ${answer}`);
		const unknown = f.command('ticket', 'status', { id: '999999' });
		discord.injectInteraction(unknown);
		assert.match(await answerTo(unknown), /no record of this ticket/);
	});

	it('non-staff are refused at the command, the button and the modal submit; MOFH hears nothing', async () => {
		const before = mofh.requests.length;
		const command = f.command('ticket', 'reply', { id: '000202' }, MEMBER);
		discord.injectInteraction(command);
		assert.match(await answerTo(command), /for staff/);
		const posted = discord.messages.find((m) => JSON.stringify(m.body).includes('ticket:reply:000202'));
		assert.ok(posted);
		const click = discord.makeButtonClick(posted.message, 'ticket:reply:000202', MEMBER) as Payload;
		discord.injectInteraction(click);
		assert.match(await answerTo(click), /for staff/);
		// A modal opened while staff, submitted after the role was taken away.
		const modal = await modalFor(f.command('ticket', 'reply', { id: '000202' }));
		const late = submit(modal, { message: 'sneaky' }, MEMBER);
		assert.match(await answerTo(late), /for staff/);
		const foreign = discord.makeModalSubmit(modal, { values: { message: 'x' }, ...STAFF }) as Payload;
		const elsewhere = { ...foreign, guild_id: '999999999999999999' };
		discord.injectInteraction(elsewhere);
		assert.match(await answerTo(elsewhere), /only in the staff server/);
		assert.equal(mofh.requests.length, before, 'no call reached MOFH');
	});
});
