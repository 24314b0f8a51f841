import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { stopProcess } from '../../src/adapters/targets/process/pids.js';
import { listProcesses } from '../../src/adapters/targets/process/proc.js';

/**
 * Stops what the process target recorded, by PID, even when shipgate itself was killed; then
 * anything still running from the workspace's release checkouts (a test may delete the record).
 */
export async function stopEnvironments(workDir: string, envs: string[]): Promise<void> {
  for (const env of envs) {
    const file = path.join(workDir, '.shipgate', 'run', `${env}.json`);
    if (!existsSync(file)) continue;
    const state = JSON.parse(readFileSync(file, 'utf8')) as { services: Record<string, { pid: number | null; startTicks?: string }> };
    for (const svc of Object.values(state.services)) if (svc.pid) await stopProcess(svc.pid, svc.startTicks, 2000);
  }
  for (const pid of processesUnder(path.join(workDir, '.shipgate', 'releases'))) await stopProcess(pid.pid, pid.startTicks, 2000);
}

/** Processes whose working directory is inside `dir`, found through /proc. */
export function processesUnder(dir: string): { pid: number; startTicks: string; argv: string[] }[] {
  if (!existsSync(dir)) return [];
  const root = realpathSync(dir);
  return listProcesses().filter((p) => p.pid !== process.pid && p.cwd !== undefined && (p.cwd === root || p.cwd.startsWith(`${root}/`)));
}
