// Writes that cannot half-happen: when the store cannot be written (a full disk), a deploy that
// has not touched the running services stops without touching them; one that has returns the
// environment to the release it replaced, then records what it can and releases its lock.
//
// The full disk is injected (SHIPGATE_FAILPOINT=store-full:<kind>:<step>:<when>[:N] makes the
// next N store writes fail with SQLITE_FULL, as SQLite reports ENOSPC) so the failure lands at a
// chosen step, every time; a real ENOSPC could only be timed by racing the deploy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../src/adapters/targets/process/pids.js';
import type { CliResult } from './harness/cli.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';

const show = (r: CliResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

async function healthVersion(port: number): Promise<string | undefined> {
  try {
    return ((await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

describe('a store that fills up mid-deploy', () => {
  let ws: StackWorkspace;
  let ports: number[];

  beforeAll(async () => {
    ws = await stackWorkspace(['staging'], ['v1.0.0', 'v1.1.0'], { healthTimeout: '60s' });
    ports = Object.values(ws.ports.staging!);
    const first = await ws.run(['deploy', 'staging', '--version', 'v1.0.0']);
    expect(first.code, show(first)).toBe(0);
  });
  afterAll(() => ws?.cleanup());

  const env = async () => (await ws.run(['status', '--json'])).json().environments[0];

  it('before the services stop: aborts without touching them and releases the lock', async () => {
    const before = (await env()).services.map((s: any) => s.pid);
    const res = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--json'], { SHIPGATE_FAILPOINT: 'store-full:deploy:measure-baseline:after:1' });
    expect(res.code, show(res)).toBe(1);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    const out = res.json();
    expect(out).toMatchObject({ ok: false, failedStep: 'stop-old', restoredWithoutStore: null });
    expect(out.error).toMatch(/the store could not be written \(database or disk is full\)/);
    const after = await env();
    expect(after.services.map((s: any) => s.pid)).toEqual(before);
    for (const pid of before) expect(isAlive(pid)).toBe(true);
    expect(after).toMatchObject({ currentVersion: 'v1.0.0', lock: null, deployment: { version: 'v1.1.0', state: 'aborted' } });
    expect(after.deployment.lastStep).toBe('measure-baseline (succeeded)');
  });

  it('after the services stopped: returns to the previous release, records it and releases the lock', async () => {
    const res = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--json'], { SHIPGATE_FAILPOINT: 'store-full:deploy:stop-old:after:1' });
    expect(res.code, show(res)).toBe(1);
    const out = res.json();
    expect(out).toMatchObject({ ok: false, failedStep: 'start-new', restoredWithoutStore: { version: 'v1.0.0', ok: true } });
    for (const port of ports) expect(await healthVersion(port)).toBe('v1.0.0');
    const after = await env();
    expect(after).toMatchObject({ currentVersion: 'v1.0.0', lock: null, deployment: { version: 'v1.1.0', state: 'aborted' } });
    expect(after.services.map((s: any) => [s.process, s.healthy, s.version])).toEqual(Array(3).fill(['running', true, 'v1.0.0']));
    const last = (await ws.run(['audit', '--json'])).json().events.at(-1);
    expect(last).toMatchObject({ action: 'deploy.store-failed', outcome: 'failed', version: 'v1.1.0' });
    expect(last.detail).toMatchObject({ touchedRunning: true, restored: { version: 'v1.0.0', ok: true } });

    const next = await ws.run(['deploy', 'staging', '--version', 'v1.1.0']);
    expect(next.code, show(next)).toBe(0);
    const back = await ws.run(['rollback', 'staging', '--reason', 'reset for the next case']);
    expect(back.code, show(back)).toBe(0);
  });

  it('a disk that stays full: the services are back on the previous release and the next rollback finishes the record', async () => {
    // The previous case's reset rolled v1.1.0 back (marking it bad): deploying it again is stated.
    const res = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--allow-bad', '--reason', 'rolled back only to reset', '--json'], { SHIPGATE_FAILPOINT: 'store-full:deploy:stop-old:after' });
    expect(res.code, show(res)).toBe(1);
    expect(res.json()).toMatchObject({ ok: false, restoredWithoutStore: { version: 'v1.0.0', ok: true } });
    for (const port of ports) expect(await healthVersion(port)).toBe('v1.0.0');
    // Nothing could be recorded: the record shows interrupted work and a stale lock, never "unknown".
    const stuck = await env();
    expect(stuck).toMatchObject({ deployment: { version: 'v1.1.0', state: 'interrupted' }, lock: { stale: true } });

    const fixed = await ws.run(['rollback', 'staging', '--reason', 'disk freed', '--json']);
    expect(fixed.code, show(fixed)).toBe(0);
    expect(fixed.json()).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0' });
    expect(await env()).toMatchObject({ currentVersion: 'v1.0.0', lock: null, deployment: { kind: 'rollback', state: 'succeeded' } });
    expect((await ws.run(['audit', '--verify'])).code).toBe(0);
  });
});
