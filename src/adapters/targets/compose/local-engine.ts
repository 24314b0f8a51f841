import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeInto } from '../../runner/pipe.js';
import { localRunner } from '../../runner/runner.js';

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
  const socket = path.join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const logFile = path.join(sub, 'dockerd.log');
  const fd = openSync(logFile, 'a');
  const argv = [
    `--data-root=${path.join(sub, 'data')}`,
    `--exec-root=${path.join(dir, 'x')}`,
    `--pidfile=${path.join(dir, 'docker.pid')}`,
    `--host=${host}`,
    `--storage-driver=${driver}`,
    '--iptables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--bridge=none',
    '--log-level=warn',
  ];
  const child = spawn('dockerd', argv, { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `dockerd exited (${signal ?? code})`));
  child.on('error', (err) => (exited = `dockerd could not start: ${err.message}`));
  child.unref();
  const pid = child.pid;
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
    if (exited) break;
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
  throw new Error(`${exited ?? 'no answer in time'}; last log lines:\n${log}`);
}

async function dockerCli(host: string, args: string[], timeoutMs: number): Promise<string> {
  const res = await localRunner.run(['docker', '-H', host, ...args], { timeoutMs });
  if (res.exitCode !== 0) throw new Error(`docker ${args.join(' ')}: ${res.stderr.trim() || `exit ${res.exitCode}`}`);
  return res.stdout;
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM to one PID, wait up to `graceMs`, then SIGKILL. */
async function stopPid(pid: number, graceMs: number): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && alive(pid)) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    const hard = Date.now() + 5_000;
    while (Date.now() < hard && alive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
}

/** Unmounts whatever an engine left mounted under `dir` (deepest first), then deletes it. */
async function cleanupDir(dir: string): Promise<void> {
  try {
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
      .sort((a, b) => b.length - a.length);
    // A mount already gone fails harmlessly.
    for (const m of mounts) await localRunner.run(['umount', '-l', m]);
  } catch {
    /* no /proc: nothing mounted that we know of */
  }
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Makes a base image without any registry: `docker import` of a root filesystem holding only
 * the node binary, the libraries `ldd` lists for it and the dynamic loader. Returns the name.
 */
export async function importNodeBaseImage(engine: Pick<LocalEngine, 'host' | 'dir'>, options: { name?: string; nodeBinary?: string } = {}): Promise<string> {
  const name = options.name ?? 'shipgate-node-base:local';
  const node = realpathSync(options.nodeBinary ?? process.execPath);
  const root = mkdtempSync(path.join(engine.dir, 'rootfs-'));
  try {
    const ldd = await localRunner.run(['ldd', node]);
    if (ldd.exitCode !== 0) throw new Error(`ldd ${node}: ${ldd.stderr.trim()}`);
    const libs = ldd.stdout
      .split('\n')
      .map((l) => /(\/\S+)\s+\(0x/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined);
    // Symlinks to the host's files, which `tar --dereference` stores as the files themselves.
    for (const [inImage, onHost] of [['/usr/bin/node', node], ...libs.map((l) => [l, realpathSync(l)])] as [string, string][]) {
      const target = path.join(root, inImage);
      mkdirSync(path.dirname(target), { recursive: true });
      if (!existsSync(target)) symlinkSync(onHost, target);
    }
    mkdirSync(path.join(root, 'tmp'));
    chmodSync(path.join(root, 'tmp'), 0o1777);
    mkdirSync(path.join(root, 'app'));
    const tar = ['tar', '--dereference', '--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', '-', '.'] as const;
    const load = ['docker', '-H', engine.host, 'import', '--change', 'ENV PATH=/usr/local/bin:/usr/bin:/bin', '--change', 'WORKDIR /app', '-', name] as const;
    const res = await pipeInto(tar, load, { env: process.env, timeoutMs: 600_000, prefix: '', suffix: () => '' });
    if (res.producerCode !== 0 || res.consumerCode !== 0) throw new Error(`docker import failed (tar ${res.producerCode}, docker ${res.consumerCode}): ${`${res.producerStderr}\n${res.consumerStderr}`.trim()}`);
    return name;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
