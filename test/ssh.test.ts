// The ssh target: the quoting of remote commands and every argv it builds (pure), its rollout
// logic against a scripted runner, then the runbook's production story over real sshd servers
// on loopback, each "host" with its own checkout, driving a private Docker engine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localRunner, type Argv, type Runner } from '../src/adapters/runner/runner.js';
import { assertEndpoint, controlDirectory, controlSocketName, hostLabel, MAX_CONTROL_PATH, quoteArgv, remoteComposeFiles, remoteGit, rolloutBatches, shellQuote, sshArgv, sshCloseArgv, sshPathArgument, withEnv, type SshEndpoint } from '../src/adapters/targets/ssh/commands.js';
import { SshSession } from '../src/adapters/targets/ssh/session.js';
import { OpenConnections } from '../src/adapters/runner/connections.js';
import { SshTarget, sshLayout, type SshEnvState } from '../src/adapters/targets/ssh/driver.js';
import { localRunner as streamingRunner, type RunOptions as StreamRunOptions } from '../src/adapters/runner/runner.js';
import type { SshTargetSpec } from '../src/config/schema.js';
import type { ResolvedService } from '../src/config/resolve.js';
import { ShipgateError } from '../src/core/errors.js';
import { startDocker, type DockerHarness } from './harness/docker.js';
import { shipgate } from './harness/cli.js';
import { makeClientKey, startSshd, type ClientKey, type SshdServer } from './harness/sshd.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { startLocalEngine, importNodeBaseImage, type LocalEngine } from '../src/adapters/targets/compose/local-engine.js';
import { freePorts } from '../src/demo/free-port.js';
import { scaled, scaledSeconds } from './harness/pace.js';

/** Arguments a shell would act on if they were ever pasted into a command line unquoted. */
const hostile = (canary: string) => [
  `; touch ${canary}/semicolon`,
  `$(touch ${canary}/dollar)`,
  `\`touch ${canary}/backtick\``,
  `x\ntouch ${canary}/newline`,
  `' ; touch ${canary}/quote ; '`,
  `"; touch ${canary}/dquote; "`,
  `&& touch ${canary}/and`,
  `| touch ${canary}/pipe`,
  `> ${canary}/redirect`,
  '$HOME ~ * ? [a] {a,b} \\ \t end',
  "it's",
  "''",
  '',
  '-n',
  '; rm -rf /',
];

/** Reverses quoteArgv (test helper): words of single-quoted segments and backslash escapes. */
function unquote(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ' ') {
      i++;
      continue;
    }
    let word = '';
    while (i < s.length && s[i] !== ' ') {
      if (s[i] === "'") {
        const end = s.indexOf("'", i + 1);
        word += s.slice(i + 1, end);
        i = end + 1;
      } else if (s[i] === '\\') {
        word += s[i + 1];
        i += 2;
      } else word += s[i++];
    }
    out.push(word);
  }
  return out;
}

const nulSplit = (stdout: string) => stdout.split('\0').slice(0, -1);

