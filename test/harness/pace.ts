// How busy this machine is, for the bounds a test must keep (hang guards, CLI kill timers, waits
// that give up). A bound fixed in seconds turns a slow machine into a failing test; these scale
// with the share of a core a process gets: the 1-minute load average over the cores, read when a
// test file starts (and again for each bound asked later, so a machine that gets busier mid-file
// gets longer bounds, never shorter ones). Idle, the factor is 1 and the bounds are as written.
import os from 'node:os';

const cores = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
let highest = 1;

/** The machine's slowness factor: >= 1, the highest seen in this test file (capped at 20). */
export function pace(): number {
  const load = os.loadavg()[0] ?? 0;
  highest = Math.min(20, Math.max(highest, load / cores));
  return highest;
}

/** `ms` (the bound on an idle machine) stretched by the machine's current slowness. */
export function scaled(ms: number): number {
  return Math.round(ms * pace());
}

/**
 * A duration for shipgate.yml that bounds waiting on this machine (a health timeout): whole
 * seconds, `text` ("20s") stretched by the machine's current slowness.
 */
export function scaledSeconds(text: string): string {
  const m = /^(\d+)s$/.exec(text);
  if (!m) throw new Error(`scaledSeconds takes whole seconds such as "20s", not ${JSON.stringify(text)}`);
  return `${Math.ceil(Number(m[1]) * pace())}s`;
}
