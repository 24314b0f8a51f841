// Latency of one remote command over the ssh target, against a real sshd on loopback (Debian's
// openssh-server, as the tests use): a new connection per command (how the target ran before)
// against one multiplexed connection per host (ControlMaster), through the target's own session
// (argv builders, the streaming runner, the command log). Goal: ≤ 50 ms per remote command after
// the first. Runs against dist/ (`npm run build`); `node bench/run.mjs ssh` runs only this one.
// Needs /usr/sbin/sshd and ssh (scripts/ensure-system-deps.sh); sshd runs as our child, stopped by PID.
//
// Every remote command runs in the remote user's login shell, and bash sources ~/.bashrc when
// sshd starts it: on this project's machines root's .bashrc runs `pyenv init` (about a hundred
// processes, seconds on a busy machine), which would swamp what ssh itself costs. So the main
// server runs in a mount namespace of its own (util-linux unshare) with an empty directory over
// the user's home, as on a host whose deploy user has a plain shell; a few commands against a
// server that keeps the real home show what such a profile costs on top.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OpenConnections } from '../dist/adapters/runner/connections.js';
import { controlDirectory, controlSocketName } from '../dist/adapters/targets/ssh/commands.js';
import { SshSession } from '../dist/adapters/targets/ssh/session.js';
import { sshLayout } from '../dist/adapters/targets/ssh/state.js';
import { localRunner as streamingRunner } from '../dist/adapters/runner/runner.js';
import { freePort } from '../dist/demo/free-port.js';

const COMMANDS = Number(process.env.SSH_BENCH_COMMANDS ?? 30);
const ROUNDS = Number(process.env.SSH_BENCH_ROUNDS ?? 3);
const GOAL_MS = 50;

const keygen = (file, comment) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { stdio: 'ignore' });

async function startSshd(dir, publicKey, { plainHome }) {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = path.join(dir, 'host_key');
  keygen(hostKey, 'bench-host');
  writeFileSync(path.join(dir, 'authorized_keys'), `${publicKey}\n`, { mode: 0o600 });
  const config = path.join(dir, 'sshd_config');
  writeFileSync(config, [
    'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`, `PidFile ${path.join(dir, 'sshd.pid')}`,
    'PubkeyAuthentication yes', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PermitRootLogin prohibit-password',
    'UsePAM no', 'StrictModes no', 'PrintMotd no', 'PrintLastLog no', 'X11Forwarding no', 'AllowTcpForwarding no', 'LogLevel ERROR', '',
  ].join('\n'));
  const port = await freePort();
  const log = openSync(path.join(dir, 'sshd.log'), 'a');
  const sshd = ['/usr/sbin/sshd', '-D', '-e', '-f', config, '-p', String(port)];
  let argv = sshd;
  if (plainHome) {
    const home = path.join(dir, 'home');
    mkdirSync(home, { mode: 0o700 });
    argv = ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'sh', home, os.homedir(), ...sshd];
  }
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', log, log] });
  closeSync(log);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await answers(port)) return { port, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`sshd did not answer on port ${port}: ${readFileSync(path.join(dir, 'sshd.log'), 'utf8')}`);
}

function answers(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('data', (d) => { s.destroy(); resolve(String(d).startsWith('SSH-')); });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => { s.destroy(); resolve(false); });
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const p95 = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]; };
const round = (x) => Math.round(x * 10) / 10;

async function timed(session, host) {
  const t = performance.now();
  const res = await session.run('bench', host, ['true'], { display: 'true', timeoutMs: 60_000 });
  if (res.exitCode !== 0) throw new Error(`remote command failed (exit ${res.exitCode}): ${res.stderr}`);
  return performance.now() - t;
}

async function measure(session, counts) {
  const fresh = [];
  const first = [];
  const after = [];
  const spawnFloor = [];
  const clientFloor = [];
  for (let r = 0; r < counts.rounds; r++) {
    // Before: every command opens its own connection.
    const plain = new SshSession(session.base);
    for (let i = 0; i < counts.fresh; i++) fresh.push(await timed(plain, plain.hosts[0]));
    // Now: one master per host for the command, closed at its end.
    const connections = new OpenConnections();
    const muxDir = controlDirectory(session.stateDir, os.tmpdir(), process.getuid?.() ?? 0);
    const muxed = new SshSession({ ...session.base, multiplex: { connections, dir: muxDir } });
    const controlPath = path.join(muxDir, controlSocketName(session.base.spec.hosts[0]));
    first.push(await timed(muxed, muxed.hosts[0]));
    for (let i = 0; i < counts.after; i++) after.push(await timed(muxed, muxed.hosts[0]));
    // What a command over the master cannot go below here: starting a local process, and the
    // ssh client asking the master whether it is alive (no remote session, no remote shell).
    for (let i = 0; i < counts.after; i++) {
      let t = performance.now();
      await streamingRunner.run(['true']);
      spawnFloor.push(performance.now() - t);
      t = performance.now();
      const check = await streamingRunner.run(['ssh', '-o', `ControlPath=${controlPath}`, '-O', 'check', '-p', String(session.base.spec.hosts[0].port), 'x@127.0.0.1']);
      if (check.exitCode === 0) clientFloor.push(performance.now() - t);
    }
    await connections.closeAll();
  }
  return {
    commands: { newConnectionEach: fresh.length, openingTheMaster: first.length, overTheMaster: after.length },
    newConnectionPerCommandMs: { median: round(median(fresh)), p95: round(p95(fresh)) },
    firstCommandOpeningTheMasterMs: { median: round(median(first)) },
    perCommandAfterFirstMs: { median: round(median(after)), p95: round(p95(after)) },
    speedup: round(median(fresh) / median(after)),
    floorMs: { localProcess: round(median(spawnFloor)), sshClientToMaster: clientFloor.length ? round(median(clientFloor)) : null },
  };
}

async function withServer(tmp, name, clientKey, plainHome, use) {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { mode: 0o700 });
  const { port, child } = await startSshd(dir, readFileSync(`${clientKey}.pub`, 'utf8').trim(), { plainHome });
  const stateDir = path.join(dir, '.shipgate');
  const base = {
    envName: 'bench',
    spec: { type: 'ssh', hosts: [{ host: '127.0.0.1', port, user: os.userInfo().username, keyFile: clientKey }], dir: '/opt/app', remote: 'origin', parallelism: 1 },
    projectName: 'bench',
    layout: sshLayout(stateDir),
    runner: streamingRunner,
  };
  try {
    return await use({ base, stateDir });
  } finally {
    await stop(child);
  }
}

export async function run() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'sg-ssh-bench-'));
  const clientKey = path.join(tmp, 'client_key');
  keygen(clientKey, 'bench-client');
  chmodSync(clientKey, 0o600);
  try {
    const plain = await withServer(tmp, 'plain', clientKey, true, (s) => measure(s, { rounds: ROUNDS, fresh: Math.ceil(COMMANDS / 3), after: COMMANDS }));
    const profiled = await withServer(tmp, 'profiled', clientKey, false, (s) => measure(s, { rounds: 1, fresh: 3, after: 5 }));
    return {
      plainLoginShell: plain,
      thisMachinesLoginProfile: profiled,
      goalMs: GOAL_MS,
      meetsGoal: plain.perCommandAfterFirstMs.median <= GOAL_MS,
      loadAverage: os.loadavg().map(round),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
