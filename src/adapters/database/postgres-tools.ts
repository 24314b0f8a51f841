import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Argv } from '../runner/runner.js';

export type PgTool = 'pg_dump' | 'pg_restore' | 'psql';

/** The PostgreSQL client tool's path: on PATH, else the newest /usr/lib/postgresql/N/bin. */
export function findPgTool(name: PgTool, pathVariable: string | undefined = process.env.PATH): string | undefined {
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  for (const dir of (pathVariable ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    if (executable(file)) return file;
  }
  for (const dir of debianPostgresBinDirs()) {
    const file = path.join(dir, name);
    if (executable(file)) return file;
  }
  return undefined;
}

/** Debian's /usr/lib/postgresql/N/bin directories, newest N first (none where it is not installed). */
export function debianPostgresBinDirs(base = '/usr/lib/postgresql'): string[] {
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => path.join(base, v, 'bin'));
}

/** The builders name the tool; the one found on this machine runs it. */
export const withPath = (toolPath: string, argv: Argv): Argv => [toolPath, ...argv.slice(1)];
