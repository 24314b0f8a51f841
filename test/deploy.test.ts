// A killed service may linger as a zombie until init reaps it; isAlive treats that as dead.
import { isAlive } from '../src/adapters/targets/process/pids.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addRelease } from './harness/git.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';

async function healthVersion(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    return ((await res.json()) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

describe('deploy, verify and roll back the real sample stack', () => {
  let ws: StackWorkspace;
  let ports: StackWorkspace['ports'][string];

  beforeAll(async () => {
    ws = await stackWorkspace(['staging'], ['v1.0.0', 'v1.1.0'], { healthTimeout: '3s' });
    ports = ws.ports.staging!;
    // A release whose signal service dies at start-up, and one that reports the wrong version.
    addRelease(ws.repoDir, 'v1.1.0', 'v1.2.0', { 'signal_service/main.mjs': 'console.error("FATAL: missing config"); process.exit(3);\n', VERSION: 'v1.2.0\n' });
    addRelease(ws.repoDir, 'v1.1.0', 'v1.3.0', { 'README.txt': 'forgot to bump VERSION\n' });
  });
  afterAll(() => ws?.cleanup());

  it('deploys v1.0.0 and every service answers with that version', async () => {
    const res = await ws.run(['deploy', 'staging', '--version', 'v1.0.0', '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json()).toMatchObject({ ok: true, kind: 'deploy', version: 'v1.0.0', fromVersion: null });
    for (const port of [ports.signal, ports.gateway, ports.orchestrator]) expect(await healthVersion(port)).toBe('v1.0.0');

    const status = (await ws.run(['status', '--env', 'staging', '--json'])).json().environments[0];
    expect(status.currentVersion).toBe('v1.0.0');
    expect(status.deployment).toMatchObject({ kind: 'deploy', state: 'succeeded', lastStep: 'verify (succeeded)' });
    expect(status.services.map((s: any) => [s.service, s.process, s.healthy, s.version])).toEqual([
      ['signal_service', 'running', true, 'v1.0.0'],
      ['execution_gateway', 'running', true, 'v1.0.0'],
      ['orchestrator', 'running', true, 'v1.0.0'],
    ]);
  });

  it('deploys v1.1.0 over it, stopping the old processes', async () => {
    const before = (await ws.run(['status', '--json'])).json().environments[0].services.map((s: any) => s.pid);
    const res = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json()).toMatchObject({ ok: true, version: 'v1.1.0', fromVersion: 'v1.0.0' });
    for (const pid of before) expect(isAlive(pid)).toBe(false);
    const status = (await ws.run(['status', '--json'])).json().environments[0];
    expect([status.currentVersion, status.previousGoodVersion]).toEqual(['v1.1.0', 'v1.0.0']);
  });

  it('rolls back to the last good version by default and records why', async () => {
    const res = await ws.run(['rollback', 'staging', '--reason', 'error rate 10%', '--json']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.json()).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0', fromVersion: 'v1.1.0' });
    expect(await healthVersion(ports.gateway)).toBe('v1.0.0');
    const events = (await ws.run(['audit', '--env', 'staging', '--json'])).json().events;
    expect(events.filter((e: any) => e.action.startsWith('rollback')).map((e: any) => [e.action, e.outcome, e.reason])).toEqual([
      ['rollback.start', 'started', 'error rate 10%'],
      ['rollback.finish', 'succeeded', 'error rate 10%'],
    ]);
    expect((await ws.run(['audit', '--verify'])).code).toBe(0);
  });

  it('a rolled-back release stays bad: deploy refuses it (exit 3) unless --allow-bad --reason, and rollback never returns to it', async () => {
    // v1.1.0 was just rolled back from staging.
    const refused = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(3);
    const error = refused.json().error;
    expect(error.message).toMatch(/^v1\.1\.0 is marked bad in staging since \S+: rolled back: error rate 10%; a bad release is not deployed there again$/);
    expect(error.hint).toContain('--allow-bad --reason');
    expect(error.release).toMatchObject({ env: 'staging', version: 'v1.1.0', verdict: 'bad' });
    expect(await healthVersion(ports.gateway)).toBe('v1.0.0');

    const noReason = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--allow-bad']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--allow-bad needs --reason');

    // Fixing forward with the same tag, deliberately: it runs, and it is recorded as an override.
    const forced = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--allow-bad', '--reason', 'the error rate was the broker, not v1.1.0', '--json']);
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect(forced.json()).toMatchObject({ ok: true, version: 'v1.1.0', fromVersion: 'v1.0.0' });
    expect(await healthVersion(ports.gateway)).toBe('v1.1.0');
    const events = (await ws.run(['audit', '--env', 'staging', '--json'])).json().events;
    expect(events.find((e: any) => e.action === 'deploy.allow-bad')).toMatchObject({ outcome: 'allowed', version: 'v1.1.0', reason: 'the error rate was the broker, not v1.1.0', detail: { markedBad: 'rolled back: error rate 10%' } });

    // Verifying healthy again did not clear the mark (before, a redeploy set it good): back on
    // v1.0.0, no earlier good version is known, so a rollback has nowhere to go.
    const back = await ws.run(['deploy', 'staging', '--version', 'v1.0.0', '--json']);
    expect(back.code, back.stdout + back.stderr).toBe(0);
    const status = (await ws.run(['status', '--env', 'staging', '--json'])).json().environments[0];
    expect([status.currentVersion, status.previousGoodVersion]).toEqual(['v1.0.0', null]);
    // Still refused, dated when it was marked bad (the override's redeploy did not move that).
    const still = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    expect(still.code, still.stdout + still.stderr).toBe(3);
    expect(still.json().error.release.updatedAt).toBe(error.release.updatedAt);
    const nowhere = await ws.run(['rollback', 'staging', '--reason', 'x', '--json']);
    expect(nowhere.code, nowhere.stdout + nowhere.stderr).toBe(1);
    expect(nowhere.json().error.message).toBe('no earlier good version of staging is known (it runs v1.0.0)');
    expect(await healthVersion(ports.gateway)).toBe('v1.0.0');
  });

  it('returns to the previous good version when a release fails verification, and exits 1', async () => {
    const res = await ws.run(['deploy', 'staging', '--version', 'v1.2.0', '--json']);
    expect(res.code).toBe(1);
    const out = res.json();
    expect(out).toMatchObject({ ok: false, version: 'v1.2.0', failedStep: 'verify' });
    expect(out.error).toContain('signal_service');
    expect(out.rollback).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0' });
    expect(await healthVersion(ports.signal)).toBe('v1.0.0');
    const status = (await ws.run(['status', '--json'])).json().environments[0];
    expect(status.currentVersion).toBe('v1.0.0');
    const logs = (await ws.run(['logs', 'staging', 'signal_service', '--tail', '50', '--json'])).json().logs[0].lines.join('\n');
    expect(logs).toContain('FATAL: missing config');
  });

  it('refuses a release whose services report a different version', async () => {
    const res = await ws.run(['deploy', 'staging', '--version', 'v1.3.0', '--json']);
    expect(res.code).toBe(1);
    expect(res.json().error).toContain('reports version v1.1.0, expected v1.3.0');
    expect(res.json().rollback.version).toBe('v1.0.0');
  });

  it('health finds a dead service and --restart-unhealthy brings it back', async () => {
    const status = (await ws.run(['status', '--json'])).json().environments[0];
    const gateway = status.services.find((s: any) => s.service === 'execution_gateway');
    process.kill(gateway.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const sick = await ws.run(['health', 'staging', '--json']);
    expect(sick.code).toBe(1);
    expect(sick.json().services.find((s: any) => s.service === 'execution_gateway').healthy).toBe(false);

    const healed = await ws.run(['health', 'staging', '--restart-unhealthy', '--json']);
    expect(healed.code, healed.stdout).toBe(0);
    expect(healed.json().restarted).toEqual(['execution_gateway']);
    expect(await healthVersion(ports.gateway)).toBe('v1.0.0');
    const events = (await ws.run(['audit', '--json'])).json().events;
    expect(events.at(-1)).toMatchObject({ action: 'service.restart', env: 'staging' });
  });

  it('rollback --to a named version works (naming a bad one warns and leaves it bad) and an unknown one is refused', async () => {
    const ok = await ws.run(['rollback', 'staging', '--to', 'v1.1.0', '--reason', 'pin to 1.1.0']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout + ok.stderr).toContain('v1.1.0 is marked bad in staging since');
    expect(await healthVersion(ports.gateway)).toBe('v1.1.0');
    expect((await ws.run(['deploy', 'staging', '--version', 'v1.1.0'])).code).toBe(3);
    const bad = await ws.run(['rollback', 'staging', '--to', 'v7.7.7', '--reason', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('v7.7.7');
  });
});