describe('remote commands as data', () => {
  it('single-quotes every element, embedded quotes as \'\\\'\'', () => {
    expect(shellQuote('plain')).toBe("'plain'");
    expect(shellQuote('')).toBe("''");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote("''")).toBe(`''\\'''\\'''`);
    expect(quoteArgv(['git', '-C', '/opt/trading platform', 'checkout', '$(id)'])).toBe(`'git' '-C' '/opt/trading platform' 'checkout' '$(id)'`);
    expect(quoteArgv(['echo', '; rm -rf /'])).toBe(`'echo' '; rm -rf /'`);
    expect(quoteArgv(['echo', '`id`', 'a\nb'])).toBe(`'echo' '\`id\`' 'a\nb'`);
    expect(() => shellQuote('a\0b')).toThrow(ShipgateError);
    for (const args of [hostile('/x'), ['a b', "c'd", 'e\\f']]) expect(unquote(quoteArgv(args))).toEqual(args);
  });

  it('a POSIX shell (dash and bash) reads the quoted string back as exactly the same arguments', () => {
    const canary = mkdtempSync(path.join(os.tmpdir(), 'sg-quote-'));
    try {
      const args = hostile(canary);
      for (const shell of ['sh', 'bash']) {
        const out = execFileSync(shell, ['-c', quoteArgv(['printf', '%s\\0', ...args])], { encoding: 'utf8' });
        expect(nulSplit(out)).toEqual(args);
      }
      expect(execFileSync('ls', ['-A', canary], { encoding: 'utf8' })).toBe('');
    } finally {
      rmSync(canary, { recursive: true, force: true });
    }
  });

  it('passes variables as a leading `env NAME=value` argv, checking the names', () => {
    expect(withEnv({ TAG: 'v1.2.3', SIGNAL_SERVICE_PORT: '8001', X: "a b; $(id) 'q'" }, ['docker-compose', 'up', '-d'])).toEqual(['env', 'TAG=v1.2.3', 'SIGNAL_SERVICE_PORT=8001', "X=a b; $(id) 'q'", 'docker-compose', 'up', '-d']);
    expect(withEnv({}, ['docker', 'ps'])).toEqual(['docker', 'ps']);
    for (const bad of ['-i', 'A B', '1X', 'A=B', '', 'A;B']) expect(() => withEnv({ [bad]: 'x' }, ['true'])).toThrow(ShipgateError);
    const canary = mkdtempSync(path.join(os.tmpdir(), 'sg-env-'));
    try {
      const value = `$(touch ${canary}/x)'\n\`touch ${canary}/y\``;
      expect(execFileSync('sh', ['-c', quoteArgv(withEnv({ HOSTILE: value }, ['printenv', 'HOSTILE']))], { encoding: 'utf8' })).toBe(`${value}\n`);
      expect(execFileSync('ls', ['-A', canary], { encoding: 'utf8' })).toBe('');
    } finally {
      rmSync(canary, { recursive: true, force: true });
    }
  });

  it('builds the ssh client argv: key only, host key pinned on first use, dead links noticed', () => {
    const h: SshEndpoint = { host: 'prod-server', port: 22, user: 'deploy', keyFile: '/keys/deploy' };
    expect(sshArgv(h, '/srv/shipgate/.shipgate/known_hosts', ['git', '-C', '/opt/trading_platform', 'fetch', 'origin', '--tags', '--force'])).toEqual([
      'ssh', '-i', '/keys/deploy', '-p', '22',
      '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=accept-new', '-o', 'UserKnownHostsFile=/srv/shipgate/.shipgate/known_hosts',
      '-o', 'ConnectTimeout=10', '-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=2',
      'deploy@prod-server', '--', `'git' '-C' '/opt/trading_platform' 'fetch' 'origin' '--tags' '--force'`,
    ]);
    // ssh expands % tokens in both paths and splits UserKnownHostsFile on blanks.
    expect(sshPathArgument('/a b/100%/kh')).toBe('"/a b/100%%/kh"');
    const odd = sshArgv({ ...h, keyFile: '/k/50%' }, '/my state/known_hosts', ['true']);
    expect(odd.slice(1, 3)).toEqual(['-i', '/k/50%%']);
    expect(odd).toContain('UserKnownHostsFile="/my state/known_hosts"');
    // -i takes one argv element as it is: blanks and quotes stay part of the name, unquoted.
    expect(sshArgv({ ...h, keyFile: '/home/ops/my keys/id "prod"' }, '/kh', ['true']).slice(1, 3)).toEqual(['-i', '/home/ops/my keys/id "prod"']);
    // Hosts and users that ssh could read as options or tokens are refused.
    for (const bad of [{ host: '-oProxyCommand=touch /tmp/x' }, { host: 'a b' }, { host: 'h;id' }, { user: 'root;id' }, { user: '-l' }]) {
      expect(() => assertEndpoint({ ...h, ...bad })).toThrow(ShipgateError);
    }
    expect(hostLabel({ host: 'prod-server', port: 22 })).toBe('prod-server');
    expect(hostLabel({ host: '127.0.0.1', port: 2222 })).toBe('127.0.0.1:2222');
  });

  it('multiplexes: one control master per host, on a short private socket path, closed with -O exit', () => {
    const h: SshEndpoint = { host: 'prod-server', port: 2222, user: 'deploy', keyFile: '/keys/deploy' };
    const mux = { controlPath: '/srv/app/.shipgate/ssh/mux/0123456789abcdef', persistSeconds: 60 };
    expect(sshArgv(h, '/srv/app/.shipgate/known_hosts', ['true'], mux)).toEqual([
      'ssh', '-i', '/keys/deploy', '-p', '2222',
      '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=accept-new', '-o', 'UserKnownHostsFile=/srv/app/.shipgate/known_hosts',
      '-o', 'ConnectTimeout=10', '-o', 'ServerAliveInterval=5', '-o', 'ServerAliveCountMax=2',
      '-o', 'ControlMaster=auto', '-o', 'ControlPath=/srv/app/.shipgate/ssh/mux/0123456789abcdef', '-o', 'ControlPersist=60',
      'deploy@prod-server', '--', `'true'`,
    ]);
    expect(sshCloseArgv(h, mux.controlPath)).toEqual(['ssh', '-o', 'ControlPath=/srv/app/.shipgate/ssh/mux/0123456789abcdef', '-O', 'exit', '-p', '2222', 'deploy@prod-server']);
    // One socket per user, host, port and key; 16 hex digits whatever their length.
    const name = controlSocketName(h);
    expect(name).toMatch(/^[0-9a-f]{16}$/);
    expect(controlSocketName({ ...h })).toBe(name);
    for (const other of [{ port: 22 }, { user: 'ops' }, { host: 'prod-2' }, { keyFile: '/keys/other' }]) expect(controlSocketName({ ...h, ...other })).not.toBe(name);
    // Under the state dir when the socket path fits a unix socket; else a per-user dir in the temp dir.
    expect(controlDirectory('/srv/app/.shipgate', '/tmp', 1000)).toBe('/srv/app/.shipgate/ssh/mux');
    const deep = `/home/ops/${'very-long-directory-name/'.repeat(4)}.shipgate`;
    const fallback = controlDirectory(deep, '/tmp', 1000);
    expect(fallback).toMatch(/^\/tmp\/shipgate-1000-[0-9a-f]{12}$/);
    expect(controlDirectory(`${deep}2`, '/tmp', 1000)).not.toBe(fallback);
    expect(controlDirectory(deep, `/var/${'x'.repeat(90)}`, 1000)).toBe(fallback);
    for (const dir of ['/srv/app/.shipgate', deep]) expect(path.join(controlDirectory(dir, '/tmp', 1000), name).length).toBeLessThanOrEqual(MAX_CONTROL_PATH);
  });

  it('builds git on the host by commit SHA, and compose file paths inside the checkout', () => {
    const sha = 'a'.repeat(40);
    expect(remoteGit.fetch('/opt/trading_platform', 'origin')).toEqual(['git', '-C', '/opt/trading_platform', 'fetch', 'origin', '--tags', '--force']);
    expect(remoteGit.checkout('/opt/trading_platform', sha)).toEqual(['git', '-C', '/opt/trading_platform', 'checkout', '--detach', '--force', sha]);
    expect(remoteGit.head('/opt/x')).toEqual(['git', '-C', '/opt/x', 'rev-parse', 'HEAD']);
    for (const bad of ['v1.2.3', '--orphan=x', 'HEAD; id', 'A'.repeat(40)]) expect(() => remoteGit.checkout('/d', bad)).toThrow(ShipgateError);
    for (const bad of ['--upload-pack=touch /tmp/x', '', 'a b']) expect(() => remoteGit.fetch('/d', bad)).toThrow(ShipgateError);
    expect(remoteComposeFiles('/opt/trading_platform', ['docker-compose.yml', 'deploy/docker-compose.prod.yml', '/etc/extra.yml'])).toEqual(['/opt/trading_platform/docker-compose.yml', '/opt/trading_platform/deploy/docker-compose.prod.yml', '/etc/extra.yml']);
  });

  it('rolls hosts out parallelism at a time', () => {
    expect(rolloutBatches(['a', 'b', 'c'], 1)).toEqual([['a'], ['b'], ['c']]);
    expect(rolloutBatches(['a', 'b', 'c'], 2)).toEqual([['a', 'b'], ['c']]);
    expect(rolloutBatches(['a', 'b'], 5)).toEqual([['a', 'b']]);
    expect(rolloutBatches([], 1)).toEqual([]);
  });

  it('the streaming runner hands lines over as they come and captures them too', async () => {
    const lines: string[] = [];
    const options: StreamRunOptions = { onLine: (l, s) => lines.push(`${s}:${l}`) };
    const res = await streamingRunner.run(['sh', '-c', 'echo one; echo two >&2; printf three'], options);
    expect(res).toMatchObject({ exitCode: 0, stdout: 'one\nthree', stderr: 'two\n' });
    expect(lines.sort()).toEqual(['stderr:two', 'stdout:one', 'stdout:three']);
    expect((await streamingRunner.run(['sh', '-c', 'exit 255'])).exitCode).toBe(255);
    expect((await streamingRunner.run(['/nonexistent/ssh'])).exitCode).toBe(127);
    const slow = await streamingRunner.run(['sleep', '5'], { timeoutMs: 200 });
    expect(slow.exitCode).toBe(124);
    expect(slow.stderr).toContain('timed out');
  });
});

// ---- the target against a scripted runner: which host gets which command, in which order

const SHA1 = '1'.repeat(40);
const SHA2 = '2'.repeat(40);
const svc: ResolvedService = { name: 'web', command: ['node', 'web.mjs'], cwd: '.', port: 8080, healthUrl: undefined, metricsUrl: undefined, env: { TRADING_MODE: 'paper' }, passEnv: ['BROKER_KEY'] };
const release = (version: string, commit: string) => ({ env: 'production', version, commit, services: [svc] });

