import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { APIEmbed } from 'discord-api-types/v10';
import { request } from 'undici';
import { parseConfig } from '../src/config.js';
import { type Service, startService } from '../src/service.js';
import { type DiscordDouble, startDiscordDouble } from './doubles/discord.js';
import { startWooxyDouble, type WooxyDouble } from './doubles/wooxy.js';
import { silent } from './helpers.js';

/**
 * Every slash command end to end, over both paths: the real discord.js client logged into the Discord
 * double (INTERACTION_CREATE over the gateway), and signed `POST /interactions`. Both must answer alike.
 */

const SECRET = 'commands-secret-0123456789';
const STAFF_ROLE = '223456789012345678';

function keyPair(): { privateKey: KeyObject; publicHex: string } {
	const { privateKey, publicKey } = generateKeyPairSync('ed25519');
	return {
		privateKey,
		publicHex: publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex'),
	};
}

interface Final {
	/** The first answer's callback type: 4 message, 5 deferred, 8 autocomplete. */
	type: number;
	ephemeral: boolean;
	content?: string;
	embeds: APIEmbed[];
	choices?: { name: string; value: string }[];
}

type Transport = 'gateway' | 'http';
type Payload = ReturnType<DiscordDouble['makeChatInputInteraction']>;

describe('slash commands over the gateway and over HTTP interactions', () => {
	let discord: DiscordDouble;
	let wooxy: WooxyDouble;
	let service: Service;
	const keys = keyPair();

	before(async () => {
		discord = await startDiscordDouble();
		wooxy = await startWooxyDouble({ delayMs: 30 });
		const config = parseConfig({
			HOST: '127.0.0.1',
			PORT: '0',
			STORE_URL: 'memory://',
			HOOK_SECRET: SECRET,
			PUBLIC_URL: 'https://hooks.example.com',
			DISCORD_TOKEN: discord.token,
			DISCORD_API_URL: discord.apiUrl,
			DISCORD_PUBLIC_KEY: keys.publicHex,
			ALERTS_CHANNEL: 'off',
			STAFF_ROLE_IDS: STAFF_ROLE,
			WOOXY_API_TOKEN: wooxy.token,
			WOOXY_API_URL: wooxy.url,
			MOFH_ALLOWED_IPS: '*',
			XOLPHIN_ALLOWED_IPS: '*',
		});
		service = await startService(config, { logger: silent, print: () => {} });
		await discord.waitFor(() => service.gateway?.isReady(), 10_000, 'the bot logged into the gateway');
		// State the commands read: an account's lifecycle and a certificate request.
		const mofh = (fields: Record<string, string>) =>
			service.app.inject({
				method: 'POST',
				url: `/hooks/mofh/${SECRET}`,
				payload: new URLSearchParams(fields).toString(),
				headers: { 'content-type': 'application/x-www-form-urlencoded' },
			});
		await mofh({ username: 'host_55512345', status: 'ACTIVATED', comments: 'GENERIC ACTIVATION' });
		await mofh({ username: 'host_55512345', status: 'sql204', comments: 'SQL_SERVER' });
		await mofh({ username: 'host_55512345', status: 'CLIENTDOMADD', comments: 'shop.example.com' });
		await mofh({ username: 'host_55512345', status: 'SUSPENDED', comments: 'ADMIN_CLOSE : DAILY_IO' });
		await mofh({ username: 'host_55599999', status: 'ACTIVATED' });
		await mofh({ username: 'other_1055512', status: 'ACTIVATED' });
		await service.app.inject({
			method: 'GET',
			url: `/hooks/xolphin/${SECRET}?RequestId=31337&Status=Updated&State=DCV&Domain=shop.example.com`,
		});
		await service.app.inject({
			method: 'GET',
			url: `/hooks/xolphin/${SECRET}?RequestId=31337&Status=Issued`,
		});
	});
	after(async () => {
		await service?.close();
		await discord?.close();
		await wooxy?.close();
	});

	function command(
		name: string,
		sub: string,
		options: Record<string, string> = {},
		roles = [STAFF_ROLE],
	): Payload {
		return discord.makeChatInputInteraction({
			commandName: name,
			roles,
			options: [
				{
					type: 1,
					name: sub,
					options: Object.entries(options).map(([key, value]) => ({ type: 3, name: key, value })),
				},
			],
		});
	}

	function autocomplete(
		name: string,
		sub: string,
		option: string,
		value: string,
		roles = [STAFF_ROLE],
	): Payload {
		const payload = command(name, sub, {}, roles) as unknown as Record<string, unknown> & {
			data: Record<string, unknown>;
		};
		payload.type = 4;
		payload.data.options = [
			{ type: 1, name: sub, options: [{ type: 3, name: option, value, focused: true }] },
		];
		return payload as unknown as Payload;
	}

	async function signedPost(body: string, headers: Record<string, string> = {}) {
		const timestamp = String(Math.floor(Date.now() / 1000));
		const signature = sign(null, Buffer.from(timestamp + body), keys.privateKey).toString('hex');
		const res = await request(`${service.address}/interactions`, {
			method: 'POST',
			headers: {
				'content-type': 'application/json',
				'x-signature-ed25519': signature,
				'x-signature-timestamp': timestamp,
				...headers,
			},
			body,
		});
		return { status: res.statusCode, body: await res.body.text() };
	}

	/** Runs an interaction over one path and returns what the member finally sees. */
	async function run(transport: Transport, payload: Payload): Promise<Final> {
		let initial: { type: number; data?: Record<string, unknown> };
		if (transport === 'http') {
			const res = await signedPost(JSON.stringify(payload));
			assert.equal(res.status, 200, res.body);
			initial = JSON.parse(res.body);
		} else {
			discord.injectInteraction(payload);
			initial = (
				await discord.waitFor(
					(d) => d.interactionResponses.find((r) => r.interactionId === payload.id),
					5000,
					'interaction callback',
				)
			).body as typeof initial;
		}
		const flags = Number(initial.data?.flags ?? 0);
		if (initial.type === 8)
			return { type: 8, ephemeral: false, embeds: [], choices: initial.data?.choices as Final['choices'] };
		let body = initial.data ?? {};
		if (initial.type === 5) {
			body = (
				await discord.waitFor(
					(d) => d.edits.find((edit) => edit.token === payload.token),
					5000,
					'deferred reply edited',
				)
			).body as Record<string, unknown>;
			assert.deepEqual(body.allowed_mentions, { parse: [] });
		}
		return {
			type: initial.type,
			ephemeral: (flags & 64) === 64,
			...(typeof body.content === 'string' && { content: body.content }),
			embeds: (body.embeds ?? []) as APIEmbed[],
		};
	}

	const text = (final: Final) => JSON.stringify(final.embeds) + (final.content ?? '');

	for (const transport of ['gateway', 'http'] as const) {
		describe(`over ${transport === 'http' ? 'HTTP interactions' : 'the gateway'}`, () => {
			it('/account status shows status, reason, category, SQL cluster, domains, history and deletion estimate', async () => {
				const final = await run(transport, command('account', 'status', { user: 'host_55512345' }));
				assert.equal(final.type, 5, 'the handler defers before reading the store');
				assert.equal(final.ephemeral, true);
				const shown = text(final);
				for (const fact of [
					'Suspended',
					'DAILY_IO',
					'Temporary',
					'sql204',
					'shop.example.com',
					'Expected deletion',
					'Recent history',
					'ADMIN_CLOSE : DAILY_IO',
				]) {
					assert.ok(shown.includes(fact), `reply shows ${fact}`);
				}
			});

			it('/account status for an unknown user says no callbacks were seen', async () => {
				const final = await run(transport, command('account', 'status', { user: 'nobody_here' }));
				assert.match(final.content ?? '', /No callbacks seen for `nobody_here`/);
			});

			it('/account status autocompletes prefix matches before substring matches', async () => {
				const final = await run(transport, autocomplete('account', 'status', 'user', '555'));
				assert.equal(final.type, 8);
				assert.deepEqual(
					final.choices?.map((choice) => choice.value),
					['host_55512345', 'host_55599999', 'other_1055512'].filter((name) => name.includes('555')),
				);
				const prefix = await run(transport, autocomplete('account', 'status', 'user', 'host_555'));
				assert.deepEqual(
					prefix.choices?.map((choice) => choice.value),
					['host_55512345', 'host_55599999'],
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
				const final = await run(transport, autocomplete('wooxy', 'create', 'events', 'hard, so'));
				const values = final.choices?.map((choice) => choice.value) ?? [];
				assert.ok(values.includes('hard, soft'));
				assert.ok(values.every((value) => value.startsWith('hard, ') && !value.endsWith(', hard')));
			});

			it('/wooxy list and /wooxy remove', async () => {
				const listed = await run(transport, command('wooxy', 'list', {}));
				const first = wooxy.webhooks[0];
				assert.ok(first);
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

			it('refuses a member without a staff role, and autocomplete tells them nothing', async () => {
				const refused = await run(
					transport,
					command('account', 'status', { user: 'host_55512345' }, ['111']),
				);
				assert.equal(refused.type, 4);
				assert.equal(refused.ephemeral, true);
				assert.match(refused.content ?? '', /for staff/);
				assert.doesNotMatch(text(refused), /DAILY_IO/);
				const choices = await run(transport, autocomplete('account', 'status', 'user', 'host', ['111']));
				assert.deepEqual(choices.choices, []);
			});
		});
	}

	it('30 simultaneous /wooxy create never put more than 10 requests in flight', async () => {
		const before = wooxy.requests.length;
		const payloads = Array.from({ length: 30 }, (_, i) =>
			command('wooxy', 'create', {
				title: `burst-${i}`,
				events: 'hard',
				domain_id: '102',
				url: `https://example.com/hook/${i}`,
			}),
		);
		const results = await Promise.all(payloads.map((payload, i) => run(i % 2 ? 'http' : 'gateway', payload)));
		assert.equal(wooxy.requests.length - before, 30);
		assert.ok(wooxy.maxInFlight <= 10, `max in flight ${wooxy.maxInFlight}`);
		assert.ok(wooxy.maxInFlight > 1, 'the calls really overlapped');
		assert.ok(results.every((final) => /Wooxy webhook created/.test(text(final))));
	});

	describe('POST /interactions signature checks', () => {
		const ping = JSON.stringify({ type: 1 });

		it('answers PING with PONG', async () => {
			const res = await signedPost(ping);
			assert.equal(res.status, 200);
			assert.deepEqual(JSON.parse(res.body), { type: 1 });
		});

		function signed(body = ping, timestamp = String(Math.floor(Date.now() / 1000)), key = keys.privateKey) {
			return { timestamp, signature: sign(null, Buffer.from(timestamp + body), key).toString('hex') };
		}
		async function post(body: string, headers: Record<string, string | undefined>) {
			const res = await request(`${service.address}/interactions`, {
				method: 'POST',
				headers: Object.fromEntries(
					Object.entries({ 'content-type': 'application/json', ...headers }).filter(
						([, v]) => v !== undefined,
					),
				) as Record<string, string>,
				body,
			});
			return { status: res.statusCode, body: await res.body.text() };
		}

		const good = () => signed();
		const cases: [string, () => Promise<{ status: number }>][] = [
			['no signature header', () => post(ping, { 'x-signature-timestamp': good().timestamp })],
			['no timestamp header', () => post(ping, { 'x-signature-ed25519': good().signature })],
			[
				'a malformed signature',
				() =>
					post(ping, { 'x-signature-ed25519': 'zz'.repeat(64), 'x-signature-timestamp': good().timestamp }),
			],
			[
				'a signature by another key',
				() => {
					const other = signed(ping, undefined, keyPair().privateKey);
					return post(ping, {
						'x-signature-ed25519': other.signature,
						'x-signature-timestamp': other.timestamp,
					});
				},
			],
			[
				'a tampered body',
				() => {
					const s = good();
					return post(JSON.stringify({ type: 2 }), {
						'x-signature-ed25519': s.signature,
						'x-signature-timestamp': s.timestamp,
					});
				},
			],
			[
				'a stale timestamp',
				() => {
					const s = signed(ping, String(Math.floor(Date.now() / 1000) - 400));
					return post(ping, { 'x-signature-ed25519': s.signature, 'x-signature-timestamp': s.timestamp });
				},
			],
			[
				'a timestamp signed for another time',
				() => {
					const s = good();
					return post(ping, {
						'x-signature-ed25519': s.signature,
						'x-signature-timestamp': String(Number(s.timestamp) - 1),
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
