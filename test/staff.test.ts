import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { PermissionFlagsBits } from 'discord-api-types/v10';
import { request } from 'undici';
import { parseConfig } from '../src/config.js';
import { type Service, startService } from '../src/service.js';
import type { Store } from '../src/store/store.js';
import { type DiscordDouble, snowflake, startDiscordDouble } from './doubles/discord.js';
import { startWooxyDouble } from './doubles/wooxy.js';
import { silent } from './helpers.js';
import {
	autocomplete,
	inGuild,
	keyPair,
	type Payload,
	signedHeaders,
	startInteractions,
	TRANSPORTS,
	type Transport,
	text,
} from './interactions.js';
import { until } from './poll.js';
import { deferrer, privateStore, STORE_KINDS, unavailable } from './stores.js';

/**
 * Who may run staff commands, over both paths (gateway and signed `POST /interactions`): only members of
 * the configured guild(s) with Manage Server (or a staff role); strangers get an ephemeral refusal and
 * nothing runs. And a signed interaction replayed within the timestamp window runs once.
 */

const SECRET = 'staff-secret-0123456789';
const MANAGE_GUILD = String(PermissionFlagsBits.ManageGuild | PermissionFlagsBits.ViewChannel);
const ADMINISTRATOR = String(PermissionFlagsBits.Administrator);
const NO_PERMISSIONS = String(PermissionFlagsBits.ViewChannel | PermissionFlagsBits.SendMessages);

/**
 * Counts every read and write of the store's data, to prove a refused interaction touched none. `seen` is
 * left out: `POST /interactions` records every interaction id there (replay protection) before any gate.
 */
function countStoreCalls(store: Store): { readonly calls: number } {
	let calls = 0;
	for (const name of ['outbox', 'failed', 'batches', 'accounts', 'certs', 'tickets', 'meta'] as const) {
		const keyv = store[name] as unknown as Record<string, unknown>;
		for (const method of ['get', 'getMany', 'set', 'setMany', 'delete', 'has', 'iterator', 'clear']) {
			const original = keyv[method];
			if (typeof original !== 'function') continue;
			keyv[method] = function (this: unknown, ...args: unknown[]) {
				calls++;
				return (original as (...a: unknown[]) => unknown).apply(this, args);
			};
		}
	}
	return {
		get calls() {
			return calls;
		},
	};
}

/** A running hookcord (bot logged into its own Discord double, HTTP interactions on) with `env` on top. */
async function startFixture(envFor: (discord: DiscordDouble) => Record<string, string>) {
	const wooxy = await startWooxyDouble();
	const hookcord = await startInteractions((discord) => ({
		HOOK_SECRET: SECRET,
		PUBLIC_URL: 'https://hooks.example.com',
		// The one callback below is muted, so delivery only removes it from the outbox; no sweep runs during
		// the tests. Nothing but the interactions under test touches the store after that.
		ALERTS_CHANNEL: 'off',
		OUTBOX_SWEEP: '1h',
		WOOXY_API_TOKEN: wooxy.token,
		WOOXY_API_URL: wooxy.url,
		MOFH_ALLOWED_IPS: '*',
		...envFor(discord),
	}));
	const { service } = hookcord;
	const stored = await hookcord.mofhCallback({
		username: 'host_55512345',
		status: 'SUSPENDED',
		comments: 'ADMIN_CLOSE : DAILY_IO',
	});
	const { id } = stored.json() as { id: string };
	await until(
		async () => (await service.store.outbox.get(id)) === undefined,
		'the muted alert left the outbox',
	);
	const store = countStoreCalls(service.store);

	return {
		...hookcord,
		wooxy,
		store,
		async close() {
			await hookcord.close();
			await wooxy.close();
		},
	};
}
type Fixture = Awaited<ReturnType<typeof startFixture>>;

/** From another server the bot was added to: same shape, another guild id. */
const foreignGuild = (payload: Payload) => inGuild(payload, snowflake());

/** From a DM with the bot: a `user`, no guild, no member. */
function directMessage(payload: Payload): Payload {
	const { guild_id: _g, guild: _guild, member, ...rest } = payload;
	return {
		...rest,
		user: (member as { user: unknown }).user,
		context: 1,
		channel: { id: payload.channel_id, type: 1 },
	} as unknown as Payload;
}

/**
 * Runs `payload` (which would do real work: a Wooxy call, a store read) and asserts it was refused with
 * `reason` and that nothing ran: no store call, no Wooxy request, no deferred work.
 */
