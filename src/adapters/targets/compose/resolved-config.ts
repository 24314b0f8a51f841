import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Runner } from '../../runner/runner.js';
import { composeCommands } from './commands.js';
import { onPath } from './detect.js';

export type ComposeConfigAnswer = { ok: true; text: string; resolver: string } | { ok: false; reason: string };

/**
 * `docker-compose config` of files as they are, for `init --from`: compose itself applies merges,
 * extends and interpolation. Not used when the files nest defaults (`${A:-${B:-x}}`), which the
 * Python docker-compose 1.x resolves wrongly, nor when it is not installed or fails.
 */
export async function composeConfigOf(files: string[], runner: Runner, env: NodeJS.ProcessEnv): Promise<ComposeConfigAnswer> {
  if (!onPath('docker-compose', env.PATH)) return { ok: false, reason: 'docker-compose is not installed' };
  if (files.some((f) => /\$\{[^}]*\$\{/.test(readFileSync(f, 'utf8')))) return { ok: false, reason: 'docker-compose 1.x resolves nested defaults (${A:-${B:-x}}) wrongly' };
  const inv = { cli: 'v1' as const, files: files.map((f) => path.resolve(f)), project: 'shipgate_init' };
  const res = await runner.run(composeCommands.config(inv), { cwd: path.dirname(path.resolve(files[0]!)), env, timeoutMs: 60_000 });
  if (res.exitCode !== 0) return { ok: false, reason: `docker-compose config failed: ${(res.stderr || res.stdout).trim().split('\n').slice(-1)[0] ?? ''}` };
  const version = await runner.run(composeCommands.version('v1'), { env, timeoutMs: 30_000 });
  return { ok: true, text: res.stdout, resolver: `docker-compose config${version.exitCode === 0 ? ` (${version.stdout.trim()})` : ''}` };
}
