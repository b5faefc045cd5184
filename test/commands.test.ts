import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { InteractionResponseType, InteractionType } from 'discord-api-types/v10';
import { embedLength, LIMITS } from '../src/render/limits.js';
import { startWooxyDouble, type WooxyDouble } from './doubles/wooxy.js';
import {
	autocomplete,
	type Interactions,
	keyPair,
	type Payload,
	signedHeaders,
	startInteractions,
	TRANSPORTS,
	text,
} from './interactions.js';

/**
 * Every slash command end to end, over both paths: the real discord.js client logged into the Discord
 * double (INTERACTION_CREATE over the gateway), and signed `POST /interactions`. Both must answer alike.
 */

const SECRET = 'commands-secret-0123456789';
const STAFF_ROLE = '223456789012345678';

describe('slash commands over the gateway and over HTTP interactions', () => {
	let f: Interactions;
	let wooxy: WooxyDouble;

	before(async () => {
		wooxy = await startWooxyDouble({ delayMs: 30 });
		f = await startInteractions(
			(discord) => ({
				HOOK_SECRET: SECRET,
				PUBLIC_URL: 'https://hooks.example.com',
				DISCORD_GUILD_ID: discord.guildId,
				ALERTS_CHANNEL: 'off',
				STAFF_ROLE_IDS: STAFF_ROLE,
				WOOXY_API_TOKEN: wooxy.token,
				WOOXY_API_URL: wooxy.url,
				MOFH_ALLOWED_IPS: '*',
				XOLPHIN_ALLOWED_IPS: '*',
			}),
			{ who: { roles: [STAFF_ROLE] } },
		);
		// State the commands read: an account's lifecycle and a certificate request.
		const mofh = f.mofhCallback;
		await mofh({ username: 'host_55512345', status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' });
		await mofh({ username: 'host_55512345', status: 'sql204', comments: 'SQL_SERVER' });
		await mofh({ username: 'host_55512345', status: 'CLIENTDOMADD', comments: 'shop.example.com' });
		await mofh({ username: 'host_55512345', status: 'SUSPENDED', comments: 'ADMIN_CLOSE : DAILY_IO' });
		await mofh({ username: 'host_55599999', status: 'ACTIVATED' });
		// Alphabetically first, yet only a substring match for "host": tells prefix-first from plain order.
		await mofh({ username: 'ghost_1055512', status: 'ACTIVATED' });
		await mofh({ username: 'epiz_31337000', status: 'SUSPENDED', comments: 'ADMIN_CLOSE : PHISHING' });
		await f.service.app.inject({
			method: 'GET',
			url: `/hooks/xolphin/${SECRET}?RequestId=31337&Status=Updated&State=DCV&Domain=shop.example.com`,
		});
		await f.service.app.inject({
			method: 'GET',
			url: `/hooks/xolphin/${SECRET}?RequestId=31337&Status=Issued`,
		});
	});
	// Each test starts with an empty Wooxy account: none reads what another created.
	beforeEach(() => wooxy?.reset());
	after(async () => {
		await f?.close();
		await wooxy?.close();
	});

	const run: Interactions['run'] = (transport, payload) => f.run(transport, payload);
	const command = (name: string, sub: string, options: Record<string, string> = {}, roles?: string[]) =>
		f.command(name, sub, options, roles && { roles });
	const complete = (name: string, sub: string, option: string, value: string, roles?: string[]) =>
		autocomplete(command(name, sub, {}, roles), option, value);

	for (const transport of TRANSPORTS) {
		describe(`over ${transport === 'http' ? 'HTTP interactions' : 'the gateway'}`, () => {
			it('/account status shows status, reason, category, SQL cluster, domains and history', async () => {
				const final = await run(transport, command('account', 'status', { user: 'host_55512345' }));
				assert.equal(
					final.type,
					InteractionResponseType.DeferredChannelMessageWithSource,
					'the handler defers before reading the store',
				);
				assert.equal(final.ephemeral, true);
				const shown = text(final);
				for (const fact of [
					'Suspended',
					'DAILY_IO',
					'Temporary',
					'sql204',
					'shop.example.com',
					'Recent history',
					'ADMIN_CLOSE : DAILY_IO',
				]) {
					assert.ok(shown.includes(fact), `reply shows ${fact}`);
				}
				assert.ok(!shown.includes('Expected deletion'), 'a daily limit is lifted: no deletion estimate');
			});

			it('/account status estimates the deletion of a permanently suspended account', async () => {
				const final = await run(transport, command('account', 'status', { user: 'epiz_31337000' }));
				const shown = text(final);
				assert.ok(shown.includes('PHISHING') && shown.includes('Permanent'), shown);
				assert.ok(shown.includes('Expected deletion'), shown);
			});

			it('/account status for an unknown user says no callbacks were seen', async () => {
				const final = await run(transport, command('account', 'status', { user: 'nobody_here' }));
				assert.match(final.content ?? '', /No callbacks seen for `nobody_here`/);
			});

			it('/account status autocompletes prefix matches before substring matches', async () => {
				// "ghost_…" sorts first alphabetically, but only contains "host": it must come last.
				const final = await run(transport, complete('account', 'status', 'user', 'host'));
				assert.equal(final.type, InteractionResponseType.ApplicationCommandAutocompleteResult);
				assert.deepEqual(
					final.choices?.map((choice) => choice.value),
					['host_55512345', 'host_55599999', 'ghost_1055512'],
				);
				// Substring matches alone come alphabetically.
				const inside = await run(transport, complete('account', 'status', 'user', '555'));
				assert.deepEqual(
					inside.choices?.map((choice) => choice.value),
					['ghost_1055512', 'host_55512345', 'host_55599999'],
				);
			});

			it('/cert status shows the request timeline', async () => {
				const final = await run(transport, command('cert', 'status', { request: '31337' }));
				const shown = text(final);
				assert.match(shown, /Issued/);
				assert.match(shown, /DCV/);
				assert.match(shown, /shop\.example\.com/);
			});

			it('/wooxy create defaults the url to this receiver and masks the secret', async () => {
				const title = `alerts-${transport}`;
				const final = await run(
					transport,
					command('wooxy', 'create', { title, events: 'hard, soft,complaint', domain: 'mail.example.com' }),
				);
				assert.equal(final.ephemeral, true);
				const created = wooxy.webhooks.find((hook) => hook.title === title);
				assert.ok(created, 'Wooxy got the webhook');
				assert.equal(created.url, `https://hooks.example.com/hooks/wooxy/${SECRET}`);
				assert.deepEqual(created.events, ['hard', 'soft', 'complaint']);
				const shown = text(final);
				assert.ok(shown.includes(String(created.id)));
				assert.ok(shown.includes('hooks/wooxy/[secret]'));
				assert.ok(!shown.includes(SECRET), 'the hook secret is masked');
				assert.ok(!shown.includes(wooxy.token), 'the API token never shows');
			});

			it("/wooxy create shows Wooxy's error verbatim", async () => {
				const final = await run(
					transport,
					command('wooxy', 'create', { title: 'x', events: 'no-such-event', domain: 'mail.example.com' }),
				);
				assert.match(text(final), /Event type no-such-event is not registered/);
			});

			it('/wooxy create needs exactly one of domain and domain_id', async () => {
				const both = await run(
					transport,
					command('wooxy', 'create', {
						title: 'x',
						events: 'hard',
						domain: 'mail.example.com',
						domain_id: '101',
					}),
				);
				assert.match(both.content ?? '', /exactly one of `domain` and `domain_id`/);
				const none = await run(transport, command('wooxy', 'create', { title: 'x', events: 'hard' }));
				assert.match(none.content ?? '', /exactly one/);
			});

			it('/wooxy create autocompletes the last event name', async () => {
				const final = await run(transport, complete('wooxy', 'create', 'events', 'hard, so'));
				const values = final.choices?.map((choice) => choice.value) ?? [];
				assert.ok(values.includes('hard, soft'));
				assert.ok(values.every((value) => value.startsWith('hard, ') && !value.endsWith(', hard')));
				// Names starting with the typed text come before names containing it ("read" has an "e" too).
				const e = await run(transport, complete('wooxy', 'create', 'events', 'hard, e'));
				assert.deepEqual(
					e.choices?.slice(0, 3).map((choice) => choice.value),
					['hard, email-subscribed', 'hard, email-unsubscribed', 'hard, read'],
				);
			});

			it('/wooxy list and /wooxy remove', async () => {
				const empty = await run(transport, command('wooxy', 'list', {}));
				assert.match(text(empty), /has no webhooks/);
				await run(
					transport,
					command('wooxy', 'create', { title: 'to-remove', events: 'hard', domain_id: '102' }),
				);
				const listed = await run(transport, command('wooxy', 'list', {}));
				const first = wooxy.webhooks[0];
				assert.ok(first);
				assert.equal(first.title, 'to-remove');
				assert.ok(text(listed).includes(first.title));
				const removed = await run(transport, command('wooxy', 'remove', { id: String(first.id) }));
				assert.match(removed.content ?? '', new RegExp(`Removed Wooxy webhook ${first.id}`));
				assert.equal(
					wooxy.webhooks.some((hook) => hook.id === first.id),
					false,
				);
				const missing = await run(transport, command('wooxy', 'remove', { id: '999999' }));
				assert.match(text(missing), /Web hook config 999999 not found/);
			});

			it('/wooxy list fits the 6,000 characters of a message and says how many webhooks were left out', async () => {
				for (let n = 0; n < 12; n++)
					wooxy.webhooks.push({
						id: 500 + n,
						title: `hook ${n} ${'t'.repeat(240)}`,
						url: `https://receiver.example.com/${String(n).repeat(3)}/${'u'.repeat(1900)}`,
						domain: { id: '102', name: 'mail.example.com' },
						events: ['hard', 'soft', 'complaint'],
						createdAt: '2026-11-30 12:00:00',
					});
				const listed = await run(transport, command('wooxy', 'list', {}));
				const embeds = listed.embeds ?? [];
				assert.ok(embeds.length >= 1, text(listed));
				assert.ok(embeds.reduce((sum, embed) => sum + embedLength(embed), 0) <= LIMITS.total);
				assert.match(
					listed.content ?? '',
					new RegExp(`^${embeds.length} of 12 webhooks shown; ${12 - embeds.length} left out`),
				);
			});

			it('refuses a member without a staff role, and autocomplete tells them nothing', async () => {
				const refused = await run(
					transport,
					command('account', 'status', { user: 'host_55512345' }, ['111']),
				);
				assert.equal(refused.type, InteractionResponseType.ChannelMessageWithSource);
				assert.equal(refused.ephemeral, true);
				assert.match(refused.content ?? '', /for staff/);
				assert.doesNotMatch(text(refused), /DAILY_IO/);
				const choices = await run(transport, complete('account', 'status', 'user', 'host', ['111']));
				assert.deepEqual(choices.choices, []);
			});

			it('with STAFF_ROLE_IDS, the role is what counts: Manage Server alone is refused, the role from another guild too', async () => {
				const manager = f.discord.makeChatInputInteraction({
					commandName: 'account',
					roles: ['111'],
					permissions: String(1n << 5n),
					options: [
						{ type: 1, name: 'status', options: [{ type: 3, name: 'user', value: 'host_55512345' }] },
					],
				});
				const refused = await run(transport, manager);
				assert.match(refused.content ?? '', /for staff/);
				const foreign = command('account', 'status', { user: 'host_55512345' });
				const elsewhere = { ...foreign, guild_id: '123456789012345678' } as Payload;
				const outside = await run(transport, elsewhere);
				assert.equal(outside.ephemeral, true);
				assert.match(outside.content ?? '', /only in the staff server/);
				assert.doesNotMatch(text(outside), /DAILY_IO/);
			});
		});
	}

	it('30 simultaneous /wooxy create never put more than 10 requests in flight', async () => {
		const payloads = Array.from({ length: 30 }, (_, i) =>
			command('wooxy', 'create', {
				title: `burst-${i}`,
				events: 'hard',
				domain_id: '102',
				url: `https://example.com/hook/${i}`,
			}),
		);
		const results = await Promise.all(payloads.map((payload, i) => run(i % 2 ? 'http' : 'gateway', payload)));
		assert.equal(wooxy.requests.length, 30);
		assert.ok(wooxy.maxInFlight <= 10, `max in flight ${wooxy.maxInFlight}`);
		assert.ok(wooxy.maxInFlight > 1, 'the calls really overlapped');
		assert.ok(results.every((final) => /Wooxy webhook created/.test(text(final))));
	});

	describe('POST /interactions signature checks', () => {
		const ping = JSON.stringify({ type: InteractionType.Ping });

		it('answers PING with PONG', async () => {
			const res = await f.post(ping);
			assert.equal(res.status, 200);
			assert.deepEqual(JSON.parse(res.body), { type: InteractionResponseType.Pong });
		});

		const good = () => signedHeaders(ping, f.keys.privateKey);
		const without = (name: string) =>
			Object.fromEntries(Object.entries(good()).filter(([header]) => header !== name));
		const cases: [string, () => Promise<{ status: number }>][] = [
			['no signature header', () => f.post(ping, without('x-signature-ed25519'))],
			['no timestamp header', () => f.post(ping, without('x-signature-timestamp'))],
			['a malformed signature', () => f.post(ping, { ...good(), 'x-signature-ed25519': 'zz'.repeat(64) })],
			['a signature by another key', () => f.post(ping, signedHeaders(ping, keyPair().privateKey))],
			['a tampered body', () => f.post(JSON.stringify({ type: InteractionType.ApplicationCommand }), good())],
			[
				'a stale timestamp',
				() =>
					f.post(ping, signedHeaders(ping, f.keys.privateKey, String(Math.floor(Date.now() / 1000) - 400))),
			],
			[
				'a timestamp signed for another time',
				() => {
					const headers = good();
					return f.post(ping, {
						...headers,
						'x-signature-timestamp': String(Number(headers['x-signature-timestamp']) - 1),
					});
				},
			],
		];
		for (const [what, attempt] of cases) {
			it(`answers 401 to ${what}`, async () => {
				assert.equal((await attempt()).status, 401);
			});
		}
	});
});
