import { createHash } from 'node:crypto';
import path from 'node:path';
import { badInput } from '../../../core/errors.js';
import type { Argv } from '../../runner/runner.js';

/**
 * Pure builders for everything the ssh target runs; tests assert these exactly.
 *
 * A remote command is data (an argv array) until the last moment: ssh hands the remote side
 * one string, which the remote user's login shell (a POSIX shell: sh, dash, bash, zsh)
 * parses. `quoteArgv` is the one place that string is made, by single-quoting every element,
 * so `; rm -rf /`, `$(id)`, backticks, newlines and quotes arrive as literal arguments.
 */

/** One host of an ssh target (`target.hosts[]` in shipgate.yml). */
export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  keyFile: string;
}

/** A host as the target uses it: the endpoint and how errors and logs name it (`hostLabel`). */
export interface Host extends SshEndpoint {
  label: string;
}

/** `'it'\''s'`: a POSIX-shell word that is exactly `arg`, whatever it holds (NUL aside, which no argv can hold). */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw badInput('a remote command argument contains a NUL byte, which no command line can carry');
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The single string ssh sends: every argv element single-quoted, joined by spaces. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `env NAME=value ... argv`: variables for a remote command as argv elements (quoted like the
 * rest), never interpolated into a shell string. Names are checked, so none can be read by
 * `env` as an option; values may hold anything.
 */
export function withEnv(variables: Record<string, string>, argv: Argv): Argv {
  const entries = Object.entries(variables);
  if (!entries.length) return argv;
  for (const [name] of entries) {
    if (!VARIABLE.test(name)) throw badInput(`"${name}" is not a valid environment variable name for a remote command`, { hint: 'Use letters, digits and "_", not starting with a digit.' });
  }
  return ['env', ...entries.map(([name, value]) => `${name}=${value}`), ...argv];
}

/** `host`, or `host:port` when the port is not 22: how errors, logs and the state file name a host. */
export function hostLabel(h: Pick<SshEndpoint, 'host' | 'port'>): string {
  return h.port === 22 ? h.host : `${h.host}:${h.port}`;
}

const HOST = /^[A-Za-z0-9_.:-]+$/;
const USER = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/;

/** Rejects hosts and users ssh could read as options or tokens (e.g. `-oProxyCommand=...`). */
export function assertEndpoint(h: SshEndpoint): void {
  if (!HOST.test(h.host) || h.host.startsWith('-')) {
    throw badInput(`"${h.host}" is not a host name or address`, { where: 'target.hosts[].host', hint: 'Use a DNS name or an IP address, e.g. prod-1.example.com or 10.0.0.5.' });
  }
  if (!USER.test(h.user)) {
    throw badInput(`"${h.user}" is not a user name`, { where: 'target.hosts[].user', hint: 'Use the remote account name, e.g. deploy.' });
  }
}

/**
 * A path inside an `-o Option=value` argument: ssh reads that value like a line of ssh_config,
 * where `%` starts a token and blanks separate words, so `%` is doubled and a path with
 * blanks is double-quoted.
 */
export function sshPathArgument(p: string): string {
  const escaped = p.replaceAll('%', '%%');
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}

/**
 * The key file as the argument of `-i`: one argv element, never split or unquoted by ssh, so
 * blanks and quotes need nothing (quoting them would make the quotes part of the name); only
 * `%` tokens are expanded there, so `%` is doubled.
 */
export function sshKeyArgument(p: string): string {
  return p.replaceAll('%', '%%');
}

/**
 * One ssh connection per host for a whole shipgate command: the first ssh becomes the control
 * master (ControlMaster=auto) listening on `controlPath`, later ones run their command as
 * another session over it, and the master outlives each command by `persistSeconds` at most.
 */
export interface Multiplexing {
  controlPath: string;
  persistSeconds: number;
}

/**
 * The local ssh client's argv for one remote command: key authentication only (BatchMode,
 * never a prompt), host keys pinned in shipgate's own known_hosts on first contact, and a
 * dead connection noticed within ~10 s (ServerAlive) instead of hanging a deploy.
 */
