/**
 * Pure projections (previous state, event) ─▶ next state: account lifecycle, certificate requests and
 * tickets, including out-of-order and replayed callbacks.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Event, EventOf, SuspensionReason } from '../src/events/event.js';
import {
	type AccountState,
	type CertState,
	HISTORY_LIMIT,
	projectAccount,
	projectCert,
	projectTicket,
	type TicketState,
} from '../src/state/projections.js';

const T0 = Date.UTC(2024, 0, 1);
const MINUTE = 60_000;
const USER = 'hname_12345678';

/** Ids sort by receive time, like real event ids; `n` orders events received at the same ms. */
function id(at: number, n = 0): string {
	return `${at.toString(36).padStart(9, '0')}${n.toString(36).padStart(3, '0')}testtest`;
}

function account<K extends Event['kind']>(
	kind: K,
	at: number,
	extra: Record<string, unknown> = {},
): EventOf<K> {
	return {
		id: id(at),
		receivedAt: at,
		provider: 'mofh',
		kind,
		username: USER,
		...extra,
	} as unknown as EventOf<K>;
}

const phishing: SuspensionReason = { raw: 'PHISHING', code: 'PHISHING', category: 'permanent' };
const dailyHit: SuspensionReason = {
	raw: 'ADMIN_CLOSE : DAILY_HIT',
	code: 'DAILY_HIT',
	category: 'temporary',
	closedBy: 'admin',
};

function apply(events: Event[], start?: AccountState): AccountState {
	let state = start;
	for (const event of events) state = projectAccount(state, event);
	assert.ok(state);
	return state;
}

describe('projectAccount: lifecycle', () => {
	test('activated → sql → domains → suspended → reactivated → suspended → deleted', () => {
		const at = (minutes: number) => T0 + minutes * MINUTE;

		let state = projectAccount(undefined, account('account.activated', at(0)));
		assert.equal(state.username, USER);
		assert.equal(state.status, 'active');
		assert.equal(state.statusAt, at(0));
		assert.equal(state.firstSeen, at(0));
		assert.equal(state.updatedAt, at(0));

		state = projectAccount(state, account('account.sql_cluster', at(1), { cluster: 'sql102' }));
		assert.equal(state.sqlCluster, 'sql102');
		assert.equal(state.status, 'active');

		const domain = (kind: 'domain.added' | 'domain.removed', minutes: number, name: string) =>
			account(kind, at(minutes), { code: 'CLIENTDOMADD', domainKind: 'addon', domain: name });
		state = projectAccount(state, domain('domain.added', 2, 'zeta.example.com'));
		state = projectAccount(state, domain('domain.added', 3, 'alpha.example.com'));
		assert.deepEqual(state.domains, ['alpha.example.com', 'zeta.example.com']);
		state = projectAccount(state, domain('domain.removed', 4, 'zeta.example.com'));
		assert.deepEqual(state.domains, ['alpha.example.com']);

		state = projectAccount(state, account('account.suspended', at(5), { reason: phishing }));
		assert.equal(state.status, 'suspended');
		assert.deepEqual(state.suspension, phishing);
		assert.equal(state.statusAt, at(5));

		state = projectAccount(state, account('account.reactivated', at(6)));
		assert.equal(state.status, 'active');
		assert.equal(state.suspension, undefined);
		assert.ok(!('suspension' in state), 'the suspension is cleared, not just emptied');

		state = projectAccount(state, account('account.suspended', at(7), { reason: dailyHit }));
		assert.equal(state.status, 'suspended');
		assert.deepEqual(state.suspension, dailyHit);

		state = projectAccount(state, account('account.deleted', at(8)));
		assert.equal(state.status, 'deleted');
		assert.equal(state.statusAt, at(8));
		assert.equal(state.suspension, undefined);

		// Facts that no status change touches survive to the end.
		assert.equal(state.sqlCluster, 'sql102');
		assert.deepEqual(state.domains, ['alpha.example.com']);
		assert.equal(state.firstSeen, at(0));
		assert.equal(state.updatedAt, at(8));
		assert.deepEqual(
			state.history.map((entry) => entry.kind),
			[
				'account.activated',
				'account.sql_cluster',
				'domain.added',
				'domain.added',
				'domain.removed',
				'account.suspended',
				'account.reactivated',
				'account.suspended',
				'account.deleted',
			],
		);
		assert.deepEqual(
			state.history.map((entry) => entry.at),
			Array.from({ length: 9 }, (_, i) => at(i)),
		);
		assert.equal(state.history[1]?.summary, 'SQL cluster assigned: sql102');
		assert.equal(state.history[5]?.summary, 'Suspended: PHISHING (permanent)');
		assert.equal(state.history[7]?.summary, 'Suspended: DAILY_HIT (temporary)');
	});

	test('projection does not modify the previous state', () => {
		const before = projectAccount(undefined, account('account.activated', T0));
		const snapshot = structuredClone(before);
		const after = projectAccount(
			before,
			account('domain.added', T0 + 1, {
				code: 'CLIENTPARKADD',
				domainKind: 'parked',
				domain: 'x.example.com',
			}),
		);
		projectAccount(after, account('account.suspended', T0 + 2, { reason: phishing }));
		assert.deepEqual(before, snapshot);
		assert.deepEqual(after.domains, ['x.example.com']);
		assert.equal(after.status, 'active');
	});

	test('the same domain added twice is listed once', () => {
		const added = (at: number) =>
			account('domain.added', at, { code: 'CLIENTSUBADD', domainKind: 'subdomain', domain: 'a.example.com' });
		const state = apply([added(T0), added(T0 + 1)]);
		assert.deepEqual(state.domains, ['a.example.com']);
		assert.equal(state.history.length, 2);
	});

	test('a domain event without a domain leaves the domain list alone', () => {
		const state = apply([
			account('domain.added', T0, { code: 'CLIENTDOMADD', domainKind: 'addon', domain: 'keep.example.com' }),
			account('domain.removed', T0 + 1, { code: 'CLIENTDOMREM', domainKind: 'addon' }),
		]);
		assert.deepEqual(state.domains, ['keep.example.com']);
		assert.equal(state.status, 'unknown', 'a domain event says nothing about the account status');
	});

	test('an event without a username is refused', () => {
		const ticket = {
			id: id(T0),
			receivedAt: T0,
			provider: 'mofh',
			kind: 'ticket.replied',
			ticketId: '1',
			text: '',
		} satisfies Event;
		assert.throws(() => projectAccount(undefined, ticket), /concerns no account/);
	});
});

