import { BlockList, isIP } from 'node:net';

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) is the IPv4 address 1.2.3.4. */
export function normaliseIp(ip: string): string {
	const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
	return mapped ? (mapped[1] as string) : ip;
}

/**
 * A provider's source-address allowlist (IPv4, IPv6, CIDR). `*` anywhere allows every address.
 * Returns a predicate over the client address Fastify resolved (which honours TRUST_PROXY).
 */
export function createAllowlist(entries: string[]): (ip: string) => boolean {
	if (entries.includes('*')) return () => true;
	const list = new BlockList();
	for (const entry of entries) {
		const [address = '', bits] = entry.split('/');
		const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
		if (bits === undefined) list.addAddress(normaliseIp(address), family);
		else list.addSubnet(address, Number(bits), family);
	}
	return (ip) => {
		const address = normaliseIp(ip);
		const family = isIP(address);
		return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
	};
}