async function assertRefused(fixture: Fixture, transport: Transport, payload: Payload, reason: RegExp) {
	const storeCalls = fixture.store.calls;
	const wooxyRequests = fixture.wooxy.requests.length;
	const answer = await fixture.run(transport, payload);
	assert.equal(answer.type, 4, 'answered at once, not deferred');
	assert.equal(answer.ephemeral, true);
	assert.match(text(answer), reason);
	assert.equal(fixture.store.calls, storeCalls, 'the store was not touched');
	assert.equal(fixture.wooxy.requests.length, wooxyRequests, 'Wooxy got no request');
}

let hooks = 0;
/** `/wooxy create` options; each call another URL, as Wooxy refuses a URL twice for one domain. */
const create = (title = 'gate') => ({
	title,
	events: 'hard',
	domain_id: '101',
	url: `https://example.com/hook/${++hooks}`,
});

describe('staff commands: DISCORD_GUILD_ID (a list) set, no STAFF_ROLE_IDS', () => {
	let f: Fixture;
	before(async () => {
		// The double's guild is the second of two: every entry of the list counts.
		f = await startFixture((discord) => ({ DISCORD_GUILD_ID: `${snowflake()}, ${discord.guildId}` }));
	});
	after(() => f?.close());

	for (const transport of TRANSPORTS) {
		describe(`over ${transport === 'http' ? 'HTTP interactions' : 'the gateway'}`, () => {
			it('runs for a member with Manage Server or Administrator in the configured guild', async () => {
				const before = f.wooxy.webhooks.length;
				for (const permissions of [MANAGE_GUILD, ADMINISTRATOR]) {
					const answer = await f.run(transport, f.command('wooxy', 'create', create(), { permissions }));
					assert.match(text(answer), /Wooxy webhook created/);
				}
				assert.equal(f.wooxy.webhooks.length, before + 2);
				const status = await f.run(
					transport,
					f.command('account', 'status', { user: 'host_55512345' }, { permissions: MANAGE_GUILD }),
				);
				assert.match(text(status), /DAILY_IO/);
				const choices = await f.run(
					transport,
					autocomplete(f.command('account', 'status', {}, { permissions: MANAGE_GUILD }), 'user', 'host'),
				);
				assert.deepEqual(
					choices.choices?.map((choice) => choice.value),
					['host_55512345'],
				);
			});

			it("shows Wooxy's error without the hook secret when it quotes the webhook URL", async () => {
				const url = `https://hooks.example.com/hooks/wooxy/${SECRET}`;
				f.wooxy.failNext({ body: { result: false, errors: [`Url ${url} did not answer`] } });
				const { url: _default, ...options } = create();
				const answer = await f.run(
					transport,
					f.command('wooxy', 'create', options, { permissions: MANAGE_GUILD }),
				);
				// Shown as data: the brackets are escaped, Discord shows `[secret]`.
				assert.match(text(answer), /hooks\/wooxy\/\\\[secret\\\] did not answer/);
				assert.ok(!text(answer).includes(SECRET), text(answer));
			});

			it('refuses an interaction from another guild, even from its administrator, and runs nothing', async () => {
				const payloads = [
					f.command('wooxy', 'create', create(), { permissions: ADMINISTRATOR }),
					f.command('wooxy', 'remove', { id: '1' }, { permissions: ADMINISTRATOR }),
					f.command('account', 'status', { user: 'host_55512345' }, { permissions: ADMINISTRATOR }),
					f.command('alerts', 'replay', { id: 'all' }, { permissions: ADMINISTRATOR }),
					f.command('alerts', 'failed', {}, { permissions: ADMINISTRATOR }),
				];
				for (const payload of payloads)
					await assertRefused(f, transport, foreignGuild(payload), /only in the staff server/);
			});

			it('refuses a DM and runs nothing', async () => {
				for (const payload of [
					f.command('wooxy', 'create', create(), { permissions: ADMINISTRATOR }),
					f.command('account', 'status', { user: 'host_55512345' }, { permissions: ADMINISTRATOR }),
				])
					await assertRefused(f, transport, directMessage(payload), /only in the staff server/);
			});

			it('refuses a member of the configured guild without Manage Server, whatever the registration default', async () => {
				for (const permissions of [NO_PERMISSIONS, undefined]) {
					const member = permissions === undefined ? {} : { permissions };
					await assertRefused(
						f,
						transport,
						f.command('wooxy', 'create', create(), member),
						/need the Manage Server permission/,
					);
				}
			});

			it('gives autocomplete from another guild, a DM or a member without permission no choices', async () => {
				const base = () =>
					autocomplete(f.command('account', 'status', {}, { permissions: ADMINISTRATOR }), 'user', 'host');
				const unprivileged = autocomplete(
					f.command('account', 'status', {}, { permissions: NO_PERMISSIONS }),
					'user',
					'host',
				);
				for (const payload of [foreignGuild(base()), directMessage(base()), unprivileged]) {
					const calls = f.store.calls;
					const answer = await f.run(transport, payload);
					assert.equal(answer.type, 8);
					assert.deepEqual(answer.choices, []);
					assert.equal(f.store.calls, calls);
				}
			});
		});
	}

	it('a signed interaction sent twice runs once: the repeat is answered 409', async () => {
		const before = f.wooxy.requests.length;
		const body = JSON.stringify(
			f.command('wooxy', 'create', create('replayed'), { permissions: MANAGE_GUILD }),
		);
		const headers = signedHeaders(body, f.keys.privateKey);
		const first = await f.post(body, headers);
		assert.equal(first.status, 200, first.body);
		const again = await f.post(body, headers);
		assert.equal(again.status, 409, again.body);
		assert.deepEqual(JSON.parse(again.body), { error: 'interaction already received' });
		// A second signature over the same body (a fresh timestamp) is the same interaction too.
		assert.equal((await f.post(body)).status, 409);
		await f.discord.waitFor(
			() => f.wooxy.webhooks.some((hook) => hook.title === 'replayed'),
			5000,
			'the first one ran',
		);
		assert.equal(f.wooxy.requests.length - before, 1, 'one Wooxy create');
	});
});

