import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** One process as Linux /proc shows it; fields we could not read (another user's process) are undefined. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  startTicks: string;
  argv: string[];
  cwd: string | undefined;
  /** Only the variables shipgate marks its children with, to recognise them. */
  marks: Record<string, string>;
}

const MARKS = ['SHIPGATE_ENV', 'SERVICE_NAME', 'SHIPGATE_VERSION'];

function readStat(pid: number): { ppid: number; pgid: number; startTicks: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after it are split after ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined;
    return { ppid: Number(fields[1]), pgid: Number(fields[2]), startTicks: fields[19]! };
  } catch {
    return undefined;
  }
}

function readMarks(pid: number): Record<string, string> {
  try {
    const marks: Record<string, string> = {};
    for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const eq = entry.indexOf('=');
      const name = entry.slice(0, eq);
      if (eq > 0 && MARKS.includes(name)) marks[name] = entry.slice(eq + 1);
    }
    return marks;
  } catch {
    return {};
  }
}

export function procInfo(pid: number): ProcInfo | undefined {
  const stat = readStat(pid);
  if (!stat) return undefined;
  let argv: string[] = [];
  let cwd: string | undefined;
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv.at(-1) === '') argv.pop();
  } catch {
    /* gone or not ours */
  }
  try {
    cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    /* another user's process */
  }
  return { pid, ...stat, argv, cwd, marks: readMarks(pid) };
}

/** Every live (non-zombie) process on this host. */
export function listProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = procInfo(Number(entry));
    if (info) out.push(info);
  }
  return out;
}

/** True when `pid` is `ancestor` or runs below it (parent chain), as a service's workers do. */
export function isSameOrDescendant(pid: number, ancestor: number, byPid?: Map<number, ProcInfo>): boolean {
  let current: number | undefined = pid;
  for (let hops = 0; current !== undefined && current > 1 && hops < 64; hops++) {
    if (current === ancestor) return true;
    current = byPid ? byPid.get(current)?.ppid : readStat(current)?.ppid;
  }
  return false;
}

export function describeProcess(p: { argv: string[] } | undefined): string {
  const text = p?.argv.join(' ').trim();
  if (!text) return 'command unknown';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
