import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

// Apart from resolve-compose.ts so that the compose target reads `.env` without loading the YAML parser.

/** Variables from a `.env` file beside the first compose file (compose reads it too); shipgate's environment wins. */
export function composeEnvironment(files: string[], env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const vars: Record<string, string | undefined> = {};
  const dotenv = files.length ? path.join(path.dirname(files[0]!), '.env') : undefined;
  if (dotenv && existsSync(dotenv)) {
    for (const line of readFileSync(dotenv, 'utf8').split('\n')) {
      const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
      if (m) vars[m[1]!] = m[2]!.trim().replace(/^(['"])(.*)\1$/, '$2');
    }
  }
  return { ...vars, ...env };
}
