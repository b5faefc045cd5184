import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createMofhClient, type MofhClient, type MofhClientOptions, MofhError } from '../src/clients/mofh.js';
import { actionResult, clean, readAnswer } from '../src/clients/mofh-answer.js';
import { type MofhDouble, startMofhDouble } from './doubles/mofh.js';
import { until } from './poll.js';

/** The MOFH client against the double: every answer form, refusal text, auth failure and timeout. */

async function rejectsWith(work: Promise<unknown>, kind: string, message: RegExp): Promise<MofhError> {
	let caught: unknown;
	await work.then(
		() => assert.fail('expected a MofhError'),
		(error) => {
			caught = error;
		},
	);
	assert.ok(caught instanceof MofhError, `expected MofhError, got ${String(caught)}`);
	assert.equal(caught.kind, kind, caught.message);
	assert.match(caught.message, message);
	return caught;
}

describe('MOFH client', () => {
	let mofh: MofhDouble;
	let client: MofhClient;
	const clients: MofhClient[] = [];
	const make = (options: Partial<MofhClientOptions> = {}) => {
		const made = createMofhClient({
			apiUrl: mofh.url,
			username: mofh.apiUser,
			password: mofh.apiKey,
			...options,
		});
		clients.push(made);
		return made;
	};

	before(async () => {
		mofh = await startMofhDouble();
		client = make();
	});
	after(async () => {
		await Promise.all(clients.map((c) => c.close()));
		await mofh.close();
	});
	beforeEach(() => {
		mofh.fault = null;
		mofh.allowedIp = '127.0.0.1';
		mofh.accounts.clear();
		mofh.addAccount({
			key: 'abcd1234',
			vpUser: 'hname_12345678',
			status: 'a',
			domains: ['shop.example.com', 'b.example.com'],
		});
		mofh.addAccount({
			key: 'adm00001',
			vpUser: 'hname_10000001',
			status: 'x',
			closedBy: 'admin',
			reason: 'ADMIN_CLOSE : PHISHING',
		});
	});

	it('getdomainuser: GET with api_user/api_key in the query, no Basic header, the four fields', async () => {
		const owner = await client.getDomainUser('Shop.Example.com');
		assert.deepEqual(owner, {
			status: 'ACTIVE',
			domain: 'shop.example.com',
			documentRoot: '/home/vol15_2/example.com/hname_12345678/htdocs',
			username: 'hname_12345678',
		});
		const sent = mofh.requests.at(-1);
		assert.equal(sent?.method, 'GET');
		assert.equal(sent?.query.api_user, mofh.apiUser);
		assert.equal(sent?.query.api_key, mofh.apiKey);
		assert.equal(sent?.basic, undefined);
		assert.equal(await client.getDomainUser('nobody.example.org'), null, '`null` means not found');
	});

	it('getuserdomains takes the vPanel username; `null` is an empty list; a key finds nothing', async () => {
		assert.deepEqual(await client.getUserDomains('hname_12345678'), [
			{ status: 'ACTIVE', domain: 'shop.example.com' },
			{ status: 'ACTIVE', domain: 'b.example.com' },
		]);
		assert.deepEqual(await client.getUserDomains('abcd1234'), []);
		await rejectsWith(client.getUserDomains('not a user!'), 'input', /vPanel username/);
	});

	it('suspendacct: POST with Basic auth and form fields (nothing in the URL); the <script> element is cleaned away', async () => {
		const result = await client.suspend({ key: 'abcd1234', reason: 'spam & phishing <b>', linked: true });
		assert.equal(result.outcome, 'done');
		assert.equal(result.message, 'Completed, this account will be fully suspended in 2 minutes.');
		const sent = mofh.requests.at(-1);
		assert.equal(sent?.method, 'POST');
		assert.equal(sent?.path, '/xml-api/suspendacct');
		assert.deepEqual(sent?.basic, { user: mofh.apiUser, password: mofh.apiKey });
		assert.deepEqual(sent?.query, {}, 'no parameter, and no credential, in the URL');
		assert.equal(sent?.params.user, 'abcd1234');
		assert.equal(sent?.params.linked, '1');
		assert.equal(mofh.accounts.get('abcd1234')?.status, 'x');
		assert.equal(mofh.accounts.get('abcd1234')?.reason, 'RES_CLOSE : spam & phishing <b>');
	});

	it('suspendacct refusals: not active (naming the vPanel user), unknown key, reason too short', async () => {
		await client.suspend({ key: 'abcd1234', reason: 'first time' });
		const again = await client.suspend({ key: 'abcd1234', reason: 'second time' });
		assert.equal(again.outcome, 'refused');
		assert.equal(again.refusal, 'not_active');
		assert.equal(again.vpUser, 'hname_12345678');
		assert.equal(again.status, 'x');
		assert.match(again.message, /^This account is not active so can not be suspended/);
		assert.match(again.message, /reason : RES_CLOSE : first time \)\.$/, 'trailing dots reduced to one');
		const unknown = await client.suspend({ key: 'zzzz9999', reason: 'whatever reason' });
		assert.equal(unknown.refusal, 'unknown_key');
		assert.match(unknown.message, /No account mathcing this username zzzz9999 could be found\.$/);
		assert.equal(unknown.vpUser, undefined);
		const short = await client.suspend({ key: 'abcd1234', reason: 'no' });
		assert.equal(short.outcome, 'refused');
		assert.equal(short.refusal, 'invalid');
		assert.equal(short.message, 'The suspension reason is to short, please give a reason for suspension.');
	});

	it('unsuspendacct: done, then NOT currently suspended (status r), admin suspended, unknown key', async () => {
		await client.suspend({ key: 'abcd1234', reason: 'abuse report' });
		const done = await client.unsuspend('abcd1234');
		assert.equal(done.outcome, 'done');
		assert.equal(done.message, 'abcd1234 account has been unsuspended');
		const again = await client.unsuspend('abcd1234');
		assert.equal(again.refusal, 'not_suspended');
		assert.equal(again.status, 'r');
		assert.equal(again.message, 'This account is NOT currently suspended (status : r ).');
		const admin = await client.unsuspend('adm00001');
		assert.equal(admin.refusal, 'admin_suspended');
		assert.equal(admin.message, 'This account appears to be admin suspended');
		assert.equal((await client.unsuspend('zzzz9999')).refusal, 'unknown_key');
	});

	it('refuses a malformed key before sending anything', async () => {
		const before = mofh.requests.length;
		await rejectsWith(client.unsuspend('abcd12345'), 'input', /1 to 8 letters and digits/);
		await rejectsWith(client.suspend({ key: 'ab/cd', reason: 'x' }), 'input', /1 to 8/);
		assert.equal(mofh.requests.length, before);
	});

	it('wrong credentials: both call kinds say so, naming the variables, never the password', async () => {
		const wrong = make({ password: 'not-the-password-xyz' });
		const a = await rejectsWith(
			wrong.suspend({ key: 'abcd1234', reason: 'abuse report' }),
			'auth',
			/API username you are using appears to be invalid/,
		);
		const b = await rejectsWith(
			wrong.getDomainUser('shop.example.com'),
			'auth',
			/API key you are using appears to be invalid/,
		);
		for (const error of [a, b]) {
			assert.match(error.message, /MOFH_API_USERNAME and MOFH_API_PASSWORD/);
			assert.ok(!error.message.includes('not-the-password-xyz'));
			assert.ok(!JSON.stringify(error).includes('not-the-password-xyz'));
		}
		assert.equal(mofh.accounts.get('abcd1234')?.status, 'a', 'nothing happened');
	});

	it('a caller IP MOFH does not allow: plain text for XML, cpanelresult for JSON, both explained', async () => {
		mofh.allowedIp = '185.27.134.81';
		await rejectsWith(
			client.unsuspend('abcd1234'),
			'auth',
			/does not match the allowed ip address.*API Allowed IP/,
		);
		await rejectsWith(
			client.getUserDomains('hname_12345678'),
			'auth',
			/does not match the allowed ip address.*API Allowed IP/,
		);
	});

	it('unconfigured: says which variables to set', async () => {
		const bare = make({ username: undefined, password: undefined });
		assert.equal(bare.configured, false);
		await rejectsWith(
			bare.getDomainUser('shop.example.com'),
			'config',
			/set MOFH_API_USERNAME and MOFH_API_PASSWORD/,
		);
		const half = make({ password: undefined });
		await rejectsWith(half.unsuspend('abcd1234'), 'config', /set MOFH_API_PASSWORD \(/);
	});

	it('times out a GET after its own limit and a POST after its own, saying a POST may have happened', async () => {
		mofh.fault = 'slow';
		mofh.slowMs = 3_000;
		const quick = make({ getTimeoutMs: 150, postTimeoutMs: 300 });
		const started = Date.now();
		await rejectsWith(
			quick.getDomainUser('shop.example.com'),
			'timeout',
			/did not answer getdomainuser within 150 ms$/,
		);
		await rejectsWith(
			quick.suspend({ key: 'abcd1234', reason: 'abuse report' }),
			'timeout',
			/within 300 ms: it may still have done it/,
		);
		assert.ok(Date.now() - started < 2_500, 'did not wait for the slow answers');
	});

	it('junk, empty and duplicated answers', async () => {
		mofh.fault = 'junk';
		await rejectsWith(client.getDomainUser('shop.example.com'), 'protocol', /does not understand/);
		const junk = await client.unsuspend('abcd1234');
		assert.deepEqual([junk.outcome, junk.message], ['refused', 'please try again later']);
		mofh.fault = 'empty';
		await rejectsWith(
			client.suspend({ key: 'abcd1234', reason: 'abuse report' }),
			'protocol',
			/empty answer/,
		);
		mofh.fault = 'duplicate';
		const twice = await client.suspend({ key: 'abcd1234', reason: 'abuse report' });
		assert.equal(twice.outcome, 'done', 'the first of two concatenated documents counts');
	});

	it('an API URL that is not MOFH (404) is a configuration problem', async () => {
		const elsewhere = make({ apiUrl: `${mofh.url}/not-here` });
		await rejectsWith(elsewhere.getDomainUser('shop.example.com'), 'protocol', /HTTP 404.*MOFH_API_URL/);
	});

	it('waits a bounded time for a connection, then sends nothing (busy); a caller may give up while it waits', async () => {
		mofh.fault = 'slow';
		mofh.slowMs = 2_000;
		const narrow = make({ maxConcurrent: 1, slotWaitMs: 200 });
		const before = mofh.requests.length;
		const first = narrow
			.suspend({ key: 'abcd1234', reason: 'phishing kit' })
			.catch((error: unknown) => error);
		await until(() => mofh.requests.length === before + 1, 'the first request');
		const started = performance.now();
		let sent = false;
		await rejectsWith(
			narrow.suspend(
				{ key: 'adm00001', reason: 'phishing kit' },
				{
					beforeSend: async () => {
						sent = true;
					},
				},
			),
			'busy',
			/stayed busy for 200 ms: suspendacct was not sent/,
		);
		assert.ok(performance.now() - started < 1_500, 'gave up after the wait, not after the first call');
		const stop = new AbortController();
		const cancelled = narrow.unsuspend('abcd1234', { signal: stop.signal });
		stop.abort();
		await rejectsWith(cancelled, 'cancelled', /nothing was sent to MOFH/);
		assert.equal(sent, false);
		assert.equal(mofh.requests.length, before + 1, 'only the first request reached MOFH');
		mofh.fault = null;
		await first;
		mofh.slowMs = 12_000;
	});

	it('keeps at most maxConcurrent requests in flight', async () => {
		mofh.fault = 'slow';
		mofh.slowMs = 60;
		const bounded = make({ maxConcurrent: 3 });
		mofh.maxInFlight = 0;
		await Promise.all(Array.from({ length: 9 }, () => bounded.getDomainUser('shop.example.com')));
		assert.equal(mofh.maxInFlight, 3);
	});
});

