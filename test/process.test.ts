import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import { scratchDir, startHookcord } from './process.js';

it('an uncaught exception is logged as fatal and the process exits non-zero', async (t) => {
	const dir = scratchDir();
	t.after(dir.remove);
	const hookcord = await startHookcord({ STORE_URL: 'memory://' }, dir.path, 15_000, [
		join(import.meta.dirname, 'fixtures', 'throw-on-signal.ts'),
	]);
	t.after(() => hookcord.kill('SIGKILL'));
	hookcord.child.kill('SIGUSR2');
	const code = await hookcord.exited;
	assert.equal(code, 70, `exit code (stderr: ${hookcord.stderr()})`);
	const fatal = hookcord
		.stderr()
		.split('\n')
		.filter((line) => line.startsWith('{'))
		.map((line) => JSON.parse(line))
		.find((entry) => entry.level === 60);
	assert.ok(fatal, `a fatal log line in: ${hookcord.stderr()}`);
	assert.equal(fatal.msg, 'uncaught exception: exiting');
	assert.match(fatal.err.message, /injected fault/);
});
