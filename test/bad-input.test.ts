// Bad input: exit 2, one paragraph on stderr (no stack trace) saying what to do, and nothing changed.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from './harness/cli.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { scaled } from './harness/pace.js';

let ws: StackWorkspace;
let scratch = '';
let gitLog = '';
let gitShimEnv: NodeJS.ProcessEnv = {};

interface Snapshot {
  auditCount: number;
  lastAuditSeq: number | undefined;
  environments: unknown;
  releases: string[];
  deploymentsDir: string[];
}

/** What a bad command must not change: the audit log, deployments, locks, running services, release checkouts. */
async function snapshot(): Promise<Snapshot> {
  const audit = await ws.run(['audit', '--json']);
  expect(audit.code, audit.stderr).toBe(0);
  const events = audit.json<{ events: { seq: number }[] }>().events;
  const status = await ws.run(['status', '--json']);
  expect(status.code, status.stderr).toBe(0);
  const environments = status
    .json<{ environments: { env: string; currentVersion: string | null; previousGoodVersion: string | null; deployment: unknown; lock: unknown; services: { service: string; process: string; pid?: number; healthy: boolean; version?: string }[] }[] }>()
    .environments.map((e) => ({
      env: e.env,
      currentVersion: e.currentVersion,
      previousGoodVersion: e.previousGoodVersion,
      deployment: e.deployment,
      lock: e.lock,
      services: e.services.map((s) => ({ service: s.service, process: s.process, pid: s.pid, healthy: s.healthy, version: s.version })),
    }));
  return {
    auditCount: events.length,
    lastAuditSeq: events.map((e) => e.seq).sort((a, b) => a - b).at(-1),
    environments,
    releases: listTree(path.join(ws.dir, '.shipgate', 'releases'), 2),
    deploymentsDir: readdirSync(path.join(ws.dir, '.shipgate')).sort(),
  };
}

function listTree(dir: string, depth: number): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const here = d.name;
    return depth > 1 && d.isDirectory() ? [here, ...listTree(path.join(dir, here), depth - 1).map((x) => `${here}/${x}`)] : [here];
  }).sort();
}

/** The promise for bad input: exit 2, a short error paragraph on stderr, no stack trace. */
function expectBadInput(r: CliResult, ...mentions: (string | RegExp)[]): void {
  expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(2);
  expect(r.signal).toBeNull();
  const err = r.stderr.trim();
  expect(err).toMatch(/^error: /);
  expect(err).not.toMatch(/^\s+at /m);
  expect(err).not.toMatch(/\n\s*\n/); // one paragraph
  expect(err.split('\n').length).toBeLessThanOrEqual(4);
  for (const m of mentions) {
    if (typeof m === 'string') expect(err).toContain(m);
    else expect(err).toMatch(m);
  }
}

function gitCalls(): string[] {
  return existsSync(gitLog) ? readFileSync(gitLog, 'utf8').split('\n').filter(Boolean) : [];
}

let before: Snapshot;

beforeAll(async () => {
  ws = await stackWorkspace();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'shipgate-bad-'));
  // A git on PATH that logs each call, then runs the real one: proves a version is refused before git sees it.
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  const shimDir = path.join(scratch, 'bin');
  gitLog = path.join(scratch, 'git-calls.log');
  execFileSync('mkdir', ['-p', shimDir]);
  writeFileSync(path.join(shimDir, 'git'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${gitLog}'\nexec '${realGit}' "$@"\n`);
  chmodSync(path.join(shimDir, 'git'), 0o755);
  gitShimEnv = { PATH: `${shimDir}${path.delimiter}${process.env.PATH ?? ''}` };

  // Something to protect: staging runs v1.0.0.
  const deployed = await ws.run(['deploy', 'staging', '--version', 'v1.0.0', '--reason', 'baseline']);
  expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
  before = await snapshot();
  expect(before.auditCount).toBeGreaterThan(0);
  expect(before.releases).toContain('staging/v1.0.0');
  expect((before.environments as { env: string; currentVersion: string }[]).find((e) => e.env === 'staging')?.currentVersion).toBe('v1.0.0');
}, scaled(180_000));

