import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Event, ParsedEvent } from '../src/events/event.js';
import { renderEvent, renderHeadlines } from '../src/render/alert.js';
import {
	ACTION_BUTTON,
	actionButtonId,
	alertComponents,
	COMPONENT_LIMITS,
	confirmationRow,
	parseActionButton,
	STATUS_BUTTON,
} from '../src/render/components.js';
import { type DiscordDouble, startDiscordDouble } from './doubles/discord.js';
import { botSender } from './helpers.js';

/** Buttons: which alerts get them, what their custom ids hold, and that only bot messages carry them. */

let seq = 0;
function stamp(event: ParsedEvent): Event {
	seq++;
	return {
		...event,
		id: `0mwrf2d7u000${String(seq).padStart(8, '0')}`,
		receivedAt: 1_790_000_000_000,
	} as Event;
}
const activated = (username: string) => stamp({ provider: 'mofh', kind: 'account.activated', username });
const ids = (rows: ReturnType<typeof alertComponents>) =>
	rows.flatMap((row) => row.components.map((button) => [button.label, button.custom_id]));

describe('alert buttons', () => {
	it('one Status button per account, named by username only when a message concerns several', () => {
		assert.deepEqual(ids(alertComponents([activated('Host_123')])), [['Status', 'status:host_123']]);
		assert.deepEqual(ids(alertComponents([activated('host_1'), activated('HOST_1'), activated('host_2')])), [
			['Status · host_1', 'status:host_1'],
			['Status · host_2', 'status:host_2'],
		]);
	});

	it('events without an account carry none; a ticket message carries a Reply button', () => {
		const cert = stamp({ provider: 'xolphin', kind: 'cert.issued', requestId: '42' });
		assert.deepEqual(alertComponents([cert]), []);
		const ticket = stamp({ provider: 'mofh', kind: 'ticket.replied', ticketId: '7', text: 'hi' });
		assert.deepEqual(ids(alertComponents([cert, ticket])), [['Reply', 'ticket:reply:7']]);
	});

	it("stays within Discord's limits: 5 per row, 5 rows, every id matching its own strict pattern", () => {
		const rows = alertComponents(Array.from({ length: 40 }, (_, i) => activated(`host_${i}`)));
		assert.equal(rows.length, 5);
		assert.ok(rows.every((row) => row.components.length === 5));
		for (const [, id] of ids(rows)) {
			assert.ok((id as string).length <= COMPONENT_LIMITS.customId);
			assert.match(id as string, STATUS_BUTTON);
		}
	});
});

describe('confirmation buttons', () => {
	const button = {
		key: 'abcd1234',
		linked: true,
		userId: '123456789012345678',
		confirmationId: '1234567890123456789',
	};

	it('carry the action, key, linked flag, invoking user and confirmation, and parse back', () => {
		const [confirm, cancel] = confirmationRow({ action: 'suspend', ...button }).components;
		assert.equal(confirm?.custom_id, 'act:suspend:abcd1234:1:123456789012345678:1234567890123456789');
		assert.deepEqual(parseActionButton(confirm?.custom_id ?? ''), { verb: 'suspend', ...button });
		assert.deepEqual(parseActionButton(cancel?.custom_id ?? ''), { verb: 'cancel', ...button });
	});

	it('refuse anything but the exact form', () => {
		const good = actionButtonId({ verb: 'unsuspend', ...button });
		for (const bad of [
			`${good}:x`,
			good.replace('unsuspend', 'delete'),
			good.replace('abcd1234', 'abcd12345'),
			good.replace('abcd1234', 'ab/d1234'),
			good.replace(':1:', ':2:'),
			good.replace('123456789012345678', '12345'),
			` ${good}`,
			`${good}\n`,
		]) {
			assert.equal(parseActionButton(bad), undefined, bad);
			assert.doesNotMatch(bad, ACTION_BUTTON);
		}
	});
});

describe('senders: buttons only on bot messages', () => {
	let discord: DiscordDouble;
	const webhook = { id: '523456789012345678', token: 'webhook-token_123' };
	before(async () => {
		discord = await startDiscordDouble({ webhooks: [webhook] });
	});
	after(() => discord.close());

	it('a bot channel post carries the Status button; the same alert to a webhook carries none', async () => {
		const events = [activated('host_777')];
		const embeds = events.map(renderEvent);
		const message = {
			content: renderHeadlines(events, embeds),
			embeds,
			nonce: events[0]?.id as string,
			events,
		};
		const send = botSender(discord);
		const channelId = discord.channelIds[0] as string;
		await send({ kind: 'channel', key: `channel:${channelId}`, channelId }, message);
		await send(
			{
				kind: 'webhook',
				key: `webhook:${webhook.id}`,
				url: `${discord.apiUrl}/webhooks/${webhook.id}/${webhook.token}`,
				webhookId: webhook.id,
			},
			message,
		);
		assert.deepEqual(discord.messages[0]?.body.components, alertComponents(events));
		assert.equal(discord.webhookMessages.length, 1);
		assert.equal(discord.webhookMessages[0]?.body.components, undefined);
	});
});
