import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { badInput } from '../core/errors.js';

// Apart from load.ts so that a command can find and read its config without loading the YAML
// parser and the schema (see src/cli/shared.ts on lazy loading, cached-load.ts on the cache).

export const CONFIG_FILE = 'shipgate.yml';

export function findConfigFile(startDir: string): string | undefined {
  let dir = path.resolve(startDir);
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function locateConfig(explicit: string | undefined, cwd: string): string {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!existsSync(file)) {
      throw badInput(`config file ${explicit} does not exist`, {
        where: '-c/--config',
        hint: 'Check the path, or run `shipgate init` to write a starter shipgate.yml.',
      });
    }
    return file;
  }
  const found = findConfigFile(cwd);
  if (!found) {
    throw badInput(`no ${CONFIG_FILE} found in ${cwd} or any directory above it`, {
      hint: 'Run `shipgate init` (or `shipgate init --from docker-compose.yml`) to write one, or name it with -c FILE.',
    });
  }
  return found;
}

/** Reads a config file, turning an unreadable path (a directory, no permission) into bad input. */
export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'EISDIR' ? 'is a directory' : `cannot be read (${(err as Error).message})`;
    throw badInput(`config file ${file} ${reason}`, {
      where: '-c/--config',
      hint: 'Name a shipgate.yml file with -c FILE, or run `shipgate init` to write one.',
    });
  }
}