describe('projectAccount: staff actions', () => {
	const action = (at: number, extra: Record<string, unknown> = {}) =>
		account('account.action', at, {
			action: 'suspend',
			key: 'abcd1234',
			reason: 'phishing kit',
			linked: false,
			by: { id: '123456789012345678', name: 'oncall' },
			outcome: 'done',
			answer: 'Completed, this account will be fully suspended in 2 minutes.',
			actionId: '1234567890123456789',
			...extra,
		});

	test('records the action in the history and remembers the key, leaving the status to MOFH callbacks', () => {
		const active = projectAccount(undefined, account('account.activated', T0));
		const acted = projectAccount(active, action(T0 + MINUTE));
		assert.equal(acted.status, 'active', 'MOFH confirms a suspension by its own callback');
		assert.equal(acted.key, 'abcd1234');
		assert.equal(acted.history.at(-1)?.kind, 'account.action');
		assert.equal(
			acted.history.at(-1)?.summary,
			'Suspend by oncall (key abcd1234): done — Completed, this account will be fully suspended in 2 minutes.',
		);
		assert.equal(
			projectAccount(acted, action(T0 + MINUTE)),
			acted,
			'replaying the same action changes nothing',
		);
		const suspended = projectAccount(
			acted,
			account('account.suspended', T0 + 2 * MINUTE, { reason: phishing }),
		);
		assert.equal(suspended.status, 'suspended');
		assert.equal(suspended.key, 'abcd1234', 'callbacks keep the key');
	});
});

