import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type APIEmbed, PermissionFlagsBits } from 'discord-api-types/v10';
import type { Service } from '../src/service.js';
import type { AccountState } from '../src/state/projections.js';
import type { DiscordDouble } from './doubles/discord.js';
import { type MofhDouble, startMofhDouble } from './doubles/mofh.js';
import { assertInert } from './helpers.js';
import { type Final, type Interactions, startInteractions, TRANSPORTS, text } from './interactions.js';
import { idle, until } from './poll.js';

/** Staff-facing text (or its JSON) with markdown escapes taken out: provider words are shown as data. */
const unescaped = (text: string) => text.replace(/\\+([*_~|`[\]()>#.+-])/g, '$1');

/**
 * Acting from Discord, end to end, over both interaction paths (the real discord.js client on the
 * Discord double's gateway, and signed `POST /interactions`), against the MOFH API double: look-ups,
 * suspend/unsuspend behind a confirmation button, MOFH's refusals, the audit line delivered once, the
 * Status button on alerts, custom-id tampering, non-staff members and foreign guilds.
 */

const SECRET = 'mofh-commands-secret-0123456789';
const STAFF_ROLE = '323456789012345678';
const OTHER_USER = '423456789012345678';
/** Staff hold the staff role and Manage Server; the member without either holds only the basics. */
const STAFF_PERMISSIONS = String(
	PermissionFlagsBits.ViewChannel |
		PermissionFlagsBits.SendMessages |
		PermissionFlagsBits.UseApplicationCommands |
		PermissionFlagsBits.ManageGuild,
);
const MEMBER_PERMISSIONS = String(
	PermissionFlagsBits.ViewChannel |
		PermissionFlagsBits.SendMessages |
		PermissionFlagsBits.UseApplicationCommands,
);

describe('acting on MOFH accounts from Discord', () => {
	let f: Interactions;
	let discord: DiscordDouble;
	let service: Service;
	let mofh: MofhDouble;
	let channel: string;

	before(async () => {
		mofh = await startMofhDouble();
		f = await startInteractions(
			(double) => {
				channel = double.channelIds[0] as string;
				return {
					HOOK_SECRET: SECRET,
					DISCORD_GUILD_ID: double.guildId,
					ALERTS_CHANNEL: channel,
					STAFF_ROLE_IDS: STAFF_ROLE,
					MOFH_API_URL: mofh.url,
					MOFH_API_USERNAME: mofh.apiUser,
					MOFH_API_PASSWORD: mofh.apiKey,
					MOFH_ALLOWED_IPS: '*',
				};
			},
			{ who: { roles: [STAFF_ROLE], permissions: STAFF_PERMISSIONS } },
		);
		({ discord, service } = f);
	});
	after(async () => {
		await f?.close();
		await mofh?.close();
	});

	let n = 0;
	/** A fresh account per test, known to MOFH and (by its callbacks) to hookcord. */
	async function freshAccount(status: 'a' | 'x' = 'a', closedBy?: 'admin' | 'reseller') {
		n++;
		const key = `k${String(n).padStart(4, '0')}abc`.slice(0, 8);
		const vpUser = `hname_${String(10_000_000 + n)}`;
		const domain = `site${n}.example.com`;
		mofh.addAccount({ key, vpUser, status, domains: [domain], ...(closedBy && { closedBy }) });
		await f.mofhCallback({ username: vpUser, status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' });
		await idle(service.worker);
		return { key, vpUser, domain };
	}

	const run: Interactions['run'] = (transport, payload) => f.run(transport, payload);
	const command: Interactions['command'] = (...args) => f.command(...args);
	const click: Interactions['click'] = (...args) => f.click(...args);
	const buttonIds = (final: Final) =>
		(final.components ?? []).flatMap((row) => row.components.map((button) => button.custom_id));
	const mofhCalls = (call: string) => mofh.requests.filter((r) => r.call === call).length;
	const auditLines = (key: string) =>
		discord.messages.filter((m) =>
			(m.body.embeds as APIEmbed[] | undefined)?.some(
				(embed) => /from Discord/.test(embed.title ?? '') && embed.description?.includes(`\`${key}\``),
			),
		);
	const account = async (user: string) =>
		(await service.store.accounts.get(user.toLowerCase())) as AccountState | undefined;

	beforeEach(() => {
		mofh.fault = null;
	});

	for (const transport of TRANSPORTS) {
		describe(`over ${transport === 'http' ? 'HTTP interactions' : 'the gateway'}`, () => {
			it('/domain lookup shows owner, status and document root, joined with what hookcord knows', async () => {
				const { vpUser, domain } = await freshAccount();
				const final = await run(transport, command('domain', 'lookup', { domain }));
				assert.equal(final.type, 5);
				assert.equal(final.ephemeral, true);
				const shown = text(final);
				for (const fact of [vpUser, 'ACTIVE', `/home/vol15_2/example.com/${vpUser}/htdocs`, 'Active since'])
					assert.ok(shown.includes(fact), `shows ${fact}: ${shown}`);
				assert.deepEqual(buttonIds(final), [`status:${vpUser}`]);
				const none = await run(transport, command('domain', 'lookup', { domain: 'nobody.example.org' }));
				assert.match(
					none.content ?? '',
					/^Not found: MOFH has no account with the domain `nobody\.example\.org`/,
				);
			});

			it('/account domains lists the live domains by vPanel username; a key finds none', async () => {
				const { key, vpUser, domain } = await freshAccount();
				const final = await run(transport, command('account', 'domains', { user: vpUser }));
				assert.match(text(final), new RegExp(`${domain.replace(/\./g, '\\.')}\` — ACTIVE`));
				const byKey = await run(transport, command('account', 'domains', { user: key }));
				assert.match(byKey.content ?? '', /MOFH lists no domains for .*vPanel username.*not the account key/);
			});

			it('suspend: asks first, acts on Confirm, shows the result, posts the audit line once; the username given stays a hint', async () => {
				const { key, vpUser } = await freshAccount();
				const before = mofhCalls('suspendacct');
				const asked = await run(
					transport,
					command('account', 'suspend', { key, reason: 'phishing kit', linked: true, user: vpUser }),
				);
				assert.equal(asked.ephemeral, true);
				assert.match(text(asked), new RegExp(`Suspend account ${key}\\?`));
				assert.match(text(asked), /RES_CLOSE : phishing kit/);
				assert.match(text(asked), /same e-mail or IP address/);
				assert.equal(mofhCalls('suspendacct'), before, 'nothing is sent before the confirmation');
				const [confirm, cancel] = buttonIds(asked);
				assert.match(confirm ?? '', new RegExp(`^act:suspend:${key}:1:${discord.userId}:\\d+$`));
				assert.match(cancel ?? '', /^act:cancel:/);

				const done = await run(transport, click(confirm as string));
				assert.equal(done.type, 6, 'the confirmation message itself is updated');
				assert.match(text(done), /Suspension accepted by MOFH/);
				assert.match(text(done), /Completed, this account will be fully suspended in 2 minutes\./);
				assert.doesNotMatch(text(done), /<script|clear_ui_status/);
				assert.deepEqual(done.components, [], 'the buttons are gone');
				assert.equal(mofh.accounts.get(key)?.status, 'x');
				assert.equal(mofh.accounts.get(key)?.reason, 'RES_CLOSE : phishing kit');
				assert.equal(mofh.requests.at(-1)?.params.linked, '1');

				// Discord may deliver a click twice, and members double-click: one action only.
				const again = await run(transport, click(confirm as string));
				assert.equal(again.type, 4);
				assert.match(again.content ?? '', /^Already handled: suspend of .* done/);
				assert.equal(mofhCalls('suspendacct'), before + 1);

				await idle(service.worker);
				const lines = auditLines(key);
				assert.equal(lines.length, 1, 'the audit line is posted exactly once');
				const line = lines[0];
				assert.equal(line?.channelId, channel);
				assert.match(JSON.stringify(line?.body.embeds), /Suspend from Discord: done/);
				assert.match(JSON.stringify(line?.body.embeds), new RegExp(`<@${discord.userId}>`));
				assert.match(JSON.stringify(line?.body.embeds), /phishing kit/);
				assert.deepEqual(line?.body.allowed_mentions, { parse: [] });

				// The member named the vPanel user; MOFH's "done" does not confirm it: shown as theirs, not recorded.
				assert.match(text(asked), new RegExp(`${vpUser}\` \\(given by .*, unverified\\)`));
				assert.match(JSON.stringify(line?.body.embeds), new RegExp(`${vpUser}\`, given by .*, unverified`));
				const state = await account(vpUser);
				assert.equal(state?.key, undefined);
				assert.ok(!state?.history.some((entry) => entry.kind === 'account.action'));
				assert.equal(await service.store.keys.get(key.toLowerCase()), undefined);
			});

			it('unsuspend: MOFH refuses a second time in its own words (status r), and an admin suspension says only the host can lift it', async () => {
				const { key, vpUser } = await freshAccount('x');
				const first = await run(transport, command('account', 'unsuspend', { key, user: vpUser }));
				const [confirm] = buttonIds(first);
				const done = await run(transport, click(confirm as string));
				assert.match(text(done), /Unsuspension accepted by MOFH/);
				assert.match(text(done), new RegExp(`${key} account has been unsuspended`));
				assert.equal(mofh.accounts.get(key)?.status, 'r');

				const second = await run(transport, command('account', 'unsuspend', { key }));
				assert.match(text(second), /not known to hookcord yet/, "a member's word was not kept as fact");
				const refused = await run(transport, click(buttonIds(second)[0] as string));
				assert.match(text(refused), /MOFH refused the unsuspension/);
				assert.match(text(refused), /This account is NOT currently suspended \(status : r \)\./);

				const admin = await freshAccount('x', 'admin');
				const asked = await run(transport, command('account', 'unsuspend', { key: admin.key }));
				const answer = await run(transport, click(buttonIds(asked)[0] as string));
				assert.match(text(answer), /This account appears to be admin suspended/);
				assert.match(text(answer), /only the host can lift it/);
				assert.equal(mofh.accounts.get(admin.key)?.status, 'x');
			});

			it('suspend refusals: not active names the vPanel user (and hookcord learns the key), unknown key, reason too short', async () => {
				const { key, vpUser } = await freshAccount('x');
				const asked = await run(transport, command('account', 'suspend', { key, reason: 'again please' }));
				assert.match(text(asked), /not known to hookcord yet/);
				const refused = await run(transport, click(buttonIds(asked)[0] as string));
				assert.match(text(refused), /MOFH refused the suspension/);
				assert.match(
					text(refused),
					new RegExp(
						`This account is not active so can not be suspended \\( vPuser : ${vpUser} , status : x`,
					),
				);
				await idle(service.worker);
				assert.equal((await account(vpUser))?.key, key, 'the vPanel user MOFH named is tied to the key');
				assert.equal(auditLines(key).length, 1);
				assert.match(JSON.stringify(auditLines(key)[0]?.body.embeds), /refused by MOFH/);

				const unknown = await run(
					transport,
					command('account', 'suspend', { key: 'zz99zz99', reason: 'abuse report' }),
				);
				const none = await run(transport, click(buttonIds(unknown)[0] as string));
				assert.match(
					text(none),
					/reason : \)\. No account mathcing this username zz99zz99 could be found\.`/,
				);
				assert.match(text(none), /take the key, not the vPanel username/);

				const fresh = await freshAccount();
				const short = await run(transport, command('account', 'suspend', { key: fresh.key, reason: 'no' }));
				const tooShort = await run(transport, click(buttonIds(short)[0] as string));
				assert.match(
					text(tooShort),
					/The suspension reason is to short, please give a reason for suspension\./,
				);
				assert.equal(mofh.accounts.get(fresh.key)?.status, 'a');
			});

			it('Cancel sends nothing; only the member who ran the command can confirm; Confirm after Cancel does nothing', async () => {
				const { key } = await freshAccount();
				const asked = await run(transport, command('account', 'suspend', { key, reason: 'spam campaign' }));
				const [confirm, cancel] = buttonIds(asked) as [string, string];
				const stranger = await run(transport, click(confirm, { userId: OTHER_USER }));
				assert.equal(stranger.type, 4);
				assert.match(stranger.content ?? '', new RegExp(`Only <@${discord.userId}>, who ran the command`));
				const cancelled = await run(transport, click(cancel));
				assert.match(
					cancelled.content ?? '',
					new RegExp(`Cancelled: nothing was sent to MOFH about key \`${key}\``),
				);
				assert.deepEqual(cancelled.components, []);
				const late = await run(transport, click(confirm));
				assert.match(late.content ?? '', /Already handled: cancelled/);
				assert.equal(mofh.accounts.get(key)?.status, 'a');
				assert.equal(mofh.requests.filter((r) => r.params.user === key).length, 0);
			});

			it('a tampered or unknown custom id is refused without acting', async () => {
				const { key } = await freshAccount();
				const asked = await run(transport, command('account', 'suspend', { key, reason: 'spam campaign' }));
				const [confirm] = buttonIds(asked) as [string];
				const tampered = [
					confirm.replace(`:${key}:`, ':other123:'),
					confirm.replace(':0:', ':1:'),
					confirm.replace('act:suspend', 'act:unsuspend'),
					`${confirm}0`,
				];
				for (const customId of tampered) {
					const refused = await run(transport, click(customId));
					assert.equal(refused.type, 4);
					assert.match(
						refused.content ?? '',
						/expired or does not match|does not know this button/,
						customId,
					);
				}
				const select = click(`status:${(await freshAccount()).vpUser}`);
				select.data = {
					custom_id: (select.data as { custom_id: string }).custom_id,
					component_type: 3,
					values: [],
				};
				assert.match(
					(await run(transport, select)).content ?? '',
					/does not know this button/,
					'only buttons',
				);
				for (const customId of [
					'status:../etc',
					'status:',
					`status:${'a'.repeat(120)}`,
					'act:suspend',
					'nope',
				]) {
					const refused = await run(transport, click(customId));
					assert.match(refused.content ?? '', /does not know this button/, customId);
				}
				assert.equal(
					mofh.requests.filter((r) => r.params.user === key || r.params.user === 'other123').length,
					0,
				);
				// The genuine button still works afterwards.
				assert.match(text(await run(transport, click(confirm))), /Suspension accepted/);
			});

			it('the Status button on an alert answers like /account status, privately', async () => {
				const { vpUser } = await freshAccount();
				await f.mofhCallback({ username: vpUser, status: 'SUSPENDED', comments: 'ADMIN_CLOSE : DAILY_CPU' });
				await idle(service.worker);
				const alert = discord.messages.filter((m) => m.body.content?.toString().includes(vpUser)).at(-1);
				const rows = alert?.body.components as { components: { custom_id: string; label: string }[] }[];
				assert.deepEqual(
					rows?.flatMap((row) => row.components.map((b) => [b.label, b.custom_id])),
					[['Status', `status:${vpUser}`]],
				);
				const final = await run(transport, click(`status:${vpUser}`));
				assert.equal(final.type, 5);
				assert.equal(final.ephemeral, true);
				assert.match(unescaped(text(final)), new RegExp(`Account ${vpUser}`));
				assert.match(unescaped(text(final)), /DAILY_CPU/);
			});

			it('a member without a staff role can neither run these commands nor use the buttons', async () => {
				const { key, vpUser, domain } = await freshAccount();
				const nonStaff = { roles: ['111'], permissions: MEMBER_PERMISSIONS };
				for (const payload of [
					command('domain', 'lookup', { domain }, nonStaff),
					command('account', 'domains', { user: vpUser }, nonStaff),
					command('account', 'suspend', { key, reason: 'spam campaign' }, nonStaff),
					click(`status:${vpUser}`, nonStaff),
				]) {
					const refused = await run(transport, payload);
					assert.equal(refused.type, 4);
					assert.equal(refused.ephemeral, true);
					assert.match(refused.content ?? '', /for staff/);
					assert.doesNotMatch(text(refused), new RegExp(vpUser));
				}
				// A staff member's confirmation, clicked later by the same member after losing the role.
				const asked = await run(transport, command('account', 'suspend', { key, reason: 'spam campaign' }));
				const demoted = await run(transport, click(buttonIds(asked)[0] as string, nonStaff));
				assert.match(demoted.content ?? '', /for staff/);
				assert.equal(mofh.accounts.get(key)?.status, 'a', 'permission is checked at click time');
			});

			it('a member of another guild can neither run these commands nor use the buttons', async () => {
				const { key, vpUser } = await freshAccount();
				const foreign = { guildId: '999999999999999999' };
				for (const payload of [
					command('account', 'suspend', { key, reason: 'spam campaign' }, foreign),
					click(`status:${vpUser}`, foreign),
				]) {
					const refused = await run(transport, payload);
					assert.equal(refused.type, 4);
					assert.doesNotMatch(text(refused), new RegExp(`${vpUser}|Suspend account`));
				}
			});
		});
	}

	/** MOFH text meant to format, link, mention (also once its entities are decoded), reverse and ring. */
	const HOSTILE_TEXT =
		'**big** [panel](https://evil.example) &lt;@&323456789012345678&gt; <@423456789012345678> @everyone \u202egnp.exe\u0007';

	it('MOFH text reaches Discord as data: the /account domains status, the /domain lookup title, the Already handled answer', async () => {
		const { key, vpUser } = await freshAccount();
		mofh.fault = 'hostile';
		mofh.hostileBody = JSON.stringify([[HOSTILE_TEXT, 'site.example.com']]);
		const domains = await run('http', command('account', 'domains', { user: vpUser }));
		assert.match(text(domains), /site\.example\.com/);
		assertInert(domains.embeds?.[0]?.description ?? '', '/account domains');

		mofh.hostileBody = JSON.stringify(['ACTIVE', HOSTILE_TEXT, '/home/x', vpUser]);
		const lookup = await run('http', command('domain', 'lookup', { domain: 'site.example.com' }));
		assert.match(lookup.embeds?.[0]?.title ?? '', /gnp\.exe/);
		assertInert(lookup.embeds?.[0]?.title ?? '', '/domain lookup title');

		mofh.hostileBody = `<suspendacct><result><status>1</status><statusmsg>${HOSTILE_TEXT}</statusmsg></result></suspendacct>`;
		const asked = await run('http', command('account', 'suspend', { key, reason: 'phishing kit' }));
		const [confirm] = buttonIds(asked);
		const done = await run('http', click(confirm as string));
		assert.match(text(done), /Suspension accepted by MOFH/);
		const again = await run('http', click(confirm as string));
		assert.match(again.content ?? '', /^Already handled: /);
		assert.match(again.content ?? '', /gnp\.exe/);
		assertInert(again.content ?? '', 'Already handled');
		await idle(service.worker);
		for (const line of auditLines(key))
			for (const embed of line.body.embeds as APIEmbed[])
				assertInert((embed.description ?? '').replace(`<@${discord.userId}>`, 'member'), 'audit line');
	});

	it('an echoing MOFH: the API password and the Basic credential reach neither the reply nor the audit line', async () => {
		const { key, vpUser } = await freshAccount();
		mofh.fault = 'echo';
		const asked = await run(
			'http',
			command('account', 'suspend', { key, reason: 'phishing kit', user: vpUser }),
		);
		const done = await run('http', click(buttonIds(asked)[0] as string));
		const lookup = await run('http', command('domain', 'lookup', { domain: 'nowhere.example.com' }));
		await idle(service.worker);
		const lines = auditLines(key);
		assert.equal(lines.length, 1);
		const shown = text(done) + text(lookup) + JSON.stringify(lines.map((line) => line.body));
		assert.match(shown, /\[redacted\]/, 'the double quoted the request');
		const basic = Buffer.from(`${mofh.apiUser}:${mofh.apiKey}`).toString('base64');
		for (const form of [mofh.apiKey, encodeURIComponent(mofh.apiKey), basic])
			assert.ok(!shown.includes(form), `${form} shown`);
	});

	for (const [status, code] of [
		[404, 10062],
		[400, 40060],
	] as const) {
		it(`Discord refusing the acknowledgement of Confirm (${code}): nothing is sent, the confirmation is free for another click`, async () => {
			const { key } = await freshAccount();
			const before = mofhCalls('suspendacct');
			const asked = await run('gateway', command('account', 'suspend', { key, reason: 'phishing kit' }));
			const confirm = buttonIds(asked)[0] as string;
			const id = confirm.split(':').at(-1) as string;
			const refused = discord.fail({
				method: 'POST',
				path: /\/interactions\/\d+\/[^/]+\/callback$/,
				status,
				code,
			});
			discord.injectInteraction(click(confirm));
			await until(() => refused.hits === 1, 'the refused acknowledgement');
			// Freed: the claim is gone and the confirmation waits for its button again.
			await until(
				async () =>
					(await service.store.seen.get(`action:${id}`)) === undefined &&
					!(
						'startedAt' in
						(((await service.store.actions.get(`pending:${id}`)) as object | undefined) ?? { startedAt: 0 })
					),
				'the confirmation to be freed',
			);
			assert.equal(mofhCalls('suspendacct'), before, 'MOFH was not called');

			const again = await run('gateway', click(confirm));
			assert.match(text(again), /Suspension accepted by MOFH/);
			assert.equal(mofhCalls('suspendacct'), before + 1);
			await idle(service.worker);
			const lines = auditLines(key);
			assert.equal(lines.length, 1);
			assert.match(JSON.stringify(lines[0]?.body.embeds), /Suspend from Discord: done/);
		});
	}

	it('two clicks of one Confirm at once, over both paths, make one MOFH call', async () => {
		const { key } = await freshAccount();
		const asked = await run('http', command('account', 'suspend', { key, reason: 'spam campaign' }));
		const [confirm] = buttonIds(asked) as [string];
		mofh.slowMs = 300;
		mofh.fault = 'slow';
		const both = await Promise.all([run('gateway', click(confirm)), run('http', click(confirm))]);
		mofh.fault = null;
		assert.deepEqual(both.map((final) => final.type).sort(), [4, 6]);
		const second = both.find((final) => final.type === 4);
		// Before the request leaves it is waiting (and could still be cancelled); after, it is being carried out.
		assert.match(
			second?.content ?? '',
			/being carried out already|waiting for a connection to MOFH: nothing has been sent yet/,
		);
		assert.equal(mofh.requests.filter((r) => r.call === 'suspendacct' && r.params.user === key).length, 1);
		await idle(service.worker);
		assert.equal(auditLines(key).length, 1);
	});

	it('MOFH refusing the API credentials is shown with the variables to check, never the password', async () => {
		const real = mofh.apiKey;
		mofh.apiKey = 'rotated-in-the-panel';
		try {
			const final = await run('http', command('domain', 'lookup', { domain: 'anything.example.com' }));
			assert.match(
				unescaped(final.content ?? ''),
				/MOFH refused the API access \(ERROR :The API key you are using appears to be invalid 1\.\): check MOFH_API_USERNAME and MOFH_API_PASSWORD/,
			);
			assert.ok(!text(final).includes(real));
		} finally {
			mofh.apiKey = real;
		}
	});
});

describe('without MOFH API credentials', () => {
	it('the commands say which variables to set', async () => {
		const f = await startInteractions(
			(discord) => ({
				HOOK_SECRET: SECRET,
				DISCORD_GUILD_ID: discord.guildId,
				MOFH_API_USERNAME: 'reseller_api_user',
			}),
			{ gateway: false, who: { permissions: STAFF_PERMISSIONS } },
		);
		try {
			const answer = await f.run(
				'http',
				f.command('account', 'suspend', { key: 'abcd1234', reason: 'spam' }),
			);
			assert.equal(answer.type, 4);
			assert.match(unescaped(answer.content ?? ''), /not configured: set MOFH_API_PASSWORD \(/);
			const lookup = await f.run('http', f.command('domain', 'lookup', { domain: 'shop.example.com' }));
			assert.equal(lookup.type, 5);
			assert.match(unescaped(String(lookup.content)), /set MOFH_API_PASSWORD/);
		} finally {
			await f.close();
		}
	});
});
