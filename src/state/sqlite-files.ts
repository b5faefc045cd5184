import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * A SQLite store holds the hook secret and every callback: only its owner may read it. Creates the folder
 * 0700 (a folder that already exists keeps its mode: it may be /tmp or a shared volume) and the database
 * file 0600 before SQLite opens it; SQLite gives the -wal and -shm files the mode of the database file.
 * Files a previous version created with the default 0644 are narrowed to 0600.
 */
export function protectSqliteFiles(path: string): void {
	const file = resolve(path);
	mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
	closeSync(openSync(file, 'a', 0o600));
	for (const name of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
		if (existsSync(name)) chmodSync(name, 0o600);
	}
}
