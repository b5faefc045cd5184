import KeyvRedis from '@keyv/redis';
import Keyv from 'keyv';
import { type Backend, holderOf, LIST_PAGE, openCollections } from '../backend.js';
import { adds, claimedValue, claimForm, expiresOf, readStored, removes, storedForm } from '../unit.js';
import type { StoreUrl } from '../url.js';

/**
 * The Keyv Redis adapter, as hookcord uses it: its key prefix and the connected node-redis client. Tests
 * reach through it to play a lost connection.
 */
export interface RedisAdapter {
	namespace?: string;
	createKeyPrefix(key: string, namespace?: string): string;
	getClient(): Promise<RedisClient>;
}

/** The commands hookcord sends beyond Keyv's get/set/delete. */
interface RedisClient {
	get(key: string): Promise<string | null>;
	set(key: string, value: string, options: { NX: true; PX: number }): Promise<string | null>;
	eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
	scanIterator(options: { MATCH: string; COUNT: number }): AsyncIterable<string[]>;
}

/**
 * `redis://…` or `rediss://…`: every collection a key prefix `prefix:collection:` on one server, so
 * deployments with different prefixes share it without meeting. Several instances may share one store.
 */
export function openRedis({ url, prefix }: StoreUrl): Backend {
	const collections = openCollections((name) => {
		const namespace = `${prefix}:${name}`;
		const adapter = new KeyvRedis(url, { namespace, throwOnErrors: true });
		// As @keyv/redis's createKeyv: the adapter prefixes keys itself, Keyv does not again.
		adapter.namespace = namespace;
		return new Keyv(adapter, { namespace, useKeyPrefix: false });
	});
	// Through each collection's adapter at every call: what a test puts in its place is used.
	const adapter = (name: keyof typeof collections) => collections[name].store as RedisAdapter;
	const keyOf = (name: keyof typeof collections, key: string) => {
		const store = adapter(name);
		return store.createKeyPrefix(key, store.namespace);
	};
	const client = (name: keyof typeof collections = 'meta') => adapter(name).getClient();
	return {
		collections,
		async claim(key, value, ttlMs) {
			const redis = await client('seen');
			const stored = keyOf('seen', key);
			if ((await redis.set(stored, claimForm(value, ttlMs), { NX: true, PX: ttlMs })) === 'OK')
				return undefined;
			return claimedValue(await redis.get(stored)) ?? value;
		},
		async commit(changes, fence) {
			if (changes.length === 0) return true;
			const argv = await Promise.all(
				changes.map(async (change) => {
					const key = keyOf(change.collection, change.key);
					if (removes(change)) return { key, args: ['del', '', '', ''] };
					const ttl = change.ttlMs === undefined ? '' : String(change.ttlMs);
					if (adds(change))
						return {
							key,
							args: ['add', JSON.stringify({ add: change.add, expires: expiresOf(change) }), ttl, ''],
						};
					const value = await storedForm(collections[change.collection], change);
					const expect =
						change.expect === undefined ? '' : change.expect === null ? '!' : `=${change.expect}`;
					return { key, args: ['set', value, ttl, expect] };
				}),
			);
			const applied = await (await client()).eval(UNIT, {
				// Without a fence, KEYS[1] is only a placeholder (the first key of the unit).
				keys: [fence?.at ?? (argv[0] as { key: string }).key, ...argv.map(({ key }) => key)],
				arguments: [fence?.token ?? '', ...argv.flatMap(({ args }) => args)],
			});
			return applied === 1;
		},
		async read(name, key) {
			return readStored(await (await client(name)).get(keyOf(name, key)));
		},
		async *listKeys(name) {
			const start = keyOf(name, '');
			for await (const keys of (await client(name)).scanIterator({ MATCH: `${start}*`, COUNT: LIST_PAGE }))
				for (const key of keys) yield key.slice(start.length);
		},
		async lease() {
			const key = `${prefix}:leader`;
			const run = async (script: string, keys: string[], args: string[]) =>
				(await client()).eval(script, { keys, arguments: args });
			return {
				shared: true,
				at: key,
				async take(token, ttlMs) {
					const answer = await run(TAKE, [key, `${key}:epoch`], [token, String(Math.ceil(ttlMs))]);
					return typeof answer === 'number'
						? { epoch: answer }
						: { holder: holderOf(answer as string | null) };
				},
				async extend(token, ttlMs) {
					return (await run(EXTEND, [key], [token, String(Math.ceil(ttlMs))])) === 1;
				},
				async drop(token) {
					await run(DROP, [key], [token]);
				},
			};
		},
	};
}

/**
 * A unit, applied only if its conditions hold: scripts run whole, without interleaving; a connection lost
 * before it is sent applies nothing, and once it checks its conditions, plain SETs and DELs of string
 * keys cannot fail. ARGV[1] is the fence token ('' for none) and KEYS[1] the lease key; each change is a
 * key KEYS[i] (i >= 2) with four arguments: op ('set', 'del', or 'add': value is then
 * `{add, expires}`, summed into the stored counts), value, ttl in ms ('' for none) and the expected
 * stored form ('' for none, '!' for absent, '=' and the stored form).
 */
const UNIT = `
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #KEYS do
	local expect = ARGV[4 * i - 3]
	if expect ~= '' then
		local current = redis.call('GET', KEYS[i])
		if expect == '!' then
			if current then return 0 end
		elseif current ~= string.sub(expect, 2) then return 0 end
	end
end
for i = 2, #KEYS do
	local op, value, ttl = ARGV[4 * i - 6], ARGV[4 * i - 5], ARGV[4 * i - 4]
	if op == 'del' then redis.call('DEL', KEYS[i])
	elseif op == 'add' then
		local spec = cjson.decode(value)
		local counts = {}
		local current = redis.call('GET', KEYS[i])
		if current then
			local ok, stored = pcall(cjson.decode, current)
			if ok and type(stored) == 'table' and type(stored.value) == 'table' then counts = stored.value end
		end
		for field, n in pairs(spec.add) do counts[field] = (counts[field] or 0) + n end
		local stored = cjson.encode({ value = counts, expires = spec.expires })
		if ttl == '' then redis.call('SET', KEYS[i], stored)
		else redis.call('SET', KEYS[i], stored, 'PX', ttl) end
	elseif ttl == '' then redis.call('SET', KEYS[i], value)
	else redis.call('SET', KEYS[i], value, 'PX', ttl) end
end
return 1`;

// The lease: SET NX PX with the term's fencing number from INCR, in one script, so numbers follow the
// order in which holders took it; renew and release compare the token first.
const TAKE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
	return redis.call('INCR', KEYS[2])
end
return redis.call('GET', KEYS[1])`;
const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;
const DROP = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`;