describe('MOFH answers (pure)', () => {
	it('cleans markup, entities, doubled spaces and trailing dot runs', () => {
		assert.equal(clean('<script>x()</script>Done  now .  .'), 'Done now.');
		assert.equal(clean('&lt;script&gt;bad()&lt;/script&gt;ok &amp; fine'), 'ok & fine');
		assert.equal(clean('reason : line one\nline two &#39;q&#39; ) ..'), "reason : line one line two 'q' ).");
	});

	it('reads XML, JSON arrays, null, 1/0, cpanelresult errors and plain text', () => {
		assert.deepEqual(readAnswer('<a><result><status>0</status><statusmsg>No .  .</statusmsg></result></a>'), {
			kind: 'status',
			status: 0,
			message: 'No.',
		});
		assert.deepEqual(readAnswer('null'), { kind: 'json', value: null });
		assert.deepEqual(readAnswer('[["ACTIVE","a.example.com"]]'), {
			kind: 'json',
			value: [['ACTIVE', 'a.example.com']],
		});
		assert.equal(
			readAnswer('{"cpanelresult":{"error":"The API key or API username entered is not valid"}}').kind,
			'auth',
		);
		assert.deepEqual(actionResult(readAnswer('The username is invalid (8 characters maximum). .')), {
			outcome: 'refused',
			message: 'The username is invalid (8 characters maximum).',
			refusal: 'invalid',
		});
		// Xera counts a statusmsg that parsed as mixed content as success: status 1 decides here.
		assert.equal(
			actionResult(
				readAnswer('<x><result><status>1</status><statusmsg><script>a</script></statusmsg></result></x>'),
			)?.outcome,
			'done',
		);
	});
});

