import { existsSync } from 'node:fs';
import path from 'node:path';

// Apart from load.ts so that a command can ask whether there is a config without loading the
// YAML parser and the schema (see src/cli/shared.ts on lazy loading).

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
