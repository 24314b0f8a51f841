// Throwaway OpenSSH servers for tests: `/usr/sbin/sshd -D -e` on a free loopback port as our
// child, with its own host key, config and authorized_keys in a temp dir; key login as root
// only; stopped by PID (and started again on the same port and key, to simulate an outage).
// Never skips: a missing sshd is an error naming the script that installs it.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/demo/free-port.js';
import type { SshEndpoint } from '../../src/adapters/targets/ssh/commands.js';
import { scaled } from './pace.js';

export const SSHD = '/usr/sbin/sshd';
const MISSING = `${SSHD} not found; run \`bash scripts/ensure-system-deps.sh\` (installs the Debian openssh-server and openssh-client packages)`;

export interface ClientKey {
  /** Private key file (mode 600). */
  keyFile: string;
  publicKey: string;
}

/** An ed25519 key pair without a passphrase, `<dir>/id_ed25519{,.pub}`. */
export function makeClientKey(dir: string): ClientKey {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(dir, 'id_ed25519');
  if (!existsSync(keyFile)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'shipgate-test', '-f', keyFile], { stdio: 'ignore' });
  chmodSync(keyFile, 0o600);
  return { keyFile, publicKey: readFileSync(`${keyFile}.pub`, 'utf8').trim() };
}

export interface SshdOptions {
  /** The server's own dir: host key, config, authorized_keys, pid and log file. */
  dir: string;
  clientKey: ClientKey;
  /** What this "host" has in its environment (sshd `SetEnv`), e.g. its own DOCKER_HOST. */
  setEnv?: Record<string, string>;
  /**
   * Bind-mounts `source` over `target` in a mount namespace of the server's own (util-linux
   * `unshare`), so its sessions see this host's files at a path every host shares, like
   * /opt/trading_platform on real machines. `target` must exist (an empty dir).
   */
  bind?: { source: string; target: string };
  /**
   * Keep the login user's real home. By default an empty dir is mounted over it (same mount
   * namespace), as on a host whose deploy user has a plain shell: sshd starts every remote
   * command through the user's login shell, and bash then sources ~/.bashrc — on this project's
   * machines root's runs `pyenv init`, about a second per command, which is the machine's cost
   * and not shipgate's (bench/ssh.bench.mjs measures both).
   */
  keepHome?: boolean;
}

export interface SshdServer {
  port: number;
  /** PID of the listening sshd (the unshare wrapper execs into it: same PID). */
  readonly pid: number | undefined;
  logFile: string;
  /** What shipgate.yml's `target.hosts[]` entry for this server holds. */
  endpoint: SshEndpoint;
  /** Starts the server again on the same port with the same host key (a host coming back). */
  start(): Promise<void>;
  /** SIGTERM to the listener's PID, SIGKILL if it lingers. Sessions already open end on their own. */
  stop(): Promise<void>;
  running(): boolean;
}

export async function startSshd(options: SshdOptions): Promise<SshdServer> {
  if (!existsSync(SSHD)) throw new Error(MISSING);
  // The privilege separation dir sshd insists on (the package's systemd unit makes it at boot).
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = options.dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  if (!existsSync(hostKey)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'shipgate-test-host', '-f', hostKey], { stdio: 'ignore' });
  chmodSync(hostKey, 0o600);
  const authorized = path.join(dir, 'authorized_keys');
  writeFileSync(authorized, `${options.clientKey.publicKey}\n`, { mode: 0o600 });
  const config = path.join(dir, 'sshd_config');
  // One line: sshd takes the first SetEnv line and ignores later ones.
  const vars = Object.entries(options.setEnv ?? {}).map(([k, v]) => `${k}="${v}"`);
  const setEnv = vars.length ? [`SetEnv ${vars.join(' ')}`] : [];
  writeFileSync(
    config,
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorized}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      // The temp dir is root's but not in a root-only path chain sshd checks by default.
      'StrictModes no',
      'PrintMotd no',
      'PrintLastLog no',
      'X11Forwarding no',
      'AllowTcpForwarding no',
      'PermitUserEnvironment no',
      'LogLevel VERBOSE',
      ...setEnv,
      '',
    ].join('\n'),
  );
  execFileSync(SSHD, ['-t', '-f', config], { stdio: 'pipe' });
  const logFile = path.join(dir, 'sshd.log');
  const plainHome = path.join(dir, 'home');
  mkdirSync(plainHome, { recursive: true, mode: 0o700 });
  let port = await freePort();
  let child: ReturnType<typeof spawn> | undefined;
  let exited: string | undefined;

  const launch = async (): Promise<void> => {
    const fd = openSync(logFile, 'a');
    const sshd = [SSHD, '-D', '-e', '-f', config, '-p', String(port)];
    const binds = [...(options.bind ? [options.bind] : []), ...(options.keepHome ? [] : [{ source: plainHome, target: os.homedir() }])];
    // Each pair is mounted, then the shell execs into sshd: the PID we hold is the listener's.
    const mountAll = 'while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 1; shift 2; done; shift; exec "$@"';
    const [cmd, ...args] = binds.length
      ? ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', mountAll, 'sh', ...binds.flatMap((b) => [b.source, b.target]), '--', ...sshd]
      : sshd;
    exited = undefined;
    const c = spawn(cmd!, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    c.on('exit', (code, signal) => (exited = `sshd exited (${signal ?? code})`));
    c.on('error', (err) => (exited = `sshd could not start: ${err.message}`));
    child = c;
    const deadline = Date.now() + scaled(10_000);
    while (Date.now() < deadline && !exited) {
      if (await banner(port)) return;
      await sleep(50);
    }
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n') : '';
    await stop();
    throw new Error(`${exited ?? 'sshd did not answer in 10s'} on port ${port}; last log lines:\n${log}`);
  };

  const stop = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  };

  // The port is free when picked; another process may take it before sshd binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 3 || !/Address already in use|Bind to port/i.test(readFileSync(logFile, 'utf8'))) throw err;
      port = await freePort();
    }
  }

  return {
    port,
    get pid() {
      return child?.pid;
    },
    logFile,
    endpoint: { host: '127.0.0.1', port, user: 'root', keyFile: options.clientKey.keyFile },
    start: launch,
    stop,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
  };
}

/** Whether something on the port speaks SSH (sends an `SSH-2.0-` banner). */
function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('data', (d) => {
      data += d.toString('latin1');
      if (data.includes('\n')) done(data.startsWith('SSH-'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(data.startsWith('SSH-')));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
