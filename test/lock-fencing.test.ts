// Leases that fence: a deploy whose lock is broken (`lock release --force`) while it verifies
// stops at once, records "lock lost", rolls nothing back, and never blocks the next deploy.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type CliResult } from './harness/cli.js';
import { addRelease } from './harness/git.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { scaled } from './harness/pace.js';

const show = (r: CliResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 120_000): Promise<T> {
  const until = Date.now() + scaled(limitMs);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a deploy whose lock is broken stops at its next step', () => {
  let ws: StackWorkspace;

  beforeAll(async () => {
    // Verification of a release that never becomes healthy would run for the whole timeout:
    // long enough that only the fence can end it while the test waits.
    ws = await stackWorkspace(['staging'], ['v1.0.0', 'v1.1.0'], { healthTimeout: '150s' });
    // v1.3.0's signal service listens but never reports healthy: verification waits for it.
    const neverReady = "import http from 'node:http';\nhttp.createServer((q, r) => { r.statusCode = 503; r.end('{\"status\":\"starting\"}'); }).listen(Number(process.env.PORT), '127.0.0.1');\n";
    addRelease(ws.repoDir, 'v1.1.0', 'v1.3.0', { 'signal_service/main.mjs': neverReady, VERSION: 'v1.3.0\n' });
    const first = await ws.run(['deploy', 'staging', '--version', 'v1.0.0']);
    expect(first.code, show(first)).toBe(0);
  });
  afterAll(() => ws?.cleanup());

  it('force-released during verify: records "lock lost", no rollback, the next deploy proceeds', async () => {
    const child = spawn(process.execPath, [BIN, 'deploy', 'staging', '--version', 'v1.3.0', '--json'], { cwd: ws.dir, env: { ...process.env, SHIPGATE_ACTOR: 'alice', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

    await waitFor('the deploy to verify', async () => {
      const s = (await ws.run(['status', '--json'])).json().environments[0];
      return s.deployment?.version === 'v1.3.0' && s.deployment.lastStep === 'verify (started)' ? true : undefined;
    });
    const broken = await ws.run(['lock', 'release', 'staging', '--force', '--reason', 'alice is stuck, bob takes over']);
    expect(broken.code, show(broken)).toBe(0);

    // Without the fence the deploy would verify until its 150 s timeout and then roll back
    // without a lock; this wait ends long before that, when the deploy notices.
    const code = await exited;
    expect(code, stdout + stderr).toBe(1);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ ok: false, kind: 'deploy', version: 'v1.3.0', lockLost: true, failedStep: 'verify' });
    expect(out.error).toMatch(/^lock lost/);
    expect(out.rollback).toBeUndefined();

    const status = (await ws.run(['status', '--json'])).json().environments[0];
    expect(status.deployment).toMatchObject({ kind: 'deploy', version: 'v1.3.0', state: 'aborted' });
    expect(status.lock).toBeNull();
    const events = (await ws.run(['audit', '--json'])).json().events as { action: string; outcome: string; actor: string }[];
    // Either may be recorded first: the deploy can notice the break (its next renew) before `lock release` has written its event.
    expect(events.slice(-2).map((e) => [e.action, e.outcome, e.actor]).sort()).toEqual([
      ['deploy.lock-lost', 'aborted', 'alice'],
      ['lock.break', 'ok', 'tester'],
    ]);
    expect(events.some((e) => e.action === 'rollback.start')).toBe(false);

    // Nothing interrupted is left behind: the next deploy is not refused.
    const next = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    expect(next.code, show(next)).toBe(0);
    expect((await ws.run(['status', '--json'])).json().environments[0]).toMatchObject({ currentVersion: 'v1.1.0', lock: null });
    expect((await ws.run(['audit', '--verify'])).code).toBe(0);
  });

  it('a lock taken over between steps stops the deploy before the next step', async () => {
    // The lock is checked before every step: broken at whatever step the deploy is in, it stops
    // there (or at the next verify attempt) and is recorded as aborted, not left running.
    const child = spawn(process.execPath, [BIN, 'deploy', 'staging', '--version', 'v1.3.0', '--json'], { cwd: ws.dir, env: { ...process.env, SHIPGATE_ACTOR: 'alice', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await waitFor('the deploy to take the lock', async () => {
      const s = (await ws.run(['status', '--json'])).json().environments[0];
      return s.deployment?.version === 'v1.3.0' && s.lock ? true : undefined;
    });
    expect((await ws.run(['lock', 'release', 'staging', '--force', '--reason', 'drill'])).code).toBe(0);
    expect(await exited).toBe(1);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ ok: false, lockLost: true });
    expect(out.rollback).toBeUndefined();
    const steps = (await ws.run(['status', '--json'])).json().environments[0].deployment;
    expect(steps.state).toBe('aborted');
    const next = await ws.run(['deploy', 'staging', '--version', 'v1.0.0']);
    expect(next.code, show(next)).toBe(0);
  });
});
