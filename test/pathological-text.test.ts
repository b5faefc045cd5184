import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMofhClient, type MofhClient, MofhError } from '../src/clients/mofh.js';
import { actionResult, clean, readAnswer } from '../src/clients/mofh-answer.js';
import { parseMofh } from '../src/providers/mofh/parse.js';
import { parseSuspensionReason } from '../src/providers/mofh/suspension.js';
import { fitEmbed } from '../src/render/limits.js';
import { block, code, inline, line } from '../src/render/markdown.js';
import { embedToText } from '../src/render/plain.js';
import { type MofhDouble, startMofhDouble } from './doubles/mofh.js';

/**
 * Text from outside (a MOFH answer of up to 1 MB, a 32 KB ticket reply, a callback's comments) is cleaned
 * and matched in time linear in its length: 1 MB of each shape that makes a backtracking expression
 * quadratic takes well under 50 ms per pass, measured on a warm run.
 */

const MB = 1024 * 1024;
const fill = (unit: string) => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);

/** The shapes: an unclosed `<` or element, an entity that never ends, and all of them nested. */
export const PATHOLOGICAL: Record<string, string> = {
	'unclosed <': fill('<'),
	'<a repeated, never closed': fill('<a'),
	'<script repeated': fill('<script'),
	'<script> opened, never closed': fill('<script>'),
	'</script repeated': fill('</script'),
	'& run': fill('&'),
	'&name run without ;': fill('&amp'),
	'&# run': fill('&#x'),
	'<![CDATA[ repeated': fill('<![CDATA['),
	'<statusmsg> repeated': `<status>1</status>${fill('<statusmsg>')}`,
	nested: fill('<<script<a &#x<![CDATA[<style&amp<statusmsg>'),
	'whitespace run': `${fill(' ')}_`,
	'whitespace and dots': fill(' . '),
	'digits and spaces': fill('1 '),
};

const BUDGET_MS = 50;

/**
 * The best of five runs of `work` after a warm-up run, in milliseconds: the least time is the cost of the
 * work itself, the others add what a machine shared with other suites takes away (each run is ~2 ms).
 */
function timed(work: () => unknown): number {
	work();
	let best = Number.POSITIVE_INFINITY;
	for (let run = 0; run < 5; run++) {
		const start = performance.now();
		work();
		best = Math.min(best, performance.now() - start);
	}
	return best;
}

const PASSES: Record<string, (text: string) => unknown> = {
	'MOFH answer (readAnswer)': (text) => readAnswer(text),
	'MOFH action answer': (text) => actionResult(readAnswer(text)),
	'MOFH cleaner': (text) => clean(text),
	'ticket reply (support_reply)': (text) =>
		parseMofh({ callback_type: 'ticket', ticket_id: '1', ticket_status: 'S', support_reply: text }),
	'suspension comments': (text) => parseSuspensionReason(text),
	'markdown: line, block, inline, code': (text) => [line(text), block(text), inline(text), code(text)],
	// What reaches a terminal is an embed already fitted to Discord's limits.
	'embed fitting and terminal rendering': (text) =>
		embedToText(fitEmbed({ title: text, description: text, fields: [{ name: text, value: text }] })),
};

describe('cleaning and matching text from outside is linear', () => {
	for (const [pass, work] of Object.entries(PASSES)) {
		it(`${pass}: 1 MB of each pathological shape in under ${BUDGET_MS} ms`, (t) => {
			const slow: string[] = [];
			for (const [shape, text] of Object.entries(PATHOLOGICAL)) {
				const ms = timed(() => work(text));
				t.diagnostic(`${pass} · ${shape}: ${ms.toFixed(2)} ms`);
				if (ms >= BUDGET_MS) slow.push(`${shape} ${ms.toFixed(0)} ms`);
			}
			assert.deepEqual(slow, []);
		});
	}
});

describe('a hostile MOFH answering 1 MB pathological bodies', () => {
	let mofh: MofhDouble;
	let client: MofhClient;
	before(async () => {
		mofh = await startMofhDouble();
		mofh.fault = 'hostile';
		client = createMofhClient({ apiUrl: mofh.url, username: mofh.apiUser, password: mofh.apiKey });
	});
	after(async () => {
		await client.close();
		await mofh.close();
	});

	it('is answered within a bound, whatever the shape, and the event loop keeps turning', async (t) => {
		for (const [shape, body] of Object.entries(PATHOLOGICAL)) {
			// The client takes at most 1 MB: a body of exactly that is read and cleaned.
			mofh.hostileBody = body;
			let turns = 0;
			const ticker = setInterval(() => turns++, 1);
			const start = performance.now();
			const outcomes = await Promise.allSettled([
				client.getDomainUser('shop.example.com'),
				client.suspend({ key: 'abcd1234', reason: 'phishing kit' }),
			]);
			const ms = performance.now() - start;
			clearInterval(ticker);
			t.diagnostic(`${shape}: look-up and suspend answered in ${ms.toFixed(1)} ms`);
			assert.ok(ms < 2_000, `${shape}: ${ms} ms`);
			assert.ok(turns > 0, `${shape}: the event loop did not turn`);
			for (const outcome of outcomes) {
				if (outcome.status === 'rejected')
					assert.ok(outcome.reason instanceof MofhError, String(outcome.reason));
				else assert.ok(JSON.stringify(outcome.value).length < 4_000, 'what is kept of it is bounded');
			}
		}
	});
});

describe('entities name only what they are', () => {
	it('an entity named like an Object property is kept as written, not looked up on the prototype', () => {
		for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
			assert.equal(clean(`a &${name}; b`), `a &${name}; b`);
			const ticket = parseMofh({
				callback_type: 'ticket',
				ticket_id: '1',
				ticket_status: 'S',
				support_reply: `a &${name}; b`,
			});
			assert.equal((ticket as { text: string }).text, `a &${name}; b`);
		}
		assert.equal(clean('x &lt;b&gt;y&lt;/b&gt; &amp; &#65;&#x42; &NBSP;z'), 'x y & AB z');
	});

	it('the MOFH cleaner drops bidi controls, also ones an entity decodes into', () => {
		assert.equal(clean('gnp\u202e.exe &#x202E;x&#8294;y\u2069'), 'gnp.exe xy');
	});
});