describe('MOFH answers that quote the request (an echoing MOFH)', () => {
	const password = 'p@ss/w rd+&=%é<x>"\\1';
	let mofh: MofhDouble;
	let client: MofhClient;
	before(async () => {
		mofh = await startMofhDouble({ apiKey: password });
		mofh.fault = 'echo';
		mofh.addAccount({
			key: 'act00001',
			vpUser: 'hname_20000001',
			status: 'a',
			domains: ['echo.example.com'],
		});
		mofh.addAccount({ key: 'sus00001', vpUser: 'hname_20000002', status: 'x', domains: [] });
		client = createMofhClient({ apiUrl: mofh.url, username: mofh.apiUser, password });
	});
	after(async () => {
		await client.close();
		await mofh.close();
	});

	/** Every form the credentials took on the wire. */
	const forms = () => [
		password,
		encodeURIComponent(password),
		new URLSearchParams({ k: password }).toString().slice(2),
		Buffer.from(`${mofh.apiUser}:${password}`).toString('base64'),
		// Long enough pieces of the password to notice a half-cut one.
		'p@ss/w',
		'rd+&=',
	];

	it('never shows the password (as written, URL-encoded) or the Basic credential (base64), in results or errors', async () => {
		const said: string[] = [];
		const record = async (work: Promise<unknown>) =>
			work.then(
				(value) => said.push(JSON.stringify(value)),
				(error: Error) => said.push(error.message),
			);
		await record(client.suspend({ key: 'act00001', reason: 'phishing kit' }));
		await record(client.suspend({ key: 'sus00001', reason: 'phishing kit' }));
		await record(client.unsuspend('act00001'));
		await record(client.getDomainUser('nowhere.example.com'));
		await record(client.getUserDomains('hname_20000001'));
		assert.equal(said.length, 5);
		// The double did quote them: the answers name the request.
		assert.ok(
			said.filter((text) => text.includes('[redacted]')).length >= 4,
			`expected quoted credentials to be redacted: ${said.join('\n')}`,
		);
		for (const text of said)
			for (const form of forms()) assert.ok(!text.includes(form), `${form} shown in: ${text}`);
	});
});
