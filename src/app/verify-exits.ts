import type { Target } from '../adapters/targets/target.js';

/**
 * For services that failed verification: which of them no longer run (the process exited, the
 * container stopped), with the last line each logged, so "ECONNREFUSED" is not all an operator sees
 * of a release that crashed at start. Best effort: a target that cannot say adds nothing.
 */
export async function exitedNotes(target: Target, env: string, services: string[]): Promise<Map<string, string>> {
  const notes = new Map<string, string>();
  if (!services.length) return notes;
  const ps = await target.ps(env).catch(() => []);
  for (const name of services) {
    if (ps.find((p) => p.service === name)?.state !== 'stopped') continue;
    const logs = await target.logs(env, name, 20).catch(() => []);
    const last = logs[0]?.lines.filter((l) => l.trim() && !l.startsWith('---- shipgate:')).at(-1)?.trim();
    notes.set(name, `; its process is not running${last ? `, last log line: ${last.slice(0, 300)}` : ''}`);
  }
  return notes;
}
