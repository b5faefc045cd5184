/**
 * Posts a realistic sequence of MOFH, Xolphin and Wooxy callbacks to a running hookcord, so a newcomer
 * sees every kind of alert. Usage: `npm run demo [-- --url http://127.0.0.1:3000 --secret <HOOK_SECRET>]`.
 * Without --secret it reads the generated secret from the same store as `npm start` (STORE_URL).
 */
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/store/store.js';

type Step = {
	provider: 'mofh' | 'xolphin' | 'wooxy';
	fields: Record<string, string | number | object>;
	label: string;
};

const mofh = (label: string, fields: Record<string, string>): Step => ({ provider: 'mofh', fields, label });
const xolphin = (label: string, fields: Record<string, string>): Step => ({
	provider: 'xolphin',
	fields,
	label,
});
const wooxy = (label: string, event: string, email: string): Step => ({
	provider: 'wooxy',
	label,
	fields: {
		datetime: Math.floor(Date.now() / 1000),
		event,
		email,
		id: '5537ab2a08d241dc69326b19',
		userId: 'client-42',
		headers: { 'X-Campaign': 'welcome' },
	},
});

const STORY: Step[] = [
	mofh('account activated', {
		username: 'demo_41234567',
		status: 'ACTIVATED',
		comments: 'GENERIC ACTIVATION',
	}),
	mofh('SQL cluster assigned', { username: 'demo_41234567', status: 'sql102', comments: 'SQL_SERVER' }),
	mofh('addon domain added', {
		username: 'demo_41234567',
		status: 'CLIENTDOMADD',
		comments: 'shop.example.com',
	}),
	mofh('subdomain added', {
		username: 'demo_41234567',
		status: 'CLIENTSUBADD',
		comments: 'blog.shop.example.com',
	}),
	mofh('parked domain added', {
		username: 'demo_41234567',
		status: 'CLIENTPARKADD',
		comments: 'example.net',
	}),
	mofh('subdomain removed', {
		username: 'demo_41234567',
		status: 'CLIENTSUBDEL',
		comments: 'blog.shop.example.com',
	}),
	mofh('temporary suspension (daily hits)', {
		username: 'demo_41234567',
		status: 'SUSPENDED',
		comments: 'ADMIN_CLOSE : DAILY_HIT',
	}),
	mofh('reactivated', { username: 'demo_41234567', status: 'REACTIVATE', comments: 'GENERIC REACT' }),
	mofh('inactivity suspension', { username: 'demo_49876543', status: 'SUSPENDED', comments: 'AUTO_IDLE' }),
	mofh('permanent suspension', {
		username: 'demo_45555555',
		status: 'SUSPENDED',
		comments: 'PHISHING : reported by abuse desk',
	}),
	mofh('closed by the reseller', {
		username: 'demo_46666666',
		status: 'SUSPENDED',
		comments: 'RES_CLOSE : requested by client',
	}),
	mofh('account deleted', { username: 'demo_49876543', status: 'DELETE', comments: 'demo_49876543' }),
	mofh('support ticket reply', {
		callback_type: 'ticket',
		ticket_id: '104527',
		support_reply:
			'Hello,<br><br>The DNS zone for <b>shop.example.com</b> has been rebuilt.<br>Please allow 24 hours to propagate.',
		ticket_status: 'S',
	}),
	mofh('support ticket closed', {
		callback_type: 'ticket',
		ticket_id: '104527',
		support_reply:
			'Ticket status changed to Closed at 22/11/2026, 10:15<br><br>Please do reply to this ticket if you have any further queries and we will happily assist.',
		ticket_status: 'C',
	}),
	mofh('an undocumented status (kept, shown as unrecognized)', {
		username: 'demo_41234567',
		status: 'MIGRATED',
		comments: 'vol15_2',
	}),
	xolphin('validation call delayed', { RequestId: '960123', Status: 'Updated', State: 'PhonecallDelayed' }),
	xolphin('domain validated', {
		RequestId: '960123',
		Status: 'Updated',
		State: 'DCV',
		Domain: 'shop.example.com',
	}),
	xolphin('domain validated', {
		RequestId: '960123',
		Status: 'Updated',
		State: 'DCV',
		Domain: 'www.shop.example.com',
	}),
	xolphin('message from Xolphin', { RequestId: '960123', Status: 'Updated', State: 'Message' }),
	xolphin('certificate issued', { RequestId: '960123', Status: 'Issued' }),
	xolphin('CSR failed validation', { RequestId: '960200', Status: 'Updated', State: 'CSR' }),
	xolphin('request deleted', { RequestId: '960200', Status: 'Deleted' }),
	wooxy('delivered', 'delivered', 'client@example.com'),
	wooxy('opened', 'read', 'client@example.com'),
	wooxy('link clicked', 'click', 'client@example.com'),
	wooxy('soft bounce', 'soft', 'full-mailbox@example.org'),
	wooxy('hard bounce', 'hard', 'nobody@example.invalid'),
	wooxy('spam complaint', 'complaint', 'angry@example.org'),
];

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			url: { type: 'string' },
			secret: { type: 'string' },
			delay: { type: 'string', default: '250' },
		},
	});
	const config = loadConfig();
	const base = (values.url ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
	const secret = values.secret ?? config.hookSecret ?? (await storedSecret(config.storeUrl));
	let refused = 0;
	for (const step of STORY) {
		const status = await post(base, secret, step);
		refused += status === 403 ? 1 : 0;
		process.stdout.write(`${String(status).padEnd(4)} ${step.provider.padEnd(8)} ${step.label}\n`);
		await new Promise((resolve) => setTimeout(resolve, Number(values.delay)));
	}
	if (refused > 0) {
		process.stdout.write(
			'\n403 means the address allowlist refused the demo: Xolphin and Wooxy callbacks are only taken from their\n' +
				'documented addresses. To try the demo locally, start hookcord with\n' +
				'  XOLPHIN_ALLOWED_IPS=127.0.0.1,::1 WOOXY_ALLOWED_IPS=127.0.0.1,::1 npm start\n',
		);
	}
}

async function storedSecret(storeUrl: string): Promise<string> {
	const store = await openStore(storeUrl);
	const secret = (await store.meta.get('hookSecret')) as string | undefined;
	await store.close();
	if (!secret) throw new Error('No hook secret found: start hookcord once first, or pass --secret.');
	return secret;
}

async function post(base: string, secret: string, step: Step): Promise<number> {
	const url = `${base}/hooks/${step.provider}/${secret}`;
	const res =
		step.provider === 'wooxy'
			? await request(url, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify(step.fields),
				})
			: step.provider === 'xolphin'
				? await request(`${url}?${new URLSearchParams(step.fields as Record<string, string>)}`)
				: await request(url, {
						method: 'POST',
						headers: { 'content-type': 'application/x-www-form-urlencoded' },
						body: new URLSearchParams(step.fields as Record<string, string>).toString(),
					});
	await res.body.dump();
	return res.statusCode;
}

main().catch((error) => {
	process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(1);
});
