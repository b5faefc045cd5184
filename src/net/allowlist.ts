import { BlockList, isIP } from 'node:net';

/**
 * An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, `::ffff:102:304`, `0:0:0:0:0:ffff:…`: an IPv4 client on
 * a dual-stack socket, or an operator's way of writing one) is the IPv4 address it carries.
 */
export function normaliseIp(ip: string): string {
	if (isIP(ip) !== 6) return ip;
	let canonical: string;
	try {
		// WHATWG URL serialises every IPv6 notation the same way: mapped addresses become `::ffff:hhhh:hhhh`.
		canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
	} catch {
		return ip; // a zone id (`fe80::1%eth0`) or similar: not a mapped address
	}
	const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
	if (!mapped) return ip;
	const high = Number.parseInt(mapped[1] as string, 16);
	const low = Number.parseInt(mapped[2] as string, 16);
	return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/**
 * What a per-address limit counts: an IPv4 address, or an IPv6 client's /64, since one host or customer
 * usually holds a whole /64 and could otherwise take a fresh address for every request.
 */
export function clientKey(ip: string): string {
	const address = normaliseIp(ip);
	if (isIP(address) !== 6) return address;
	const [head = '', tail] = (address.split('%')[0] ?? '').toLowerCase().split('::');
	const left = head ? head.split(':') : [];
	const right = tail ? tail.split(':') : [];
	const width = right.reduce((n, group) => n + (group.includes('.') ? 2 : 1), 0);
	const zeros = tail === undefined ? [] : Array<string>(Math.max(0, 8 - left.length - width)).fill('0');
	const groups = [...left, ...zeros, ...right].slice(0, 4).map((group) => group.replace(/^0+(?=.)/, ''));
	return `${groups.join(':')}::/64`;
}

export interface AddressRange {
	address: string;
	prefix: number;
	family: 'ipv4' | 'ipv6';
}

/**
 * One entry of an address list (allowlists, TRUST_PROXY): an IPv4 or IPv6 address, or a CIDR range.
 * IPv4-mapped entries become the IPv4 address or range they denote, so they match IPv4 clients.
 * Config validation and the lists themselves use this one parser: an entry that passes validation is
 * one the list can hold. Undefined when the entry is not an address or range.
 */
export function parseRange(entry: string): AddressRange | undefined {
	const [text = '', bits, ...rest] = entry.trim().split('/');
	const version = isIP(text);
	if (!version || rest.length > 0) return undefined;
	const max = version === 4 ? 32 : 128;
	if (bits !== undefined && !/^\d{1,3}$/.test(bits)) return undefined;
	const prefix = bits === undefined ? max : Number(bits);
	if (prefix > max) return undefined;
	const address = normaliseIp(text);
	if (address !== text && prefix >= 96) return { address, prefix: prefix - 96, family: 'ipv4' };
	const range: AddressRange = { address: text, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
	try {
		new BlockList().addSubnet(range.address, range.prefix, range.family);
	} catch {
		return undefined; // e.g. a zone id, which BlockList does not take
	}
	return range;
}

/**
 * A predicate over client addresses: true when `ip` lies in one of `entries` (addresses or CIDR ranges,
 * IPv4 or IPv6; `*` anywhere allows every address). Throws on an entry `parseRange` refuses.
 */
export function createAllowlist(entries: string[]): (ip: string) => boolean {
	if (entries.includes('*')) return () => true;
	const list = new BlockList();
	for (const entry of entries) {
		const range = parseRange(entry);
		if (!range) throw new TypeError(`not an IP address or CIDR range: ${entry}`);
		list.addSubnet(range.address, range.prefix, range.family);
	}
	return (ip) => {
		const address = normaliseIp(ip);
		const family = isIP(address);
		return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
	};
}

/** An address as a number (IPv4 in 32 bits, IPv6 in 128), for range arithmetic. */
function addressValue(address: string, family: 'ipv4' | 'ipv6'): bigint {
	if (family === 'ipv4')
		return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
	// WHATWG URL writes every IPv6 notation (an embedded IPv4 tail too) as hex groups with at most one `::`.
	const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
	const [head = '', tail] = canonical.split('::');
	const left = head ? head.split(':') : [];
	const right = tail ? tail.split(':') : [];
	const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
	return groups.reduce((value, group) => (value << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

/**
 * True when `entries` together hold every IPv4 address or every IPv6 address (`0.0.0.0/1,128.0.0.0/1`
 * trusts the whole Internet as surely as `0.0.0.0/0`). Entries `parseRange` refuses are ignored here.
 */
export function coversAFamily(entries: string[]): boolean {
	const ranges = entries.map(parseRange).filter((range): range is AddressRange => range !== undefined);
	for (const [family, bits] of [
		['ipv4', 32n],
		['ipv6', 128n],
	] as const) {
		const spans = ranges
			.filter((range) => range.family === family)
			.map((range) => {
				const size = 1n << (bits - BigInt(range.prefix));
				const start = (addressValue(range.address, family) / size) * size;
				return [start, start + size] as const;
			})
			.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
		let covered = 0n;
		for (const [start, end] of spans) {
			if (start > covered) break;
			if (end > covered) covered = end;
		}
		if (covered >= 1n << bits) return true;
	}
	return false;
}
