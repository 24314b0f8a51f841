import { existsSync, realpathSync } from 'node:fs';
import { describeProcess, isSameOrDescendant, listProcesses, type ProcInfo } from './proc.js';
import { isAlive, stopProcess } from './pids.js';

/** A process that belongs to an environment (runs from its release checkouts) but is not on record. */
export interface StrayProcess {
  pid: number;
  startTicks: string;
  command: string;
  cwd: string;
  service: string | undefined;
  version: string | undefined;
}

export interface RecordedProcess {
  pid: number;
  startTicks: string | undefined;
}

function within(dir: string, root: string): boolean {
  return dir === root || dir.startsWith(`${root}/`);
}

const sameArgv = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Processes running from `releasesRoot` (the environment's checkouts) that carry shipgate's
 * marks for `env` or run one of the environment's commands, and are neither a recorded process
 * nor below one. A shell someone opened in a checkout has neither, so it is never taken.
 */
export function findStrays(releasesRoot: string, env: string, recorded: RecordedProcess[], commands: readonly (readonly string[])[]): StrayProcess[] {
  if (!existsSync(releasesRoot)) return [];
  const root = realpathSync(releasesRoot);
  const all = listProcesses();
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const live = recorded.filter((r) => byPid.has(r.pid) && (r.startTicks === undefined || byPid.get(r.pid)!.startTicks === r.startTicks));
  const ours = (p: ProcInfo) => live.some((r) => isSameOrDescendant(p.pid, r.pid, byPid));
  // shipgate itself (and whatever started it) is never a stray, even when run from a checkout.
  const self = (p: ProcInfo) => isSameOrDescendant(process.pid, p.pid, byPid);
  return all
    .filter((p) => p.cwd !== undefined && within(p.cwd, root))
    .filter((p) => p.marks.SHIPGATE_ENV === env || commands.some((c) => sameArgv(c, p.argv)))
    .filter((p) => !ours(p) && !self(p))
    .map((p) => ({ pid: p.pid, startTicks: p.startTicks, command: describeProcess(p), cwd: p.cwd!, service: p.marks.SERVICE_NAME, version: p.marks.SHIPGATE_VERSION }));
}

/** Stops strays by PID: each tree's top first (its process group), then whatever is left. */
export async function stopStrays(strays: StrayProcess[]): Promise<void> {
  const pids = new Set(strays.map((s) => s.pid));
  const byPid = new Map(listProcesses().map((p) => [p.pid, p]));
  const tops = strays.filter((s) => !pids.has(byPid.get(s.pid)?.ppid ?? -1));
  for (const s of tops) await stopProcess(s.pid, s.startTicks, 3000);
  for (const s of strays) if (isAlive(s.pid, s.startTicks)) await stopProcess(s.pid, s.startTicks, 3000);
}

export function describeStrays(strays: StrayProcess[]): string {
  return strays.map((s) => `pid ${s.pid} (${s.command}${s.service ? `, ${s.service}${s.version ? ` ${s.version}` : ''}` : ''})`).join(', ');
}