describe('projectAccount: order and replay', () => {
	test('the SQL cluster arriving before ACTIVATED keeps the cluster and makes the account active', () => {
		const sql = account('account.sql_cluster', T0, { cluster: 'sql305' });
		let state = projectAccount(undefined, sql);
		assert.equal(state.status, 'active');
		assert.equal(state.sqlCluster, 'sql305');
		assert.equal(state.statusAt, undefined, 'the status is only inferred');

		state = projectAccount(state, account('account.activated', T0 + 5000));
		assert.equal(state.status, 'active');
		assert.equal(state.statusAt, T0 + 5000);
		assert.equal(state.sqlCluster, 'sql305');
	});

	test('a SQL cluster does not revive a suspended or deleted account', () => {
		for (const kind of ['account.suspended', 'account.deleted'] as const) {
			const state = apply([
				account(kind, T0, { reason: phishing }),
				account('account.sql_cluster', T0 + 1, { cluster: 'sql1' }),
			]);
			assert.equal(state.status, kind === 'account.deleted' ? 'deleted' : 'suspended');
			assert.equal(state.sqlCluster, 'sql1');
		}
	});

	test('an older SUSPENDED applied after a newer REACTIVATE does not change the status', () => {
		const suspended = account('account.suspended', T0 + 1 * MINUTE, { reason: phishing });
		const reactivated = account('account.reactivated', T0 + 2 * MINUTE);
		const state = apply([account('account.activated', T0), reactivated, suspended]);

		assert.equal(state.status, 'active');
		assert.equal(state.statusAt, T0 + 2 * MINUTE);
		assert.equal(state.suspension, undefined);
		assert.equal(state.updatedAt, T0 + 2 * MINUTE);
		assert.deepEqual(
			state.history.map((entry) => [entry.kind, entry.at]),
			[
				['account.activated', T0],
				['account.suspended', T0 + MINUTE],
				['account.reactivated', T0 + 2 * MINUTE],
			],
		);
	});

	test('an event received earlier than everything moves firstSeen back', () => {
		const state = apply([account('account.reactivated', T0 + MINUTE), account('account.activated', T0)]);
		assert.equal(state.firstSeen, T0);
		assert.equal(state.history[0]?.kind, 'account.activated');
		assert.equal(state.status, 'active');
		assert.equal(state.statusAt, T0 + MINUTE);
	});

	test('events at the same millisecond are ordered by id', () => {
		const a = { ...account('account.activated', T0), id: id(T0, 1) };
		const b = { ...account('account.sql_cluster', T0, { cluster: 'sql1' }), id: id(T0, 2) };
		const state = apply([b, a]);
		assert.deepEqual(
			state.history.map((entry) => entry.id),
			[a.id, b.id],
		);
	});

	test('the same event twice returns the same object', () => {
		const activated = account('account.activated', T0);
		const suspended = account('account.suspended', T0 + MINUTE, { reason: phishing });
		const state = apply([activated, suspended]);
		assert.equal(projectAccount(state, suspended), state);
		assert.equal(projectAccount(state, activated), state);
		assert.equal(state.history.length, 2);
	});

	test(`history keeps the newest ${HISTORY_LIMIT} entries`, () => {
		const total = HISTORY_LIMIT + 15;
		const events = Array.from({ length: total }, (_, i) =>
			account('account.sql_cluster', T0 + i * MINUTE, { cluster: `sql${i}` }),
		);
		const state = apply(events);
		assert.equal(state.history.length, HISTORY_LIMIT);
		assert.equal(state.history[0]?.at, T0 + 15 * MINUTE);
		assert.equal(state.history.at(-1)?.at, T0 + (total - 1) * MINUTE);
		assert.equal(state.sqlCluster, `sql${total - 1}`);
		assert.equal(state.firstSeen, T0, 'firstSeen outlives the history');
	});

	test('a late event older than a full history does not push out a newer one', () => {
		const events = Array.from({ length: HISTORY_LIMIT }, (_, i) =>
			account('account.sql_cluster', T0 + (i + 1) * MINUTE, { cluster: `sql${i}` }),
		);
		const full = apply(events);
		const late = projectAccount(full, account('account.activated', T0));
		assert.equal(late.history.length, HISTORY_LIMIT);
		assert.deepEqual(late.history, full.history);
		assert.equal(late.firstSeen, T0);
	});
});

describe('projectCert', () => {
	function cert<K extends 'cert.issued' | 'cert.updated' | 'cert.deleted'>(
		kind: K,
		at: number,
		extra: { state?: string; domain?: string } = {},
	): EventOf<K> {
		return {
			id: id(at),
			receivedAt: at,
			provider: 'xolphin',
			kind,
			requestId: '998877',
			...extra,
		} as EventOf<K>;
	}
	function run(events: EventOf<'cert.issued' | 'cert.updated' | 'cert.deleted'>[]): CertState {
		let state: CertState | undefined;
		for (const event of events) state = projectCert(state, event);
		assert.ok(state);
		return state;
	}

	test('DCV steps collect the validated domains, sorted, without duplicates', () => {
		const state = run([
			cert('cert.updated', T0, { state: 'DCV', domain: 'www.example.com' }),
			cert('cert.updated', T0 + 1, { state: 'DCV', domain: 'example.com' }),
			cert('cert.updated', T0 + 2, { state: 'DCV', domain: 'www.example.com' }),
			cert('cert.updated', T0 + 3, { state: 'Message' }),
			cert('cert.updated', T0 + 4, { state: 'Whois', domain: 'other.example.com' }),
			cert('cert.updated', T0 + 5, { state: 'DCV' }),
		]);
		assert.deepEqual(state.dcvDomains, ['example.com', 'www.example.com']);
		assert.equal(state.status, 'in_progress');
		assert.equal(state.statusAt, undefined);
		assert.equal(state.steps.length, 6);
		assert.deepEqual(state.steps[0], {
			id: id(T0),
			at: T0,
			kind: 'cert.updated',
			state: 'DCV',
			domain: 'www.example.com',
		});
		assert.deepEqual(state.steps[3], { id: id(T0 + 3), at: T0 + 3, kind: 'cert.updated', state: 'Message' });
	});

	test('issued, then deleted', () => {
		let state = run([
			cert('cert.updated', T0, { state: 'DCV', domain: 'example.com' }),
			cert('cert.issued', T0 + MINUTE),
		]);
		assert.equal(state.requestId, '998877');
		assert.equal(state.status, 'issued');
		assert.equal(state.statusAt, T0 + MINUTE);
		assert.deepEqual(state.dcvDomains, ['example.com']);

		state = projectCert(state, cert('cert.deleted', T0 + 2 * MINUTE));
		assert.equal(state.status, 'deleted');
		assert.equal(state.statusAt, T0 + 2 * MINUTE);
		assert.equal(state.updatedAt, T0 + 2 * MINUTE);
		assert.deepEqual(
			state.steps.map((step) => step.kind),
			['cert.updated', 'cert.issued', 'cert.deleted'],
		);
	});

	test('an older Issued after a newer Deleted keeps the request deleted', () => {
		const state = run([cert('cert.deleted', T0 + MINUTE), cert('cert.issued', T0)]);
		assert.equal(state.status, 'deleted');
		assert.deepEqual(
			state.steps.map((step) => step.kind),
			['cert.issued', 'cert.deleted'],
		);
		assert.equal(state.firstSeen, T0);
	});

	test('an Updated never changes the status', () => {
		const state = run([
			cert('cert.issued', T0),
			cert('cert.updated', T0 + MINUTE, { state: 'ReadyForReissue' }),
		]);
		assert.equal(state.status, 'issued');
		assert.equal(state.statusAt, T0);
	});

	test('the same step twice returns the same object', () => {
		const step = cert('cert.updated', T0, { state: 'DCV', domain: 'example.com' });
		const state = projectCert(undefined, step);
		assert.equal(projectCert(state, step), state);
	});
});

