import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * hookcord's version from its package.json, found by walking up from this module (it runs from `src/`
 * under tsx and from `dist/src/` once built). Sent as `User-Agent: hookcord/<version>` on forwards; read
 * once per leadership term.
 */
export function hookcordVersion(): string {
	for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
		const file = join(dir, 'package.json');
		if (existsSync(file)) {
			const { name, version } = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
			if (name === 'hookcord' && version) return version;
		}
		if (dirname(dir) === dir) return '0.0.0';
	}
}