export function sshArgv(h: SshEndpoint, knownHostsFile: string, remote: Argv, mux?: Multiplexing): Argv {
  assertEndpoint(h);
  return [
    'ssh',
    '-i', sshKeyArgument(h.keyFile),
    '-p', String(h.port),
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=accept-new',
    '-o', `UserKnownHostsFile=${sshPathArgument(knownHostsFile)}`,
    '-o', 'ConnectTimeout=10',
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=2',
    ...(mux ? ['-o', 'ControlMaster=auto', '-o', `ControlPath=${sshPathArgument(mux.controlPath)}`, '-o', `ControlPersist=${mux.persistSeconds}`] : []),
    `${h.user}@${h.host}`,
    '--',
    quoteArgv(remote),
  ];
}

/** Asks the control master on `controlPath` to exit (`ssh -O exit`); exit 255 when none listens. */
export function sshCloseArgv(h: SshEndpoint, controlPath: string): Argv {
  assertEndpoint(h);
  return ['ssh', '-o', `ControlPath=${sshPathArgument(controlPath)}`, '-O', 'exit', '-p', String(h.port), `${h.user}@${h.host}`];
}

/**
 * The control socket's file name for an endpoint: 16 hex digits of a hash of user, host, port
 * and key, so the path stays short (a unix socket path holds ~104 bytes) whatever the names.
 */
export function controlSocketName(h: SshEndpoint): string {
  return createHash('sha256').update(JSON.stringify([h.user, h.host, h.port, h.keyFile])).digest('hex').slice(0, 16);
}

/** Longest socket path: 104 bytes (BSD, macOS; Linux allows 108), less the 17 characters ssh appends to a master's socket while it sets it up. */
export const MAX_CONTROL_PATH = 104 - 1 - 17;

/**
 * Where the control sockets live: `<stateDir>/ssh/mux` when its socket paths fit, else a
 * directory of this user's in the temp dir, named after the state dir (so two checkouts
 * never share masters).
 */
export function controlDirectory(stateDir: string, tmpDir: string, uid: number): string {
  const preferred = path.join(stateDir, 'ssh', 'mux');
  if (path.join(preferred, '0'.repeat(16)).length <= MAX_CONTROL_PATH) return preferred;
  const id = createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 12);
  const inTmp = path.join(tmpDir, `shipgate-${uid}-${id}`);
  return path.join(inTmp, '0'.repeat(16)).length <= MAX_CONTROL_PATH ? inTmp : path.join('/tmp', `shipgate-${uid}-${id}`);
}

const COMMIT = /^[0-9a-f]{7,64}$/;

function assertCommit(commit: string): void {
  if (!COMMIT.test(commit)) throw badInput(`"${commit}" is not a commit hash`, { hint: 'Remote checkouts take the commit shipgate resolved locally, never a tag name.' });
}

function assertRemote(remote: string): void {
  if (!remote || remote.startsWith('-') || /\s/.test(remote)) throw badInput(`"${remote}" is not a git remote name`, { where: 'target.remote', hint: 'Name the remote as `git remote` lists it on the hosts, e.g. origin.' });
}

/** Git on a host, in the checkout `dir` (the runbook's `cd /opt/trading_platform; git fetch && git checkout v1.2.3`). */
export const remoteGit = {
  fetch: (dir: string, remote: string): Argv => {
    assertRemote(remote);
    return ['git', '-C', dir, 'fetch', remote, '--tags', '--force'];
  },
  /** By commit SHA (resolved locally), so a tag moved on the remote cannot change what is deployed. */
  checkout: (dir: string, commit: string): Argv => {
    assertCommit(commit);
    return ['git', '-C', dir, 'checkout', '--detach', '--force', commit];
  },
  head: (dir: string): Argv => ['git', '-C', dir, 'rev-parse', 'HEAD'],
};

/** Compose files on the host: relative ones are inside the checkout `dir`. */
export function remoteComposeFiles(dir: string, files: string[]): string[] {
  return files.map((f) => (path.posix.isAbsolute(f) ? f : path.posix.join(dir, f)));
}

/**
 * Hosts in rollout order, `parallelism` at a time: [[a], [b], [c]] with 1, [[a, b], [c]] with 2.
 * A batch runs at once; the next starts only when the whole batch succeeded.
 */
export function rolloutBatches<T>(hosts: readonly T[], parallelism: number): T[][] {
  const size = Math.max(1, Math.floor(parallelism));
  const out: T[][] = [];
  for (let i = 0; i < hosts.length; i += size) out.push(hosts.slice(i, i + size));
  return out;
}