afterAll(async () => {
  await ws?.cleanup();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

async function expectUnchanged(): Promise<void> {
  expect(await snapshot()).toEqual(before);
}

describe('bad input exits 2 and changes nothing', () => {
  it('unknown environment: lists the known ones', async () => {
    const r = await ws.run(['deploy', 'nosuchenv', '--version', 'v1.0.0']);
    expectBadInput(r, 'unknown environment "nosuchenv"', 'staging, production');
    await expectUnchanged();
  });

  it('unknown version: says how to list versions', async () => {
    rmSync(gitLog, { force: true });
    const r = await ws.run(['deploy', 'staging', '--version', 'v9.9.9'], gitShimEnv);
    expectBadInput(r, 'version v9.9.9 does not exist', 'tag --list');
    // The shim works: this version did reach git (so the syntax cases below are meaningful).
    expect(gitCalls().some((c) => c.includes('rev-parse') && c.includes('v9.9.9'))).toBe(true);
    expect(existsSync(path.join(ws.dir, '.shipgate', 'releases', 'staging', 'v9.9.9'))).toBe(false);
    await expectUnchanged();
  });

  for (const version of ['v1;rm -rf /', '--upload-pack=x', '../../etc', '-v1.0.0', 'v1.0.0 ', '$(id)']) {
    it(`version ${JSON.stringify(version)} is refused by syntax before any git call`, async () => {
      rmSync(gitLog, { force: true });
      const r = await ws.run(['deploy', 'staging', '--version', version], gitShimEnv);
      expectBadInput(r, `${JSON.stringify(version)} is not a valid release version`, 'Use a git tag or commit such as v1.2.3');
      expect(gitCalls()).toEqual([]);
      await expectUnchanged();
    });
  }

  it('an empty version is refused as missing', async () => {
    rmSync(gitLog, { force: true });
    const r = await ws.run(['deploy', 'staging', '--version', ''], gitShimEnv);
    expectBadInput(r, 'a version is required', '--version v1.2.3');
    expect(gitCalls()).toEqual([]);
    await expectUnchanged();
  });

  it('deploy without a version', async () => {
    const r = await ws.run(['deploy', 'staging']);
    expectBadInput(r, 'a version is required', 'shipgate deploy staging --version', '--resume');
    await expectUnchanged();
  });

  it('deploy --resume when nothing was interrupted', async () => {
    const r = await ws.run(['deploy', 'staging', '--resume']);
    expectBadInput(r, 'nothing to resume in staging', 'shipgate deploy staging --version');
    await expectUnchanged();
  });

  it('a malformed shipgate.yml (via -c) names file:line:col', async () => {
    const dir = mkdtempSync(path.join(scratch, 'malformed-'));
    const file = path.join(dir, 'shipgate.yml');
    writeFileSync(file, 'version: 1\nservices:\n  api:\n    command: [node, api.js]\n   port: 8001\nenvironments:\n  staging: {}\n');
    const r = await ws.run(['-c', file, 'deploy', 'staging', '--version', 'v1.0.0']);
    expectBadInput(r, `${file}:5:4`, '(yaml)', 'Fix the YAML syntax');
    expect(existsSync(path.join(dir, '.shipgate'))).toBe(false);
    await expectUnchanged();
  });

  it('a shipgate.yml without services names the field', async () => {
    const dir = mkdtempSync(path.join(scratch, 'noservices-'));
    const file = path.join(dir, 'shipgate.yml');
    writeFileSync(file, `version: 1\nrepository: ${JSON.stringify(ws.repoDir)}\nenvironments:\n  staging: {}\n`);
    const r = await ws.run(['deploy', 'staging', '--version', 'v1.0.0', '--config', file]);
    expectBadInput(r, 'invalid configuration: services: missing required field "services"', `${file}:1:1`, 'Add `services:`');
    expect(existsSync(path.join(dir, '.shipgate'))).toBe(false);
    await expectUnchanged();
  });

  it('rollback without --reason is a usage error (2, not 1)', async () => {
    const r = await ws.run(['rollback', 'staging']);
    expectBadInput(r, "required option '--reason <text>' not specified", '--help');
    await expectUnchanged();
  });

  it('an unknown command', async () => {
    const r = await ws.run(['deplyo', 'staging']);
    expectBadInput(r, "unknown command 'deplyo'", '--help');
    await expectUnchanged();
  });

  it('an unknown option', async () => {
    const r = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--forse']);
    expectBadInput(r, "unknown option '--forse'", '--help');
    await expectUnchanged();
  });

  it('logs --tail abc', async () => {
    const r = await ws.run(['logs', 'staging', '--tail', 'abc']);
    expectBadInput(r, '--tail must be a positive whole number', 'For example --tail 100');
    for (const bad of ['0', '-5', '1.5']) expect((await ws.run(['logs', 'staging', '--tail', bad])).code).toBe(2);
  });

  it('logs of an unknown service lists the services', async () => {
    const r = await ws.run(['logs', 'staging', 'nosuchservice']);
    expectBadInput(r, 'unknown service "nosuchservice"', 'signal_service, execution_gateway, orchestrator');
  });

  it('logs of an unknown environment', async () => {
    const r = await ws.run(['logs', 'nosuchenv']);
    expectBadInput(r, 'unknown environment "nosuchenv"', 'staging, production');
  });
});

describe('--json errors are a JSON document on stdout', () => {
  it('unknown environment', async () => {
    const r = await ws.run(['deploy', 'nosuchenv', '--version', 'v1.0.0', '--json']);
    expect(r.code).toBe(2);
    const out = r.json<{ ok: boolean; error: { message: string; exitCode: number; hint?: string } }>();
    expect(out.ok).toBe(false);
    expect(out.error.exitCode).toBe(2);
    expect(out.error.message).toBe('unknown environment "nosuchenv"');
    expect(out.error.hint).toContain('staging, production');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('bad version syntax', async () => {
    const r = await ws.run(['deploy', 'staging', '--version', 'v1;rm -rf /', '--json']);
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { exitCode: 2, where: '--version', message: '"v1;rm -rf /" is not a valid release version' } });
  });

  it('unknown version', async () => {
    const r = await ws.run(['deploy', 'staging', '--version', 'v9.9.9', '--json']);
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { exitCode: 2, where: '--version' } });
  });

  it('an invalid config carries every problem', async () => {
    const dir = mkdtempSync(path.join(scratch, 'json-config-'));
    const file = path.join(dir, 'shipgate.yml');
    writeFileSync(file, 'version: 1\nservices:\n  api:\n    port: "x"\nenvironments:\n  staging: {}\n');
    const r = await ws.run(['-c', file, 'deploy', 'staging', '--version', 'v1.0.0', '--json']);
    expect(r.code).toBe(2);
    const out = r.json<{ ok: boolean; error: { exitCode: number; where: string; problems: { path: string; line: number; col: number }[] } }>();
    expect(out.ok).toBe(false);
    expect(out.error.exitCode).toBe(2);
    expect(out.error.where).toBe(`${file}:4:5`);
    expect(out.error.problems.map((p) => `${p.line}:${p.col} ${p.path}`)).toEqual(['4:5 services.api.command', '4:11 services.api.port']);
  });

  it('nothing changed after the --json errors either', async () => {
    await expectUnchanged();
  });
});
