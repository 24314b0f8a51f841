import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import type { ComposeTargetSpec } from '../../../config/schema.js';
import { failed } from '../../../core/errors.js';
import type { Runner } from '../../runner/runner.js';
import { composeCommands, type ComposeCli } from './commands.js';

/** Whether `program` is an executable file in one of PATH's directories. */
export function onPath(program: string, pathVariable: string | undefined): boolean {
  for (const dir of (pathVariable ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, program);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      /* not here */
    }
  }
  return false;
}

/**
 * `cli: auto` prefers `docker-compose` (v1, what the runbook types) when it is on PATH, else
 * `docker compose` (v2) when `docker compose version` works; an explicit choice is taken as is.
 */
export async function detectComposeCli(cli: ComposeTargetSpec['cli'], runner: Runner, env: Record<string, string>): Promise<ComposeCli> {
  if (cli === 'docker-compose') return 'v1';
  if (cli === 'docker compose') return 'v2';
  if (onPath('docker-compose', env.PATH)) return 'v1';
  const v2 = await runner.run(composeCommands.version('v2'), { env, timeoutMs: 30_000 });
  if (v2.exitCode === 0) return 'v2';
  throw failed('neither docker-compose nor the docker compose plugin is available', {
    hint: 'Install one (Debian: apt-get install docker-compose), or set target.cli in shipgate.yml to the one you have.',
  });
}
