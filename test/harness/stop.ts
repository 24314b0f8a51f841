import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stopProcess } from '../../src/adapters/targets/process/pids.js';

/** Stops what the process target recorded, by PID, even when shipgate itself was killed. */
export async function stopEnvironments(workDir: string, envs: string[]): Promise<void> {
  for (const env of envs) {
    const file = path.join(workDir, '.shipgate', 'run', `${env}.json`);
    if (!existsSync(file)) continue;
    const state = JSON.parse(readFileSync(file, 'utf8')) as { services: Record<string, { pid: number; startTicks?: string }> };
    for (const svc of Object.values(state.services)) await stopProcess(svc.pid, svc.startTicks, 2000);
  }
}