interface Call {
  port: number;
  remote: string[];
}

type Answer = { exitCode?: number; stdout?: string; stderr?: string };

function scriptedTarget(hostPorts: number[], answer: (c: Call) => Answer | Promise<Answer>, spec: Partial<SshTargetSpec> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-ssh-unit-'));
  const calls: Call[] = [];
  const runner: Runner = {
    run: async (argv) => {
      expect(argv[0]).toBe('ssh');
      expect(argv.at(-2)).toBe('--');
      const call = { port: Number(argv[argv.indexOf('-p') + 1]), remote: unquote(argv.at(-1)!) };
      calls.push(call);
      const a = await answer(call);
      return { argv, exitCode: a.exitCode ?? 0, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
    },
  };
  const make = () =>
    new SshTarget({
      envName: 'production',
      spec: { type: 'ssh', files: ['docker-compose.yml'], cli: 'docker-compose', versionVariable: 'TAG', build: true, pull: false, keepReleases: 5, hosts: hostPorts.map((port) => ({ host: '127.0.0.1', port, user: 'root', keyFile: '/k/id' })), dir: '/opt/trading_platform', remote: 'origin', parallelism: 1, profiles: [], images: { tag: '{version}' }, allowFloatingImages: false, dependencies: [], ...spec } as SshTargetSpec,
      projectName: 'trading',
      layout: sshLayout(path.join(dir, '.shipgate')),
      runner,
    });
  const state = () => JSON.parse(readFileSync(path.join(dir, '.shipgate', 'ssh', 'production.json'), 'utf8')) as SshEnvState;
  return { target: make(), make, calls, state, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const CONFIG = 'services:\n  web:\n    build: .\n    image: t/web:${TAG}\n    stop_grace_period: 3s\n';
const normal = (c: Call) => {
  const sub = c.remote.find((a) => ['config', 'ls', 'version', 'ps'].includes(a));
  if (sub === 'config') return { stdout: CONFIG.replace('${TAG}', c.remote.find((a) => a.startsWith('TAG='))!.slice(4)) };
  return {};
};
const isUp = (c: Call) => c.remote.includes('up');
const tagOf = (c: Call) => c.remote.find((a) => a.startsWith('TAG='))?.slice(4);

describe('ssh target with a scripted runner', () => {
  it('prepares each host: fetch, checkout by SHA, then builds only missing images, with TAG and ports through env', async () => {
    const t = scriptedTarget([2201], normal);
    try {
      await t.target.prepare(release('v1', SHA1));
      expect(t.calls.map((c) => c.remote)).toEqual([
        ['git', '-C', '/opt/trading_platform', 'fetch', 'origin', '--tags', '--force'],
        ['git', '-C', '/opt/trading_platform', 'checkout', '--detach', '--force', SHA1],
        ['env', 'TRADING_MODE=paper', 'WEB_PORT=8080', 'SHIPGATE_ENV=production', 'SHIPGATE_VERSION=v1', 'TAG=v1', 'docker-compose', '-f', '/opt/trading_platform/docker-compose.yml', '-p', 'trading_production', 'config'],
        ['docker', 'image', 'ls', '--filter', 'reference=t/web:v1', '--format', '{{.Repository}}:{{.Tag}}'],
        ['env', 'TRADING_MODE=paper', 'WEB_PORT=8080', 'SHIPGATE_ENV=production', 'SHIPGATE_VERSION=v1', 'TAG=v1', 'docker-compose', '-f', '/opt/trading_platform/docker-compose.yml', '-p', 'trading_production', 'build', 'web'],
      ]);
      // Secrets named in passEnv never travel on a remote command line.
      expect(JSON.stringify(t.calls)).not.toContain('BROKER_KEY');
    } finally {
      t.cleanup();
    }
  });

  it('passes target.dockerHost to every compose and docker command; skips the build when the images exist', async () => {
    const t = scriptedTarget([2201], (c) => (c.remote.includes('ls') ? { stdout: 't/web:v1\n' } : normal(c)), { dockerHost: 'unix:///run/other.sock' });
    try {
      await t.target.prepare(release('v1', SHA1));
      expect(t.calls.map((c) => c.remote.slice(0, 2))).toEqual([['git', '-C'], ['git', '-C'], ['env', 'TRADING_MODE=paper'], ['env', 'DOCKER_HOST=unix:///run/other.sock']]);
      expect(t.calls[2]!.remote).toContain('DOCKER_HOST=unix:///run/other.sock');
    } finally {
      t.cleanup();
    }
  });

  it('says what to do when a host has no checkout, or its remote lacks the release', async () => {
    for (const [stderr, hint] of [
      ["fatal: cannot change to '/opt/trading_platform': No such file or directory", '127.0.0.1:2201 has no checkout at /opt/trading_platform: clone'],
      [`fatal: reference is not a tree: ${SHA2}`, 'push the tag to the repository that remote points at'],
    ] as const) {
      const t = scriptedTarget([2201], (c) => (c.remote[3] === (stderr.includes('tree') ? 'checkout' : 'fetch') ? { exitCode: 128, stderr } : normal(c)));
      try {
        const err = (await t.target.prepare(release('v2', SHA2)).catch((e: unknown) => e)) as ShipgateError;
        expect(err.message).toContain(`on host 127.0.0.1:2201: \`git -C /opt/trading_platform ${stderr.includes('tree') ? 'checkout' : 'fetch'}`);
        expect(err.message).toContain(stderr);
        expect(err.hint).toContain(hint);
      } finally {
        t.cleanup();
      }
    }
  });

  it('goes host by host; when host B fails to start the release, host A is returned to the previous one and the error names B', async () => {
    let breakB = false;
    const t = scriptedTarget([2201, 2202], (c) => (breakB && c.port === 2202 && isUp(c) && tagOf(c) === 'v2' ? { exitCode: 1, stderr: 'ERROR: for web  Cannot create container: bind source path does not exist: /data' } : normal(c)));
    try {
      await t.target.up(release('v1', SHA1));
      expect(t.calls.filter(isUp).map((c) => [c.port, tagOf(c)])).toEqual([[2201, 'v1'], [2202, 'v1']]);
      t.calls.length = 0;
      breakB = true;
      const err = (await t.target.up(release('v2', SHA2)).catch((e: unknown) => e)) as ShipgateError;
      expect(err).toBeInstanceOf(ShipgateError);
      expect(err.message).toMatch(/^rollout of v2 stopped at host 127\.0\.0\.1:2202: on host 127\.0\.0\.1:2202: `TAG=v2 docker-compose .* up -d --remove-orphans --no-build` failed \(exit 1\): ERROR: for web {2}Cannot create container: bind source path does not exist/);
      expect(err.message).toContain('Done before the failure: 127.0.0.1:2201.');
      expect(err.message).toContain('Returned to the release they ran before: 127.0.0.1:2201 (v1), 127.0.0.1:2202 (v1).');
      expect(err.data).toMatchObject({ host: '127.0.0.1:2202', failed: ['127.0.0.1:2202'], done: ['127.0.0.1:2201'], notReached: [] });
      // A: checkout v2, up v2; B: checkout v2, up v2 (fails); then A and B: checkout v1, up v1, never a build.
      expect(t.calls.filter((c) => c.remote.includes('checkout') || isUp(c)).map((c) => [c.port, c.remote.includes('checkout') ? c.remote.at(-1) : `up ${tagOf(c)}`])).toEqual([
        [2201, SHA2], [2201, 'up v2'], [2202, SHA2], [2202, 'up v2'],
        [2201, SHA1], [2201, 'up v1'], [2202, SHA1], [2202, 'up v1'],
      ]);
      expect(t.calls.some((c) => c.remote.includes('build'))).toBe(false);
      const state = t.state();
      expect(state.rollout).toBeUndefined();
      expect(Object.fromEntries(Object.entries(state.hosts).map(([h, s]) => [h, [s.version, s.commit, s.running]]))).toEqual({ '127.0.0.1:2201': ['v1', SHA1, true], '127.0.0.1:2202': ['v1', SHA1, true] });
      expect(state.hosts['127.0.0.1:2202']!.lastError).toMatchObject({ op: 'up' });
    } finally {
      t.cleanup();
    }
  });

  it('a lost connection (ssh exit 255) fails the step naming the host, and stops the rollout there', async () => {
    let down = false;
    const t = scriptedTarget([2201, 2202, 2203], (c) => (down && c.port === 2202 ? { exitCode: 255, stderr: 'ssh: connect to host 127.0.0.1 port 2202: Connection refused\r\n' } : normal(c)));
    try {
      await t.target.up(release('v1', SHA1));
      down = true;
      t.calls.length = 0;
      const err = (await t.target.prepare(release('v2', SHA2)).catch((e: unknown) => e)) as ShipgateError;
      expect(err.exitCode).toBe(1);
      expect(err.message).toMatch(/^prepare of v2 stopped at host 127\.0\.0\.1:2202: ssh to host 127\.0\.0\.1:2202 failed \(exit 255: connection refused, lost or not allowed\) running `git -C \/opt\/trading_platform fetch origin --tags --force`: ssh: connect to host 127\.0\.0\.1 port 2202: Connection refused/);
      expect(err.message).toContain('Not reached: 127.0.0.1:2203.');
      expect(err.message).toContain('Nothing running was changed');
      expect(err.hint).toContain('ssh -i /k/id -p 2202 root@127.0.0.1 true');
      expect([...new Set(t.calls.map((c) => c.port))]).toEqual([2201, 2202]);

      // up with B unreachable: A moved and is returned; B cannot be; C is returned to what it ran.
      t.calls.length = 0;
      const upErr = (await t.target.up(release('v2', SHA2)).catch((e: unknown) => e)) as ShipgateError;
      expect(upErr.message).toContain('rollout of v2 stopped at host 127.0.0.1:2202: ssh to host 127.0.0.1:2202 failed (exit 255');
      expect(upErr.message).toContain('Returned to the release they ran before: 127.0.0.1:2201 (v1), 127.0.0.1:2203 (v1).');
      expect(upErr.message).toMatch(/Could not be returned: 127\.0\.0\.1:2202 \(ssh to host 127\.0\.0\.1:2202 failed/);
      expect(t.calls.filter(isUp).map((c) => [c.port, tagOf(c)])).toEqual([[2201, 'v2'], [2201, 'v1'], [2203, 'v1']]);

      // ps leaves out what it cannot ask; status stays usable while a host is down.
      expect(await t.target.ps('production')).toEqual([]);
    } finally {
      t.cleanup();
    }
  });

  it('a resumed rollout returns hosts to what they ran before its first attempt, not to the new release', async () => {
    let mode: 'ok' | 'hang' | 'fail' = 'ok';
    const t = scriptedTarget([2201, 2202], (c) => {
      if (c.port === 2202 && isUp(c) && tagOf(c) === 'v2') {
        if (mode === 'hang') return new Promise<never>(() => undefined);
        if (mode === 'fail') return { exitCode: 1, stderr: 'boom' };
      }
      return normal(c);
    });
    try {
      await t.target.up(release('v1', SHA1));
      mode = 'hang';
      // The first attempt "dies" while B starts: A already runs v2, the rollout record remains.
      void t.target.up(release('v2', SHA2));
      await new Promise((r) => setTimeout(r, 100));
      expect(t.state().rollout).toMatchObject({ version: 'v2', before: { '127.0.0.1:2201': { version: 'v1' }, '127.0.0.1:2202': { version: 'v1' } } });
      expect(t.state().hosts['127.0.0.1:2201']!.version).toBe('v2');
      mode = 'fail';
      t.calls.length = 0;
      await expect(t.make().up(release('v2', SHA2))).rejects.toThrow('Returned to the release they ran before: 127.0.0.1:2201 (v1), 127.0.0.1:2202 (v1).');
      expect(t.state().hosts['127.0.0.1:2201']!.version).toBe('v1');
    } finally {
      t.cleanup();
    }
  });

  it('a rollback (kind: rollback) that fails half-way is not undone: reached hosts stay on the earlier release', async () => {
    let breakB = false;
    const t = scriptedTarget([2201, 2202], (c) => (breakB && c.port === 2202 && isUp(c) ? { exitCode: 1, stderr: 'no' } : normal(c)));
    try {
      await t.target.up(release('v1', SHA1));
      await t.target.up(release('v2', SHA2));
      breakB = true;
      t.calls.length = 0;
      await expect(t.target.up(Object.assign(release('v1', SHA1), { kind: 'rollback' }))).rejects.toThrow('This is a rollback: the hosts it reached stay on the release it returns to.');
      expect(t.calls.filter(isUp).map((c) => [c.port, tagOf(c)])).toEqual([[2201, 'v1'], [2202, 'v1']]);
      expect(t.state().hosts['127.0.0.1:2201']!.version).toBe('v1');
    } finally {
      t.cleanup();
    }
  });

  it('parallelism 2 starts two hosts at once and stops before the next batch when one fails', async () => {
    const started: number[] = [];
    const t = scriptedTarget(
      [2201, 2202, 2203],
      async (c) => {
        if (isUp(c)) {
          started.push(c.port);
          await new Promise((r) => setTimeout(r, 30));
          if (c.port === 2201) return { exitCode: 1, stderr: 'no' };
        }
        return normal(c);
      },
      { parallelism: 2 },
    );
    try {
      const err = (await t.target.up(release('v1', SHA1)).catch((e: unknown) => e)) as ShipgateError;
      expect(started).toEqual([2201, 2202]);
      expect(err.data).toMatchObject({ failed: ['127.0.0.1:2201'], done: ['127.0.0.1:2202'], notReached: ['127.0.0.1:2203'] });
    } finally {
      t.cleanup();
    }
  });

  it('down stops by label on every host; ps and logs name the host', async () => {
    const inspect = JSON.stringify([{ Id: 'c1', Name: '/trading_production_web_1', Config: { Image: 't/web:v1', Labels: { 'com.docker.compose.service': 'web' } }, State: { Status: 'running', Running: true, Pid: 7, StartedAt: '2026-01-01T00:00:00Z' } }]);
    const t = scriptedTarget([2201, 2202], (c) => {
      if (c.remote[1] === 'ps') return { stdout: 'c1\n' };
      if (c.remote[1] === 'inspect') return { stdout: inspect };
      if (c.remote.includes('logs')) return { stdout: 'line one\nline two\n' };
      if (c.remote[1] === 'network') return { stdout: '' };
      return normal(c);
    });
    try {
      await t.target.prepare(release('v1', SHA1));
      await t.target.up(release('v1', SHA1));
      const ps = await t.target.ps('production');
      expect(ps.map((s) => [s.host, s.service, s.state, s.version, s.port])).toEqual([['127.0.0.1:2201', 'web', 'running', 'v1', 8080], ['127.0.0.1:2202', 'web', 'running', 'v1', 8080]]);
      const logs = await t.target.logs('production', 'web', 10);
      expect(logs).toEqual([{ service: 'web', lines: ['---- shipgate: web v1 started at 2026-01-01T00:00:00Z', '127.0.0.1:2201 | line one', '127.0.0.1:2201 | line two', '127.0.0.1:2202 | line one', '127.0.0.1:2202 | line two'] }]);
      t.calls.length = 0;
      await t.target.down('production');
      expect(t.calls.map((c) => [c.port, c.remote.slice(0, 3).join(' ')])).toEqual([
        [2201, 'docker ps -q'], [2201, 'docker stop -t'], [2201, 'docker ps -a'], [2201, 'docker rm --force'], [2201, 'docker network ls'],
        [2202, 'docker ps -q'], [2202, 'docker stop -t'], [2202, 'docker ps -a'], [2202, 'docker rm --force'], [2202, 'docker network ls'],
      ]);
      expect(t.calls[1]!.remote).toEqual(['docker', 'stop', '-t', '3', 'c1']);
      expect(Object.values(t.state().hosts).map((h) => [h.version, h.running])).toEqual([['v1', false], ['v1', false]]);
    } finally {
      t.cleanup();
    }
  });

  it('verifyImages (health.version: ignore): every host\'s container must run the image the release\'s compose config names there', async () => {
    const container = (image: string) => JSON.stringify([{ Id: 'c1', Name: '/trading_production_web_1', Config: { Image: image, Labels: { 'com.docker.compose.service': 'web' } }, State: { Status: 'running', Running: true, Pid: 7, StartedAt: '2026-01-01T00:00:00Z' } }]);
    let onB = 't/web:v2';
    const t = scriptedTarget([2201, 2202], (c) => {
      if (c.remote[1] === 'ps') return { stdout: 'c1\n' };
      if (c.remote[1] === 'inspect') return { stdout: container(c.port === 2202 ? onB : 't/web:v2') };
      return normal(c);
    });
    try {
      await t.target.up(release('v2', SHA2));
      t.calls.length = 0;
      expect(await t.target.verifyImages(release('v2', SHA2), ['web'])).toEqual([{ service: 'web', ok: true, detail: '2/2 hosts: 127.0.0.1:2201: web runs t/web:v2; 127.0.0.1:2202: web runs t/web:v2' }]);
      // The release's image is read from compose config on each host, with the release's TAG.
      expect(t.calls.filter((c) => c.remote.includes('config')).map((c) => [c.port, tagOf(c)])).toEqual([[2201, 'v2'], [2202, 'v2']]);

      onB = 't/web:v1';
      expect(await t.target.verifyImages(release('v2', SHA2), ['web'])).toEqual([{ service: 'web', ok: false, detail: "127.0.0.1:2202: web runs t/web:v1, not the release's t/web:v2" }]);
    } finally {
      t.cleanup();
    }
    // A host that cannot be asked is not verified.
    const down = scriptedTarget([2201], (c) => (c.remote.includes('config') ? { exitCode: 255, stderr: 'ssh: connect to host 127.0.0.1 port 2201: Connection refused' } : normal(c)));
    try {
      const [check] = await down.target.verifyImages(release('v2', SHA2), ['web']);
      expect(check).toMatchObject({ service: 'web', ok: false });
      expect(check!.detail).toMatch(/^127\.0\.0\.1:2201: not checked: ssh to host 127\.0\.0\.1:2201 failed \(exit 255/);
    } finally {
      down.cleanup();
    }
  });
});

// ---- real sshd on loopback

describe('ssh over a real sshd on loopback', () => {
  let tmp: string;
  let key: ClientKey;
  let server: SshdServer;
  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sg-sshd-'));
    key = makeClientKey(path.join(tmp, 'client'));
    server = await startSshd({ dir: path.join(tmp, 'server'), clientKey: key, setEnv: { SHIPGATE_TEST_HOST: 'alpha' } });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('hostile arguments and variables arrive at the remote command as literal arguments', async () => {
    const canary = path.join(tmp, 'canary');
    mkdirSync(canary);
    const knownHosts = path.join(tmp, 'state', 'known_hosts');
    mkdirSync(path.dirname(knownHosts));
    const args = hostile(canary);
    const res = await localRunner.run(sshArgv(server.endpoint, knownHosts, ['printf', '%s\\0', ...args]));
    expect(res.exitCode, res.stderr).toBe(0);
    expect(nulSplit(res.stdout)).toEqual(args);
    const value = `$(touch ${canary}/env) \`touch ${canary}/env2\` '"; touch ${canary}/env3`;
    const env = await localRunner.run(sshArgv(server.endpoint, knownHosts, withEnv({ HOSTILE: value }, ['printenv', 'HOSTILE', 'SHIPGATE_TEST_HOST'])));
    expect(env.stdout).toBe(`${value}\nalpha\n`);
    expect(execFileSync('ls', ['-A', canary], { encoding: 'utf8' })).toBe('');
    // accept-new pinned the host key on first contact, in shipgate's own file.
    expect(execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${server.port}`, '-f', knownHosts], { encoding: 'utf8' })).toContain('ssh-ed25519');
  });

  it('a key file in a directory with a space logs in (the path is one argv element, unquoted)', async () => {
    const spaced = path.join(tmp, 'my keys');
    mkdirSync(spaced, { recursive: true, mode: 0o700 });
    const keyFile = path.join(spaced, 'id ed25519');
    writeFileSync(keyFile, readFileSync(key.keyFile), { mode: 0o600 });
    const knownHosts = path.join(tmp, 'state', 'known_hosts');
    mkdirSync(path.dirname(knownHosts), { recursive: true });
    const res = await localRunner.run(sshArgv({ ...server.endpoint, keyFile }, knownHosts, ['printenv', 'SHIPGATE_TEST_HOST']));
    expect(res.stderr).not.toMatch(/no such identity|Permission denied/i);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toBe('alpha\n');
  });

  it('runs every remote command of a session over one connection per host, and closes it when the command ends', async () => {
    const stateDir = path.join(tmp, 'mux state');
    const connections = new OpenConnections();
    const muxDir = controlDirectory(stateDir, os.tmpdir(), process.getuid!());
    const session = new SshSession({
      envName: 'production',
      spec: { type: 'ssh', hosts: [server.endpoint], dir: '/opt/app', remote: 'origin', parallelism: 1 } as unknown as SshTargetSpec,
      projectName: 'mux',
      layout: sshLayout(stateDir),
      runner: streamingRunner,
      multiplex: { connections, dir: muxDir },
    });
    const accepted = () => (readFileSync(server.logFile, 'utf8').match(/Accepted publickey for root/g) ?? []).length;
    const before = accepted();
    const h = session.hosts[0]!;
    for (let i = 0; i < 5; i++) {
      const res = await session.run('production', h, ['printf', '%s', `run ${i}`], { display: 'printf', timeoutMs: 30_000 });
      expect(res.exitCode, res.stderr).toBe(0);
      expect(res.stdout).toBe(`run ${i}`);
    }
    // A failing remote command keeps its own exit status over the shared connection.
    expect((await session.run('production', h, ['sh', '-c', 'exit 7'], { display: 'exit 7', timeoutMs: 30_000 })).exitCode).toBe(7);
    expect(accepted() - before).toBe(1);
    // The socket sits in a directory only this user can enter.
    const socket = path.join(muxDir, controlSocketName(server.endpoint));
    expect(existsSync(socket)).toBe(true);
    expect(statSync(muxDir).mode & 0o777).toBe(0o700);
    expect(connections.size).toBe(1);
    await connections.closeAll();
    const check = await localRunner.run(['ssh', '-o', `ControlPath=${socket}`, '-O', 'check', '-p', String(server.port), 'root@127.0.0.1']);
    expect(check.exitCode).toBe(255);
    expect(existsSync(socket)).toBe(false);
    // The next command connects anew (and becomes the master again), then is closed too.
    const again = new OpenConnections();
    const next = new SshSession({ ...session.o, multiplex: { connections: again, dir: muxDir } });
    expect((await next.run('production', h, ['true'], { display: 'true', timeoutMs: 30_000 })).exitCode).toBe(0);
    expect(accepted() - before).toBe(2);
    await again.closeAll();
    expect(existsSync(socket)).toBe(false);
  });

  it('a stopped sshd is exit 255, and the same server (same host key) answers again after a restart', async () => {
    const knownHosts = path.join(tmp, 'state', 'known_hosts');
    await server.stop();
    const res = await localRunner.run(sshArgv(server.endpoint, knownHosts, ['true']));
    expect(res.exitCode).toBe(255);
    expect(res.stderr).toMatch(/Connection refused/);
    await server.start();
    expect((await localRunner.run(sshArgv(server.endpoint, knownHosts, ['true']))).exitCode).toBe(0);
  });
});

// ---- the production story: real sshd, real git, real docker-compose, private engines

async function healthVersion(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) });
    return ((await res.json()) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', '-c', 'init.defaultBranch=main', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x.invalid', GIT_CONFIG_NOSYSTEM: '1' },
  }).trim();

describe('deploys over ssh with docker-compose on the host', { timeout: scaled(300_000) }, () => {
  let docker: DockerHarness;
  let tmp: string;
  let key: ClientKey;
  beforeAll(async () => {
    docker = await startDocker();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'sg-ssh-story-'));
    key = makeClientKey(path.join(tmp, 'client'));
  }, scaled(180_000));
  afterAll(async () => {
    await docker?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, scaled(120_000));

  describe('one host (the runbook: ssh prod-server; cd /opt/trading_platform; git fetch && git checkout; build; up -d)', () => {
    let ws: StackWorkspace;
    let server: SshdServer;
    let ports: StackWorkspace['ports'][string];
    let checkout: string;
    const cli = (args: string[]) => shipgate(args, { cwd: ws.dir, timeoutMs: 240_000 });
    const commands = () => readFileSync(path.join(ws.dir, '.shipgate', 'ssh', 'production.commands.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { host?: string; cmd?: string; note?: string; exitCode?: number });

    beforeAll(async () => {
      server = await startSshd({ dir: path.join(tmp, 'hostA', 'sshd'), clientKey: key });
      checkout = path.join(tmp, 'hostA', 'opt', 'trading_platform');
      ws = await stackWorkspace(['production'], ['v1.0.0', 'v1.1.0'], {
        healthTimeout: '20s',
        patch: (yaml) =>
          yaml
            .replace(
              'target: { type: process }',
              `target: { type: ssh, cli: docker-compose, dockerHost: ${JSON.stringify(docker.host)}, dir: ${JSON.stringify(checkout)}, hosts: [{ host: 127.0.0.1, port: ${server.port}, user: root, keyFile: ${JSON.stringify(key.keyFile)} }] }`,
            )
            // As if the orchestrator reported a fixed package version: its image is verified instead.
            .replace(/( {2}orchestrator:\n {4}command: [^\n]+\n {4})health: (\S+)/, '$1health: { url: "$2", version: ignore }'),
      });
      if (!readFileSync(path.join(ws.dir, 'shipgate.yml'), 'utf8').includes('version: ignore')) throw new Error('the demo config changed: update the orchestrator health patch');
      ports = ws.ports.production!;
      // The host's checkout: a clone whose origin is the release repository (tags come by fetch).
      mkdirSync(path.dirname(checkout), { recursive: true });
      git(tmp, 'clone', '--quiet', '--no-checkout', ws.repoDir, checkout);
    }, scaled(120_000));
    afterAll(async () => {
      await server?.stop();
      await ws?.cleanup();
    }, scaled(120_000));

    it('deploy production --version v1.0.0 fetches, checks out by SHA, builds and starts it over ssh; health answers v1.0.0', async () => {
      const res = await cli(['deploy', 'production', '--version', 'v1.0.0', '--json']);
      expect(res.code, res.stdout + res.stderr).toBe(0);
      expect(res.json()).toMatchObject({ ok: true, kind: 'deploy', version: 'v1.0.0' });
      for (const port of [ports.signal, ports.gateway, ports.orchestrator]) expect(await healthVersion(port)).toBe('v1.0.0');
      const sha = git(ws.repoDir, 'rev-parse', 'v1.0.0^{commit}');
      expect(git(checkout, 'rev-parse', 'HEAD')).toBe(sha);
      const label = `127.0.0.1:${server.port}`;
      // health.version ignore: the deploy says so, and checked the image on the host instead.
      expect(res.json().health.notes).toEqual([`orchestrator: version not reported (health.version: ignore); image verified: 1/1 hosts: ${label}: orchestrator runs shipgate-demo/orchestrator:v1.0.0`]);
      const ran = commands().filter((c) => c.cmd).map((c) => `${c.host} ${c.cmd}`);
      const files = `-f ${checkout}/docker-compose.yml -p sample_trading_platform_production`;
      expect(ran).toEqual(expect.arrayContaining([
        `${label} git -C ${checkout} fetch origin --tags --force`,
        `${label} git -C ${checkout} checkout --detach --force ${sha}`,
        `${label} TAG=v1.0.0 docker-compose ${files} build execution_gateway orchestrator signal_service`,
        `${label} TAG=v1.0.0 docker-compose ${files} up -d --remove-orphans --no-build`,
      ]));
      // The build's output came back, host-prefixed, into the output log.
      expect(readFileSync(path.join(ws.dir, '.shipgate', 'ssh', 'production.output.log'), 'utf8')).toMatch(new RegExp(`${label.replaceAll('.', '\\.')} \\| .*(Successfully built|Successfully tagged|Step 1/)`));

      const status = (await cli(['status', '--env', 'production', '--json'])).json().environments[0];
      expect(status.currentVersion).toBe('v1.0.0');
      expect(status.services.map((s: any) => [s.service, s.process, s.healthy, s.version])).toEqual([
        ['signal_service', 'running', true, 'v1.0.0'],
        ['execution_gateway', 'running', true, 'v1.0.0'],
        ['orchestrator', 'running', true, 'v1.0.0'],
      ]);
      const logs = (await cli(['logs', 'production', 'execution_gateway', '--tail', '20', '--json'])).json().logs[0].lines as string[];
      expect(logs.some((l) => l.startsWith(`${label} | `) && l.includes('listening on http://127.0.0.1:'))).toBe(true);
    });

    it('deploys v1.1.0, then `rollback` brings v1.0.0 back from its images without a rebuild', async () => {
      const ok = await cli(['deploy', 'production', '--version', 'v1.1.0', '--json']);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      for (const port of [ports.signal, ports.gateway, ports.orchestrator]) expect(await healthVersion(port)).toBe('v1.1.0');
      const mark = commands().length;
      const rb = await cli(['rollback', 'production', '--reason', 'drill', '--json']);
      expect(rb.code, rb.stdout + rb.stderr).toBe(0);
      expect(rb.json()).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0', fromVersion: 'v1.1.0' });
      for (const port of [ports.signal, ports.gateway, ports.orchestrator]) expect(await healthVersion(port)).toBe('v1.0.0');
      const since = commands().slice(mark);
      expect(since.filter((c) => / (build|pull)\b/.test(c.cmd ?? ''))).toEqual([]);
      expect(since.map((c) => c.note)).toContain(`127.0.0.1:${server.port}: images of v1.0.0 exist: build skipped`);
    });

    it('with the host unreachable the deploy fails at its first remote step naming the host; status shows it; once sshd is back, deploying again finishes', async () => {
      await server.stop();
      // v1.1.0 was rolled back by the drill above (marked bad): deploying it again is stated.
      const res = await cli(['deploy', 'production', '--version', 'v1.1.0', '--allow-bad', '--reason', 'rolled back only as a drill', '--json']);
      expect(res.code).toBe(1);
      const out = res.json();
      expect(out).toMatchObject({ ok: false, version: 'v1.1.0', failedStep: 'prepare-release' });
      expect(out.error).toContain(`stopped at host 127.0.0.1:${server.port}: ssh to host 127.0.0.1:${server.port} failed (exit 255`);
      expect(out.error).toContain('Connection refused');
      expect(out.rollback).toBeUndefined(); // prepare touches nothing that runs
      expect(await healthVersion(ports.gateway)).toBe('v1.0.0');

      const status = await cli(['status', '--env', 'production', '--json']);
      expect(status.code, status.stderr).toBe(0);
      const env = status.json().environments[0];
      expect(env.currentVersion).toBe('v1.0.0');
      expect(env.deployment).toMatchObject({ version: 'v1.1.0', state: 'failed', lastStep: 'prepare-release (failed)' });
      expect(env.deployment.error).toContain(`host 127.0.0.1:${server.port}`);

      // A failed deployment is finished (not interrupted): --resume says so, a new deploy finishes the job.
      const resume = await cli(['deploy', 'production', '--resume', '--json']);
      expect(resume.code).toBe(2);
      await server.start();
      const again = await cli(['deploy', 'production', '--version', 'v1.1.0', '--allow-bad', '--reason', 'rolled back only as a drill', '--json']);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      for (const port of [ports.signal, ports.gateway, ports.orchestrator]) expect(await healthVersion(port)).toBe('v1.1.0');
    });
  });

  describe('two hosts, each with its own checkout at the same path and its own engine', () => {
    let engineB: LocalEngine;
    let hostA: SshdServer;
    let hostB: SshdServer;
    let dir: string;
    let repo: string;
    let portA: number;
    let portB: number;
    // The CLI's budget is proportional to how long this machine took for the first deploy (the
    // failure story does that work about three times over: v1.1.0 on A and B, both back to
    // v1.0.0, then the pipeline's rollback); the test timeout only stops a hang, well above it.
    let firstDeployMs = 60_000;
    const budget = () => Math.max(240_000, 6 * firstDeployMs);
    const cli = (args: string[]) => shipgate(args, { cwd: dir, timeoutMs: budget() });
    const commands = () => readFileSync(path.join(dir, '.shipgate', 'ssh', 'production.commands.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { host?: string; cmd?: string; note?: string });

    beforeAll(async () => {
      dir = path.join(tmp, 'two');
      repo = path.join(dir, 'repo');
      mkdirSync(repo, { recursive: true });
      // A tiny stack whose port comes from the host's own environment: on one machine both hosts
      // share the network, so they cannot listen on the same port as real hosts would.
      writeFileSync(path.join(repo, 'web.mjs'), TINY_WEB);
      writeFileSync(path.join(repo, 'Dockerfile'), 'ARG BASE_IMAGE=shipgate-node-base:local\nFROM ${BASE_IMAGE}\nWORKDIR /app\nCOPY . /app\nCMD ["node", "web.mjs"]\n');
      writeFileSync(path.join(repo, 'docker-compose.yml'), TINY_COMPOSE);
      writeFileSync(path.join(repo, 'VERSION'), 'v1.0.0\n');
      git(repo, 'init', '--quiet');
      git(repo, 'add', '-A');
      git(repo, 'commit', '--quiet', '-m', 'v1.0.0');
      git(repo, 'tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
      // v1.1.0 reads a data dir each host provides; host B lacks it, so B cannot start v1.1.0.
      writeFileSync(path.join(repo, 'docker-compose.yml'), `${TINY_COMPOSE}    volumes:\n      - type: bind\n        source: \${HOST_DATA_DIR:?the host sets its data dir}\n        target: /data\n        read_only: true\n`);
      writeFileSync(path.join(repo, 'VERSION'), 'v1.1.0\n');
      git(repo, 'commit', '--quiet', '-am', 'v1.1.0');
      git(repo, 'tag', '-a', 'v1.1.0', '-m', 'v1.1.0');

      engineB = await startLocalEngine();
      await importNodeBaseImage(engineB);
      [portA, portB] = (await freePorts(2)) as [number, number];
      // Every host has its checkout at the same path, /…/remote/opt/tiny: each sshd sees its own
      // host dir there (a bind mount in its own mount namespace), like two machines would.
      const shared = path.join(dir, 'remote', 'opt');
      mkdirSync(shared, { recursive: true });
      for (const h of ['A', 'B']) {
        mkdirSync(path.join(dir, `host${h}`, 'opt'), { recursive: true });
        git(dir, 'clone', '--quiet', '--no-checkout', repo, path.join(dir, `host${h}`, 'opt', 'tiny'));
      }
      mkdirSync(path.join(dir, 'hostA', 'data'));
      hostA = await startSshd({ dir: path.join(dir, 'hostA', 'sshd'), clientKey: key, bind: { source: path.join(dir, 'hostA', 'opt'), target: shared }, setEnv: { DOCKER_HOST: docker.host, HOST_WEB_PORT: String(portA), HOST_DATA_DIR: path.join(dir, 'hostA', 'data') } });
      hostB = await startSshd({ dir: path.join(dir, 'hostB', 'sshd'), clientKey: key, bind: { source: path.join(dir, 'hostB', 'opt'), target: shared }, setEnv: { DOCKER_HOST: engineB.host, HOST_WEB_PORT: String(portB), HOST_DATA_DIR: path.join(dir, 'hostB', 'no-such-dir') } });
      const host = (s: SshdServer) => `{ host: 127.0.0.1, port: ${s.port}, user: root, keyFile: ${JSON.stringify(key.keyFile)} }`;
      writeFileSync(
        path.join(dir, 'shipgate.yml'),
        `version: 1
project: tiny
repository: ${JSON.stringify(repo)}
stateDir: .shipgate
services:
  web:
    command: [node, web.mjs]
    health: http://127.0.0.1:${portA}/health
environments:
  production:
    target:
      type: ssh
      cli: docker-compose
      dir: ${JSON.stringify(path.join(shared, 'tiny'))}
      hosts: [${host(hostA)}, ${host(hostB)}]
    health: { timeout: ${scaledSeconds('20s')}, interval: 250ms }
`,
      );
    }, scaled(180_000));
    afterAll(async () => {
      await hostA?.stop();
      await hostB?.stop();
      await engineB?.stop();
    }, scaled(120_000));

    it('deploy goes host by host: each host checks out, builds on its engine and starts v1.0.0', async () => {
      const started = Date.now();
      const res = await cli(['deploy', 'production', '--version', 'v1.0.0', '--json']);
      firstDeployMs = Date.now() - started;
      expect(res.code, res.stdout + res.stderr).toBe(0);
      expect(await healthVersion(portA)).toBe('v1.0.0');
      expect(await healthVersion(portB)).toBe('v1.0.0');
      const sha = git(repo, 'rev-parse', 'v1.0.0^{commit}');
      for (const h of ['A', 'B']) expect(git(path.join(dir, `host${h}`, 'opt', 'tiny'), 'rev-parse', 'HEAD')).toBe(sha);
      expect(existsSync(path.join(dir, 'remote', 'opt', 'tiny'))).toBe(false); // only the hosts see it there
      const [a, b] = [`127.0.0.1:${hostA.port}`, `127.0.0.1:${hostB.port}`];
      const order = commands().filter((c) => c.cmd && / (fetch|build|up) /.test(`${c.cmd} `)).map((c) => `${c.host === a ? 'A' : 'B'} ${/ (fetch|build|up) /.exec(`${c.cmd} `)![1]}`);
      expect(order).toEqual(['A fetch', 'A build', 'B fetch', 'B build', 'A up', 'B up']);
      expect((await docker.docker(['ps', '--format', '{{.Names}}'])).split('\n')).toContain('tiny_production_web_1');
      expect((await engineB.docker(['ps', '--format', '{{.Names}}'])).split('\n')).toContain('tiny_production_web_1');
      const ps = (await cli(['status', '--env', 'production', '--json'])).json().environments[0];
      expect(ps.services).toMatchObject([{ service: 'web', process: 'running', healthy: true, version: 'v1.0.0' }]);
      expect(commands().filter((c) => c.host === b).length).toBeGreaterThan(0);
    }, scaled(900_000));

    it('host B cannot start v1.1.0: the deploy fails naming B, host A is back on v1.0.0, and so is B', async () => {
      const res = await cli(['deploy', 'production', '--version', 'v1.1.0', '--json']);
      expect(res.code).toBe(1);
      const out = res.json();
      const [a, b] = [`127.0.0.1:${hostA.port}`, `127.0.0.1:${hostB.port}`];
      expect(out).toMatchObject({ ok: false, version: 'v1.1.0', failedStep: 'start-new' });
      expect(out.error).toContain(`rollout of v1.1.0 stopped at host ${b}: on host ${b}: \`TAG=v1.1.0 docker-compose`);
      expect(out.error).toMatch(/bind source path does not exist|no such file or directory/i);
      expect(out.error).toContain(`Done before the failure: ${a}.`);
      expect(out.error).toContain(`Returned to the release they ran before: ${a} (v1.0.0), ${b} (v1.0.0).`);
      // The pipeline's own rollback then deploys v1.0.0 on every host again: idempotent, no rebuild.
      expect(out.rollback).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0' });
      expect(await healthVersion(portA)).toBe('v1.0.0');
      expect(await healthVersion(portB)).toBe('v1.0.0');
      const ups = commands().filter((c) => / up -d /.test(c.cmd ?? '')).slice(-6).map((c) => `${c.host === a ? 'A' : 'B'} ${c.cmd!.split(' ')[0]}`);
      // A v1.1.0, B v1.1.0 (fails), A and B returned to v1.0.0, then the rollback's A and B.
      expect(ups).toEqual(['A TAG=v1.1.0', 'B TAG=v1.1.0', 'A TAG=v1.0.0', 'B TAG=v1.0.0', 'A TAG=v1.0.0', 'B TAG=v1.0.0']);
    }, scaled(900_000));
  });
});

const TINY_WEB = `import http from 'node:http';
import { readFileSync } from 'node:fs';
const version = readFileSync(new URL('./VERSION', import.meta.url), 'utf8').trim();
const port = Number(process.env.PORT);
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ status: 'ok', version }));
});
server.listen(port, '127.0.0.1', () => console.log(\`web \${version} listening on http://127.0.0.1:\${port}\`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
`;

const TINY_COMPOSE = `version: "2.4"
services:
  web:
    image: shipgate-tiny/web:\${TAG:?set TAG to the release}
    build: .
    network_mode: host
    environment:
      PORT: \${HOST_WEB_PORT:?the host sets its port}
    stop_grace_period: 2s
`;
