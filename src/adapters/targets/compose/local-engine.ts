import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dockerCli, dockerdArgs, spawnDockerd, stopPid, unmountUnder } from './engine-process.js';

// Base images without a registry live in base-image.ts; kept importable from here.
export { importNodeBaseImage, importPythonBaseImage } from './base-image.js';

/**
 * A private Docker engine for tests, benchmarks and demos: its own data root, exec root and
 * socket in a temp dir, no bridge and no iptables/sysctl changes (services use host
 * networking), stopped by PID. Needs root and Debian's `docker.io` (dockerd, containerd, runc).
 */
export interface LocalEngine {
  dir: string;
  /** DOCKER_HOST value, `unix://<dir>/docker.sock`. */
  host: string;
  pid: number;
  storageDriver: string;
  serverVersion: string;
  /** Runs the docker CLI against this engine; rejects with its stderr on failure. */
  docker(args: string[], options?: { timeoutMs?: number }): Promise<string>;
  /** SIGTERM, wait, SIGKILL; then unmounts what is left and deletes the dir. */
  stop(): Promise<void>;
}

export interface LocalEngineOptions {
  /** Tried in order: overlay2 first, vfs (slow, works everywhere) when overlay is unavailable. */
  storageDrivers?: string[];
  startTimeoutMs?: number;
}

export async function startLocalEngine(options: LocalEngineOptions = {}): Promise<LocalEngine> {
  // Short path: the socket path (and containerd's under exec-root) must fit in 108 bytes.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-engine-'));
  const errors: string[] = [];
  for (const driver of options.storageDrivers ?? ['overlay2', 'vfs']) {
    try {
      return await startWith(dir, driver, options.startTimeoutMs ?? 60_000);
    } catch (err) {
      errors.push(`${driver}: ${(err as Error).message}`);
    }
  }
  await cleanupDir(dir);
  throw new Error(`could not start a private Docker engine:\n${errors.join('\n')}`);
}

async function startWith(dir: string, driver: string, timeoutMs: number): Promise<LocalEngine> {
  const sub = path.join(dir, driver);
  mkdirSync(sub, { recursive: true });
  const host = `unix://${path.join(dir, 'docker.sock')}`;
  const logFile = path.join(sub, 'dockerd.log');
  const spawned = spawnDockerd(dockerdArgs({ dataRoot: path.join(sub, 'data'), execRoot: path.join(dir, 'x'), pidfile: path.join(dir, 'docker.pid'), host }, [`--storage-driver=${driver}`, '--bridge=none']), logFile);
  const pid = spawned.pid;
  const docker = (args: string[], o: { timeoutMs?: number } = {}) => dockerCli(host, args, o.timeoutMs ?? 120_000);
  const stop = async () => {
    if (pid !== undefined) await stopPid(pid, 30_000);
    // A managed containerd normally goes with dockerd; make sure, by its recorded PID.
    const cpid = readPid(path.join(dir, 'x', 'containerd', 'containerd.pid'));
    if (cpid) await stopPid(cpid, 5_000);
    await cleanupDir(dir);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawned.exited()) break;
    try {
      const [serverVersion = '', storageDriver = ''] = (await docker(['info', '--format', '{{.ServerVersion}} {{.Driver}}'], { timeoutMs: 10_000 })).trim().split(' ');
      if (pid === undefined) throw new Error('no pid');
      return { dir, host, pid, storageDriver, serverVersion, docker, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  if (pid !== undefined) await stopPid(pid, 10_000);
  const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
  throw new Error(`${spawned.exited() ?? 'no answer in time'}; last log lines:\n${log}`);
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Unmounts whatever an engine left mounted under `dir`, then deletes it. */
async function cleanupDir(dir: string): Promise<void> {
  await unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
