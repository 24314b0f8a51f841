import { readFileSync } from 'node:fs';

/**
 * Start time of a process in clock ticks since boot (Linux /proc), used with the PID to be
 * sure a recorded PID still names the process we started and not a recycled one.
 */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it are split after ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number, startTicks?: string): boolean {
  if (process.platform === 'linux') {
    const ticks = processStartTicks(pid);
    return ticks !== undefined && (startTicks === undefined || ticks === startTicks);
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** SIGTERM to the process group, then SIGKILL after the grace period. Stops by PID only. */
export async function stopProcess(pid: number, startTicks: string | undefined, graceMs = 5000): Promise<void> {
  if (!isAlive(pid, startTicks)) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid, startTicks)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (isAlive(pid, startTicks)) signalGroup(pid, 'SIGKILL');
  while (isAlive(pid, startTicks)) await new Promise((r) => setTimeout(r, 20));
}
