import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { devNull, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portHolder } from '../src/adapters/host/ports.js';
import { isAlive, stopProcess } from '../src/adapters/targets/process/pids.js';
import { freePorts } from '../src/demo/free-port.js';
import { shipgate } from './harness/cli.js';
import { processesUnder, stopEnvironments } from './harness/stop.js';
import { scaled, scaledSeconds } from './harness/pace.js';

const FIXTURE = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'pyshop');
const TOKEN = 'ledger-secret-7f3a9c';
const ENVS = ['paper', 'fresh', 'broken'];

/** A git repo of the Python service: r1 healthy, r2 degraded, r3 reports the wrong build. */
function buildRepo(dir: string): void {
  const env = { ...process.env, GIT_CONFIG_GLOBAL: devNull, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x.invalid' };
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { env, stdio: 'pipe' });
  mkdirSync(dir, { recursive: true });
  git('init', '--quiet');
  copyFileSync(path.join(FIXTURE, 'svc.py'), path.join(dir, 'svc.py'));
  for (const [tag, build, state] of [['r1', 'r1', 'healthy'], ['r2', 'r2', 'degraded'], ['r3', 'r1', 'ok']] as const) {
    writeFileSync(path.join(dir, 'BUILD'), `${build}\n`);
    writeFileSync(path.join(dir, 'STATE'), `${state}\n`);
    git('add', '-A');
    git('commit', '--quiet', '-m', tag);
    git('tag', tag);
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

async function waitFor<T>(what: string, read: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Each step drives the real CLI several times; on a loaded 2-core machine one CLI run can take 20 s.
describe('the health contract, on a Python service unlike the demo', { timeout: scaled(600_000) }, () => {
  let dir: string;
  let ports: number[];
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => shipgate(args, { cwd: dir, env: { LEDGER_TOKEN: TOKEN, ...env }, timeoutMs: 300_000 });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'shipgate-pyshop-'));
    buildRepo(path.join(dir, 'repo'));
    ports = await freePorts(6);
    const [q1, l1, q2, l2, q3, l3] = ports;
    const contract = (version: string) => `
    health:
      url: http://127.0.0.1:{port}/healthz
      status: { field: status, healthy: [healthy, ok] }
      version: ${version}`;
    writeFileSync(path.join(dir, 'shipgate.yml'), `version: 1
project: pyshop
repository: repo
services:
  quotes:
    command: [python3, svc.py, --port, "{port}"]
    port: ${q1}${contract('{ field: build }')}
  ledger:
    command: [python3, svc.py, --port, "{port}"]
    port: ${l1}
    passEnv: [LEDGER_TOKEN]${contract('ignore')}
environments:
  paper:
    health: { timeout: ${scaledSeconds('20s')}, interval: 200ms }
  fresh:
    health: { timeout: 4s, interval: 200ms }
    services:
      quotes: { port: ${q2} }
      ledger: { port: ${l2} }
  broken:
    services:
      quotes: { port: ${q3}, command: [no-such-program-xyz, --port, "{port}"] }
      ledger: { port: ${l3}, command: [./svc.py, --port, "{port}"] }
`);
  });
  afterAll(async () => {
    await stopEnvironments(dir, ENVS);
    rmSync(dir, { recursive: true, force: true });
  });

  it('status field and build field: a release that reports itself in "build" verifies; "version: ignore" passes and says so', async () => {
    const res = await run(['deploy', 'paper', '--version', 'r1', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const out = res.json();
    const quotes = out.health.services.find((s: any) => s.service === 'quotes');
    const ledger = out.health.services.find((s: any) => s.service === 'ledger');
    // The service's package version is 0.1.0; the contract reads the release from "build".
    expect(quotes).toMatchObject({ healthy: true, version: 'r1', versionChecked: true });
    expect(ledger).toMatchObject({ healthy: true, versionChecked: false });
    expect(ledger.reason).toContain('version not checked');
    expect(out.health.notes).toEqual(['ledger: version not checked (health.version: ignore)']);
    const human = await run(['rollback', 'paper', '--to', 'r1', '--reason', 'same again, in words']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('ledger: version not checked');
  });

  it('a 200 whose status field says "degraded" fails verification and returns to r1', async () => {
    const res = await run(['deploy', 'paper', '--version', 'r2', '--json']);
    expect(res.code).toBe(1);
    expect(res.json()).toMatchObject({ ok: false, failedStep: 'verify', rollback: { ok: true, version: 'r1' } });
    expect(res.json().error).toContain('quotes (status is "degraded" (healthy: healthy, ok))');
  });

  it('the release is read from "build": a release reporting the wrong build fails', async () => {
    const res = await run(['deploy', 'paper', '--version', 'r3', '--json']);
    expect(res.code).toBe(1);
    expect(res.json().error).toContain('reports build r1, expected r3');
    expect(res.json().rollback).toMatchObject({ ok: true, version: 'r1' });
  });

  it('passEnv secrets reach the service, also after a restart, and are never written to disk', async () => {
    const ledgerPid = async () => (await run(['status', '--env', 'paper', '--json'])).json().environments[0].services.find((s: any) => s.service === 'ledger').pid as number;
    const environOf = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const first = await ledgerPid();
    expect(environOf(first)).toContain(`LEDGER_TOKEN=${TOKEN}`);
    process.kill(first, 'SIGKILL');
    await waitFor('ledger to die', () => !isAlive(first));
    const healed = await run(['health', 'paper', '--restart-unhealthy', '--json']);
    expect(healed.code, healed.stdout + healed.stderr).toBe(0);
    expect(healed.json().restarted).toEqual(['ledger']);
    const second = await ledgerPid();
    expect(second).not.toBe(first);
    expect(environOf(second)).toContain(`LEDGER_TOKEN=${TOKEN}`);
    const leaks = filesUnder(path.join(dir, '.shipgate')).filter((f) => readFileSync(f).includes(TOKEN));
    expect(leaks).toEqual([]);
    expect(filesUnder(path.join(dir, '.shipgate')).filter((f) => f.endsWith('.env.json'))).toEqual([]);
  });

  it('`stop` stops what shipgate started, audited, and status shows the environment stopped', async () => {
    const before = (await run(['status', '--env', 'paper', '--json'])).json().environments[0];
    const noReason = await run(['stop', 'paper']);
    expect(noReason.code).toBe(2);
    const res = await run(['stop', 'paper', '--reason', 'free the ports', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.json()).toMatchObject({ ok: true, stoppedVersion: 'r1' });
    for (const s of before.services) expect(isAlive(s.pid)).toBe(false);
    expect(processesUnder(path.join(dir, '.shipgate', 'releases', 'paper'))).toEqual([]);
    const after = (await run(['status', '--env', 'paper', '--json'])).json().environments[0];
    expect(after.currentVersion).toBeNull();
    expect(after.deployment).toMatchObject({ kind: 'stop', state: 'succeeded' });
    expect(after.services.every((s: any) => !s.healthy)).toBe(true);
    const human = await run(['status', '--env', 'paper']);
    expect(human.stdout).toContain('stopped: nothing of paper runs');
    const events = (await run(['audit', '--env', 'paper', '--json'])).json().events.filter((e: any) => e.action === 'environment.stop');
    expect(events.map((e: any) => [e.outcome, e.reason])).toEqual([['started', 'free the ports'], ['succeeded', 'free the ports']]);
    expect((await run(['audit', '--verify'])).code).toBe(0);
  });

  describe('a port held by a process shipgate did not start', () => {
    let squatter: ChildProcess;
    afterAll(async () => {
      if (squatter?.pid) await stopProcess(squatter.pid, undefined, 2000);
    });

    it('fails the deploy at once, naming its pid and command, and is not mistaken for the release', async () => {
      const port = ports[0]!;
      // It answers exactly as r1 would: healthy, build r1.
      squatter = spawn('python3', [path.join(FIXTURE, 'squat.py'), String(port)], { stdio: 'ignore' });
      await waitFor('the squatter to listen', () => portHolder(port)?.pid === squatter.pid);
      const res = await run(['deploy', 'paper', '--version', 'r1', '--json']);
      expect(res.code).toBe(1);
      expect(res.json()).toMatchObject({ ok: false, failedStep: 'prepare-release' });
      // (python3 may be a shim that execs the real interpreter: its path is whatever /proc says.)
      expect(res.json().error).toMatch(new RegExp(`^quotes: port ${port} is held by pid ${squatter.pid} \\(\\S*python3 ${path.join(FIXTURE, 'squat.py')} ${port}\\), not started by shipgate; stop it`));
      expect(isAlive(squatter.pid!)).toBe(true);
      // Nothing of the release was started beside it.
      expect(processesUnder(path.join(dir, '.shipgate', 'releases', 'paper'))).toEqual([]);
      expect((await run(['status', '--env', 'paper', '--json'])).json().environments[0].currentVersion).toBeNull();

      await stopProcess(squatter.pid!, undefined, 2000);
      const again = await run(['deploy', 'paper', '--version', 'r1', '--json']);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.json()).toMatchObject({ ok: true, version: 'r1', fromVersion: null });
    });
  });

  it('a failed first deploy leaves nothing running that shipgate started', async () => {
    const res = await run(['deploy', 'fresh', '--version', 'r2', '--json']);
    expect(res.code).toBe(1);
    expect(res.json()).toMatchObject({ ok: false, failedStep: 'verify' });
    expect(res.json().rollback).toBeUndefined();
    expect(processesUnder(path.join(dir, '.shipgate', 'releases', 'fresh'))).toEqual([]);
    const status = (await run(['status', '--env', 'fresh', '--json'])).json().environments[0];
    expect(status.services.filter((s: any) => s.process === 'running')).toEqual([]);
    const cleanup = (await run(['audit', '--env', 'fresh', '--json'])).json().events.find((e: any) => e.action === 'deploy.cleanup');
    expect(cleanup).toMatchObject({ outcome: 'stopped' });
  });

  it('a program that is missing (ENOENT) or not executable (EACCES): one line naming service, command and fix; nothing started', async () => {
    const res = await run(['deploy', 'broken', '--version', 'r1']);
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toContain('cannot start quotes: the program "no-such-program-xyz" of its command ["no-such-program-xyz", "--port",');
    expect(res.stdout + res.stderr).toContain('install no-such-program-xyz on this host or fix services.quotes.command in shipgate.yml');
    expect(res.stdout + res.stderr).not.toMatch(/\n\s+at /);
    expect(processesUnder(path.join(dir, '.shipgate', 'releases', 'broken'))).toEqual([]);

    // With quotes fixed, ledger's ./svc.py is found but is not executable.
    const yml = readFileSync(path.join(dir, 'shipgate.yml'), 'utf8').replace('command: [no-such-program-xyz, --port, "{port}"]', 'command: [python3, svc.py, --port, "{port}"]');
    writeFileSync(path.join(dir, 'shipgate.yml'), yml);
    const eacces = await run(['deploy', 'broken', '--version', 'r1', '--json']);
    expect(eacces.code).toBe(1);
    expect(eacces.json().error).toMatch(/^cannot start ledger: .*\/svc\.py \(from its command \["\.\/svc\.py", "--port", "\d+"\]\) is not an executable file; make it executable \(chmod \+x\)/);
    expect(eacces.json().failedStep).toBe('prepare-release');
    expect(processesUnder(path.join(dir, '.shipgate', 'releases', 'broken'))).toEqual([]);
    expect(statSync(path.join(dir, 'repo', 'svc.py')).mode & 0o111).toBe(0);
  });

  it('NUL or a line break in an environment value: config check names the position, and a deploy stops nothing', async () => {
    const before = (await run(['status', '--env', 'paper', '--json'])).json().environments[0];
    expect(before.services.map((s: any) => [s.service, s.process, s.healthy]), JSON.stringify(before)).toEqual([['quotes', 'running', true], ['ledger', 'running', true]]);
    const running = before.services.map((s: any) => s.pid);
    const good = readFileSync(path.join(dir, 'shipgate.yml'), 'utf8');
    writeFileSync(path.join(dir, 'shipgate.yml'), good.replace('  paper:\n', '  paper:\n    env: { X: "a\\0b", Y: "c\\nd" }\n'));
    const check = await run(['config', 'check']);
    expect(check.code).toBe(2);
    const line = good.split('\n').indexOf('  paper:') + 2;
    expect(check.stdout + check.stderr).toContain(`shipgate.yml:${line}:15: error environments.paper.env.X: contains a NUL byte`);
    expect(check.stdout + check.stderr).toContain(`shipgate.yml:${line}:26: error environments.paper.env.Y: contains a line break`);
    const deploy = await run(['deploy', 'paper', '--version', 'r3']);
    expect(deploy.code).toBe(2);
    for (const pid of running) expect(isAlive(pid)).toBe(true);
    writeFileSync(path.join(dir, 'shipgate.yml'), good);
  });
});
