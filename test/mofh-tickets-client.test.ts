import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createMofhClient, type MofhClient, MofhError } from '../src/clients/mofh.js';
import { readAnswer, ticketAnswer } from '../src/clients/mofh-answer.js';
import { type MofhDouble, startMofhDouble } from './doubles/mofh.js';

/** supportnewticket / supportreplyticket against the MOFH double: both auth forms, the answers, refusals. */

async function refused(work: Promise<unknown>, kind: string, message: RegExp): Promise<MofhError> {
	const error = await work.then(
		() => assert.fail('expected a MofhError'),
		(caught: unknown) => caught,
	);
	assert.ok(error instanceof MofhError, `expected MofhError, got ${String(error)}`);
	assert.equal(error.kind, kind, error.message);
	assert.match(error.message, message);
	return error;
}

describe('MOFH ticket calls', () => {
	let mofh: MofhDouble;
	let client: MofhClient;
	before(async () => {
		mofh = await startMofhDouble();
		client = createMofhClient({ apiUrl: mofh.url, username: mofh.apiUser, password: mofh.apiKey });
	});
	after(async () => {
		await client.close();
		await mofh.close();
	});
	beforeEach(() => {
		mofh.accounts.clear();
		mofh.tickets.clear();
		mofh.requests.length = 0;
		mofh.addAccount({
			key: 'abcd1234',
			vpUser: 'hname_12345678',
			status: 'a',
			domains: ['shop.example.com'],
		});
	});

	it('opens a ticket with Basic auth, the credentials in the form and the query, and keeps the id a string', async () => {
		mofh.nextTicketId = 42;
		const id = await client.openTicket({
			username: 'hname_12345678',
			subject: 'Site down',
			message: 'Hello,\nthe site answers 500.',
			domain: 'Shop.Example.com',
			ip: '203.0.113.7',
		});
		assert.equal(id, '000042');
		const [sent] = mofh.requests;
		assert.equal(sent?.method, 'POST');
		assert.equal(sent?.path, '/xml-api/supportnewticket');
		assert.deepEqual(sent?.basic, { user: mofh.apiUser, password: mofh.apiKey });
		assert.deepEqual(sent?.query, { api_user: mofh.apiUser, api_key: mofh.apiKey });
		assert.equal(sent?.contentType, 'application/x-www-form-urlencoded');
		const { api_user, api_key, ...params } = sent?.params ?? {};
		assert.deepEqual([api_user, api_key], [mofh.apiUser, mofh.apiKey]);
		assert.deepEqual(params, {
			subject: 'Site down',
			comments: 'Hello,\nthe site answers 500.',
			domain_name: 'shop.example.com',
			clientusername: 'hname_12345678',
			ipaddress: '203.0.113.7',
		});
		assert.equal(mofh.tickets.get('000042')?.comments[0], 'Hello,\nthe site answers 500.');
		mofh.ticketAnswerStyle = 'tight';
		assert.equal(
			await client.openTicket({ username: 'hname_12345678', subject: 's', message: 'm', ip: '2001:db8::1' }),
			'000043',
		);
		mofh.ticketAnswerStyle = 'spaced';
	});

	it('replies to a ticket; MOFH answers exactly SUCCESS', async () => {
		const id = await client.openTicket({
			username: 'hname_12345678',
			subject: 's',
			message: 'm',
			ip: '203.0.113.7',
		});
		await client.replyTicket({
			ticketId: id,
			username: 'hname_12345678',
			message: 'Any news?',
			domain: 'shop.example.com',
			ip: '203.0.113.7',
		});
		const sent = mofh.requests.at(-1);
		assert.equal(sent?.path, '/xml-api/supportreplyticket');
		assert.equal(sent?.params.ticket_id, id);
		assert.equal(sent?.params.comments, 'Any news?');
		assert.deepEqual(sent?.basic, { user: mofh.apiUser, password: mofh.apiKey });
		assert.equal(sent?.query.api_key, mofh.apiKey);
		assert.deepEqual(mofh.tickets.get(id)?.comments, ['m', 'Any news?']);
	});

	it("shows MOFH's refusals as it said them, cleaned, never with the API password", async () => {
		const error = await refused(
			client.openTicket({ username: 'other_99999999', subject: 's', message: 'm', ip: '203.0.113.7' }),
			'refused',
			/^MOFH refused supportnewticket: the username posted does not appear to be owned by this reseller api key pair$/,
		);
		assert.ok(!error.message.includes(mofh.apiKey));
		const wrong = createMofhClient({
			apiUrl: mofh.url,
			username: mofh.apiUser,
			password: 'not-the-password',
		});
		try {
			const auth = await refused(
				wrong.replyTicket({
					ticketId: '000001',
					username: 'hname_12345678',
					message: 'm',
					ip: '203.0.113.7',
				}),
				'auth',
				/MOFH_API_PASSWORD/,
			);
			assert.ok(!auth.message.includes('not-the-password'));
		} finally {
			await wrong.close();
		}
		await refused(
			client.replyTicket({ ticketId: '999999', username: 'hname_12345678', message: 'm', ip: '203.0.113.7' }),
			'refused',
			/ticket not found/,
		);
	});

	it('checks what it sends before asking MOFH: the address, the username, the ticket id, a message', async () => {
		await refused(
			client.openTicket({ username: 'hname_12345678', subject: 's', message: 'm', ip: '' }),
			'input',
			/ipaddress/,
		);
		await refused(
			client.openTicket({ username: 'not a user', subject: 's', message: 'm', ip: '203.0.113.7' }),
			'input',
			/vPanel username/,
		);
		await refused(
			client.replyTicket({ ticketId: '12ab', username: 'hname_12345678', message: 'm', ip: '203.0.113.7' }),
			'input',
			/ticket id/,
		);
		await refused(
			client.replyTicket({ ticketId: '1', username: 'hname_12345678', message: '  ', ip: '203.0.113.7' }),
			'input',
			/message/,
		);
		assert.equal(mofh.requests.length, 0, 'nothing reached MOFH');
	});

	it('reads the answer forms of both sources', () => {
		assert.deepEqual(ticketAnswer(readAnswer('\n\nSUCCESS : 000000\n\n')), { ok: true, ticketId: '000000' });
		assert.deepEqual(ticketAnswer(readAnswer('SUCCESS:123456')), { ok: true, ticketId: '123456' });
		assert.deepEqual(ticketAnswer(readAnswer('\n SUCCESS \n')), { ok: true });
		assert.deepEqual(ticketAnswer(readAnswer('\n\nipaddress post field was empty\n\n')), {
			ok: false,
			message: 'ipaddress post field was empty',
		});
		assert.equal(ticketAnswer(readAnswer('')), undefined);
	});
});