describe('staff commands without DISCORD_GUILD_ID', () => {
	let f: Fixture;
	before(async () => {
		f = await startFixture(() => ({}));
	});
	after(() => f?.close());

	for (const transport of TRANSPORTS) {
		it(`refuse over ${transport}, saying which variable to set, and run nothing`, async () => {
			for (const payload of [
				f.command('wooxy', 'create', create(), { permissions: ADMINISTRATOR }),
				f.command('account', 'status', { user: 'host_55512345' }, { permissions: ADMINISTRATOR }),
			])
				await assertRefused(f, transport, payload, /set DISCORD_GUILD_ID/);
			const choices = await f.run(
				transport,
				autocomplete(f.command('account', 'status', {}, { permissions: ADMINISTRATOR }), 'user', 'host'),
			);
			assert.deepEqual(choices.choices, []);
		});
	}
});

describe('a replayed interaction across processes sharing a store', () => {
	for (const kind of STORE_KINDS.filter((k) => k === 'redis' || k === 'postgres')) {
		it(`runs once when the copies reach two hookcords on one ${kind} store`, async (t: TestContext) => {
			const reason = unavailable(kind);
			if (reason) return t.skip(reason);
			const defer = deferrer(t);
			const { url, drop } = privateStore(kind);
			defer(drop);
			const wooxy = await startWooxyDouble();
			defer(() => wooxy.close());
			const keys = keyPair();
			const discord = await startDiscordDouble();
			defer(() => discord.close());
			const services: Service[] = [];
			for (let i = 0; i < 2; i++) {
				const service = await startService(
					parseConfig({
						HOST: '127.0.0.1',
						PORT: '0',
						STORE_URL: url,
						HOOK_SECRET: SECRET,
						DISCORD_PUBLIC_KEY: keys.publicHex,
						DISCORD_GUILD_ID: discord.guildId,
						DISCORD_API_URL: discord.apiUrl,
						DELIVERY: 'off',
						WOOXY_API_TOKEN: wooxy.token,
						WOOXY_API_URL: wooxy.url,
					}),
					{ logger: silent, print: () => {} },
				);
				defer(() => service.close());
				services.push(service);
			}
			const body = JSON.stringify(
				discord.makeChatInputInteraction({
					commandName: 'wooxy',
					permissions: MANAGE_GUILD,
					options: [
						{
							type: 1,
							name: 'create',
							options: Object.entries(create()).map(([name, value]) => ({ type: 3, name, value })),
						},
					],
				}),
			);
			const headers = signedHeaders(body, keys.privateKey);
			const statuses = await Promise.all(
				services.map(async (service) => {
					const res = await request(`${service.address}/interactions`, { method: 'POST', headers, body });
					await res.body.text();
					return res.statusCode;
				}),
			);
			assert.deepEqual(statuses.sort(), [200, 409], 'one runs, the other is refused before dispatch');
			const creates = () => wooxy.requests.filter((r) => r.path === '/v3/webhook/create').length;
			await discord.waitFor(() => creates() > 0, 5000, 'the first one ran');
			assert.equal(creates(), 1);
		});
	}
});
