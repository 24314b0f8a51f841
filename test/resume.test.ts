// A killed service may linger as a zombie until init reaps it; isAlive treats that as dead.
import { isAlive } from '../src/adapters/targets/process/pids.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_NAMES } from '../src/app/pipeline.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';

/**
 * SIGKILL at every step boundary (before and after each of prepare-release, stop-old,
 * start-new and verify), for deploys and rollbacks; then the next command reports the
 * interrupted work and resume or rollback finishes it cleanly.
 */
describe('a deploy or rollback killed at any step is finished by the next command', () => {
  let ws: StackWorkspace;
  const points = STEP_NAMES.flatMap((step) => (['before', 'after'] as const).map((when) => `${step}:${when}`));

  // Each case rolls v1.1.0 back (marking it bad) and deploys it again: a drill, so the override is stated.
  const again = ['--allow-bad', '--reason', 'drill: v1.1.0 was rolled back only to reset the case'];

  beforeAll(async () => {
    ws = await stackWorkspace(['staging']);
    const first = await ws.run(['deploy', 'staging', '--version', 'v1.0.0']);
    expect(first.code, first.stderr).toBe(0);
  });
  afterAll(() => ws?.cleanup());

  async function running(): Promise<{ current: string; versions: string[]; pids: number[]; deployment: any; lock: any }> {
    const s = (await ws.run(['status', '--json'])).json().environments[0];
    return { current: s.currentVersion, versions: s.services.map((x: any) => (x.healthy ? x.version : 'unhealthy')), pids: s.services.map((x: any) => x.pid), deployment: s.deployment, lock: s.lock };
  }

  async function expectRunningOnly(version: string) {
    const s = await running();
    expect(s.current).toBe(version);
    expect(s.versions).toEqual([version, version, version]);
    expect(s.deployment.state).toBe('succeeded');
    expect(s.lock).toBeNull();
    return s;
  }

  it.each(points.map((p, i) => [p, i % 2 === 0 ? 'resume' : 'rollback'] as const))('deploy killed at %s, recovered by %s', async (point, recovery) => {
    const killed = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', ...again], { SHIPGATE_FAILPOINT: `deploy:${point}` });
    expect(killed.signal).toBe('SIGKILL');

    const status = await running();
    expect(status.deployment).toMatchObject({ kind: 'deploy', version: 'v1.1.0', state: 'interrupted' });
    expect(status.lock).toMatchObject({ stale: true });

    const refused = await ws.run(['deploy', 'staging', '--version', 'v1.1.0']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('interrupted deploy');

    if (recovery === 'resume') {
      const res = await ws.run(['deploy', 'staging', '--resume', '--json']);
      expect(res.code, res.stdout + res.stderr).toBe(0);
      expect(res.json()).toMatchObject({ ok: true, kind: 'deploy', version: 'v1.1.0' });
      await expectRunningOnly('v1.1.0');
      const back = await ws.run(['rollback', 'staging', '--to', 'v1.0.0', '--reason', 'reset for next case']);
      expect(back.code, back.stderr).toBe(0);
    } else {
      const res = await ws.run(['rollback', 'staging', '--reason', 'interrupted deploy', '--json']);
      expect(res.code, res.stdout + res.stderr).toBe(0);
      expect(res.json()).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0' });
    }
    const final = await expectRunningOnly('v1.0.0');
    // No process of the killed attempt is left behind: exactly the recorded PIDs serve the ports.
    for (const pid of final.pids) expect(isAlive(pid)).toBe(true);
    for (const pid of status.pids) if (!final.pids.includes(pid)) expect(isAlive(pid)).toBe(false);
  });

  it.each(points)('rollback killed at %s is finished by running rollback again', async (point) => {
    const up = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', ...again]);
    expect(up.code, up.stderr).toBe(0);
    const killed = await ws.run(['rollback', 'staging', '--reason', 'drill'], { SHIPGATE_FAILPOINT: `rollback:${point}` });
    expect(killed.signal).toBe('SIGKILL');
    expect((await running()).deployment).toMatchObject({ kind: 'rollback', version: 'v1.0.0', state: 'interrupted' });

    const res = await ws.run(['rollback', 'staging', '--reason', 'finish the drill', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.json()).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0' });
    await expectRunningOnly('v1.0.0');
  });

  it('the audit log records every resume and abort and still verifies', async () => {
    const events = (await ws.run(['audit', '--json'])).json().events.map((e: any) => e.action);
    expect(events).toContain('deploy.resume');
    expect(events).toContain('deploy.abort');
    expect(events).toContain('rollback.resume');
    expect(events).toContain('lock.takeover');
    expect((await ws.run(['audit', '--verify'])).code).toBe(0);
  });
});
