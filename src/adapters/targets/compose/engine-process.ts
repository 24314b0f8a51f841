// What starting and stopping a private dockerd takes, shared by the one-engine harness
// (local-engine.ts) and the three-node swarm (swarm/local-swarm.ts): its argv, spawning it
// (optionally inside a network namespace), the docker CLI against its socket, stopping by PID and
// unmounting what it left. Needs root and Debian's docker.io.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { localRunner } from '../../runner/runner.js';

export interface DockerdPaths {
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  /** `unix://<socket>` */
  host: string;
}

/** dockerd's flags: its own roots and socket, no iptables, forwarding or masquerading changes. */
export function dockerdArgs(p: DockerdPaths, extra: string[] = []): string[] {
  return [`--data-root=${p.dataRoot}`, `--exec-root=${p.execRoot}`, `--pidfile=${p.pidfile}`, `--host=${p.host}`, '--iptables=false', '--ip-forward=false', '--ip-masq=false', ...extra, '--log-level=warn'];
}

export interface SpawnedDockerd {
  pid: number | undefined;
  /** Set once dockerd has exited or could not start. */
  exited(): string | undefined;
}

/**
 * Starts dockerd detached, its output appended to `logFile`. With `netns`, through `nsenter --net`
 * only (`ip netns exec` remounts /sys and hides the cgroups); nsenter execs dockerd: the same PID.
 */
export function spawnDockerd(args: string[], logFile: string, netns?: string): SpawnedDockerd {
  const fd = openSync(logFile, 'a');
  const [file, argv] = netns ? ['nsenter', [`--net=/run/netns/${netns}`, 'dockerd', ...args]] : ['dockerd', args];
  const child = spawn(file, argv, { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `dockerd exited (${signal ?? code})`));
  child.on('error', (err) => (exited = `dockerd could not start: ${err.message}`));
  child.unref();
  return { pid: child.pid, exited: () => exited };
}

/** The docker CLI against one engine; rejects with its stderr on failure. */
export async function dockerCli(host: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<string> {
  const res = await localRunner.run(['docker', '-H', host, ...args], { timeoutMs, ...(env ? { env: { ...process.env, ...env } } : {}) });
  if (res.exitCode !== 0) throw new Error(`docker ${args.join(' ')}: ${res.stderr.trim() || `exit ${res.exitCode}`}`);
  return res.stdout;
}

export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** `signal` to one PID, up to `graceMs` for it to go, then SIGKILL and up to 10 s more. */
export async function stopPid(pid: number, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && alive(pid)) await new Promise((r) => setTimeout(r, 100));
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const hard = Date.now() + 10_000;
  while (Date.now() < hard && alive(pid)) await new Promise((r) => setTimeout(r, 50));
}

/** Unmounts whatever is still mounted under `dir` (deepest first); a mount already gone fails harmlessly. */
export async function unmountUnder(dir: string): Promise<void> {
  let mounts: string[];
  try {
    mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)));
  } catch {
    return; // no /proc: nothing mounted that we know of
  }
  for (const m of mounts.sort((a, b) => b.length - a.length)) await localRunner.run(['umount', '-l', m]);
}
