import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PermissionFlagsBits } from 'discord-api-types/v10';
import { startPanel } from './doubles/panel.js';
import { SECRET } from './helpers.js';
import { type Final, startInteractions, text } from './interactions.js';
import { until } from './poll.js';

const STAFF_ROLE = '400000000000000001';
const STAFF = { roles: [STAFF_ROLE], permissions: String(PermissionFlagsBits.ManageGuild) };
const STRANGER = { roles: [], permissions: String(PermissionFlagsBits.ViewChannel) };

describe('forwarding from Discord: the OPS message’s buttons and /forwards status', () => {
	it('staff only, checked at the click; the first decision wins and is carried out once', async (t) => {
		let answered = 0;
		const panel = await startPanel(() => (answered++ === 0 ? { status: 500 } : { status: 200 }));
		t.after(() => panel.close());
		const f = await startInteractions(
			(double) => ({
				HOOK_SECRET: SECRET,
				DISCORD_GUILD_ID: double.guildId,
				ALERTS_CHANNEL: double.channelIds[0] as string,
				// The OPS topic goes where ALERTS_CHANNEL does.
				STAFF_ROLE_IDS: STAFF_ROLE,
				MOFH_ALLOWED_IPS: '*',
				MOFH_FORWARD_TO: `${panel.url}/c/mofh?key=secret-key`,
			}),
			{ who: STAFF },
		);
		t.after(() => f.close());
		await f.mofhCallback({ username: 'fwd_user', status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' });
		const ops = await until(
			() => f.discord.messages.find((m) => /Forward target paused/.test(JSON.stringify(m.body))),
			'the OPS message',
			{ timeoutMs: 10_000 },
		);
		const body = JSON.stringify(ops.body);
		assert.match(body, /fwd_user/);
		assert.match(body, /answered 500/);
		assert.ok(!body.includes('secret-key'), 'the target is shown without its query');
		const ids = ((ops.body.components ?? []) as { components: { custom_id: string }[] }[]).flatMap((row) =>
			row.components.map((button) => button.custom_id),
		);
		const [resend, skip] = ids as [string, string];
		assert.match(resend, /^fwd:resend:/);
		assert.match(skip, /^fwd:skip:/);

		const refused: Final = await f.run('http', f.click(skip, STRANGER));
		assert.match(text(refused), /staff|not allowed|permission/i);
		assert.equal(panel.requests.length, 1);

		const status = await f.run('http', f.command('forwards', 'status'));
		assert.match(text(status), /paused/);
		assert.match(text(status), /answered 500/);

		const decided = await f.run('http', f.click(resend));
		assert.match(text(decided), /Send again.*decided by/);
		assert.deepEqual(decided.components, []);
		const again = await f.run('http', f.click(skip));
		assert.match(text(again), /Already decided: \*\*Send again\*\*|This pause is over/);
		await until(() => panel.requests.length === 2, 'sent again, once', { timeoutMs: 10_000 });
		await new Promise((resolve) => setTimeout(resolve, 300));
		assert.equal(panel.requests.length, 2);
		assert.equal(
			panel.requests[0]?.headers['x-hookcord-event'],
			panel.requests[1]?.headers['x-hookcord-event'],
		);
	});
});