describe('projectTicket', () => {
	function ticket(kind: 'ticket.replied' | 'ticket.closed', at: number, text: string): EventOf<typeof kind> {
		return { id: id(at), receivedAt: at, provider: 'mofh', kind, ticketId: '123456', text } as EventOf<
			typeof kind
		>;
	}
	function run(events: EventOf<'ticket.replied' | 'ticket.closed'>[]): TicketState {
		let state: TicketState | undefined;
		for (const event of events) state = projectTicket(state, event);
		assert.ok(state);
		return state;
	}

	test('replies keep the ticket open and are collected in order', () => {
		const state = run([
			ticket('ticket.replied', T0, 'first'),
			ticket('ticket.replied', T0 + MINUTE, 'second'),
		]);
		assert.equal(state.ticketId, '123456');
		assert.equal(state.status, 'open');
		assert.deepEqual(
			state.replies.map((reply) => [reply.kind, reply.text]),
			[
				['ticket.replied', 'first'],
				['ticket.replied', 'second'],
			],
		);
		assert.equal(state.firstSeen, T0);
		assert.equal(state.updatedAt, T0 + MINUTE);
	});

	test('a close callback closes the ticket', () => {
		const state = run([
			ticket('ticket.replied', T0, 'fixed'),
			ticket('ticket.closed', T0 + MINUTE, 'Closed at …'),
		]);
		assert.equal(state.status, 'closed');
		assert.equal(state.statusAt, T0 + MINUTE);
		assert.equal(state.replies.at(-1)?.kind, 'ticket.closed');
	});

	test('a later reply reopens a closed ticket', () => {
		const state = run([
			ticket('ticket.replied', T0, 'fixed'),
			ticket('ticket.closed', T0 + MINUTE, 'closed'),
			ticket('ticket.replied', T0 + 2 * MINUTE, 'one more thing'),
		]);
		assert.equal(state.status, 'open');
		assert.equal(state.statusAt, T0 + 2 * MINUTE);
		assert.equal(state.replies.length, 3);
	});

	test('an older reply arriving after the close does not reopen it', () => {
		const state = run([
			ticket('ticket.closed', T0 + MINUTE, 'closed'),
			ticket('ticket.replied', T0, 'earlier'),
		]);
		assert.equal(state.status, 'closed');
		assert.deepEqual(
			state.replies.map((reply) => reply.text),
			['earlier', 'closed'],
		);
	});

	test('the same callback twice returns the same object', () => {
		const closed = ticket('ticket.closed', T0, 'closed');
		const state = projectTicket(undefined, closed);
		assert.equal(projectTicket(state, closed), state);
		assert.equal(state.replies.length, 1);
	});

	test(`replies are bounded at ${HISTORY_LIMIT}, keeping the newest`, () => {
		const state = run(
			Array.from({ length: HISTORY_LIMIT + 5 }, (_, i) => ticket('ticket.replied', T0 + i * MINUTE, `r${i}`)),
		);
		assert.equal(state.replies.length, HISTORY_LIMIT);
		assert.equal(state.replies[0]?.text, 'r5');
		assert.equal(state.replies.at(-1)?.text, `r${HISTORY_LIMIT + 4}`);
	});
});
