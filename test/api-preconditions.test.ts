// GET /api/breaker/preconditions over real HTTP, on a platform whose safety keys and words are not
// the demo's (test/harness/safety-platform.ts): its role boundary, each precondition's state from
// the same function `breaker reset` uses (an unreadable one is unknown and blocks, never met), the
// configured breaker key and words, and that reading it changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shipgate } from './harness/cli.js';
import { apiCall, startSafetyPlatform, type SafetyPlatform } from './harness/safety-platform.js';

let p: SafetyPlatform;
const call = (method: string, url: string, token?: string, body?: unknown) => apiCall(p.api.url, method, url, token, body);

beforeAll(async () => {
  p = await startSafetyPlatform({ vera: 'viewer', dora: 'deployer', alice: 'approver', bob: 'approver' });
});
afterAll(async () => {
  await p?.close();
});

interface Check {
  status: { breaker: string; state: { breaker: { key: string; value: string | null; meaning: string } } };
  preconditions: { name: string; state: string; detail: string; blocking: boolean }[];
  refusals: string[];
  approval: { id: number; state: string } | null;
}

describe('GET /api/breaker/preconditions', () => {
  it('needs a token (401 without one or with a bad one); a viewer may read it; an unknown environment is 400 naming env', async () => {
    expect((await call('GET', '/api/breaker/preconditions?env=production')).status).toBe(401);
    expect((await call('GET', '/api/breaker/preconditions?env=production', 'sgt_1_' + 'A'.repeat(43))).status).toBe(401);
    const viewer = await call('GET', '/api/breaker/preconditions?env=production', p.tokens.vera);
    expect(viewer.status).toBe(200);
    const bad = await call('GET', '/api/breaker/preconditions?env=nowhere', p.tokens.vera);
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('nowhere');
  });

  it('reads the configured breaker key and words, lists each precondition with its state, and creates no approval', async () => {
    // risk:breaker is absent, and absent means halted on this platform.
    const before = (await call('GET', '/api/breaker/preconditions?env=production', p.tokens.vera)).json as Check;
    expect(before.status.state.breaker).toMatchObject({ key: 'risk:breaker', value: null, meaning: 'halted' });
    const trip = await call('POST', '/api/breaker/trip', p.tokens.dora, { env: 'production', reason: 'drawdown 6%' });
    expect(trip.status, JSON.stringify(trip.json)).toBe(200);
    const check = (await call('GET', '/api/breaker/preconditions?env=production', p.tokens.vera)).json as Check;
    expect(check.status.breaker).toBe('HALTED');
    expect(check.preconditions.map((x) => [x.name, x.state, x.blocking])).toEqual([
      ['drawdown normalized', 'met', false], ['broker API healthy', 'met', false], ['market data fresh', 'met', false], ['reconciliation clean', 'met', false],
    ]);
    expect(check.preconditions[0]!.detail).toBe('drawdown_ratio 0.01 (limit 0.05)');
    expect(check.refusals).toEqual([]);
    expect(check.approval).toBeNull();
    expect(await p.ctx.store.listApprovals({ env: 'production', limit: 10 })).toEqual([]);

    // A drawdown over the limit is unmet and blocks; the read is the platform's, now.
    p.platform.drawdown = 0.08;
    const unmet = (await call('GET', '/api/breaker/preconditions?env=production', p.tokens.vera)).json as Check;
    expect(unmet.preconditions[0]).toMatchObject({ name: 'drawdown normalized', state: 'unmet', blocking: true, detail: 'drawdown_ratio 0.08 (limit 0.05)' });
    expect(unmet.refusals).toEqual(['drawdown normalized (unmet: drawdown_ratio 0.08 (limit 0.05))']);
    p.platform.drawdown = 0.01;
  });

  it('shows an unreadable precondition as unknown and blocking, and the reset is refused for it (409 with the same list)', async () => {
    expect((await call('POST', '/api/breaker/trip', p.tokens.dora, { env: 'staging', reason: 'staging drill' })).status).toBe(200);
    const check = (await call('GET', '/api/breaker/preconditions?env=staging', p.tokens.vera)).json as Check;
    expect(check.status.state.breaker).toMatchObject({ key: 'cb:state', value: 'TRIPPED', meaning: 'halted' });
    const drawdown = check.preconditions.find((x) => x.name === 'drawdown normalized')!;
    expect(drawdown).toMatchObject({ state: 'unknown', blocking: true });
    expect(drawdown.detail).toMatch(/404/);
    // Nothing unconfigured or unreadable is ever reported met.
    expect(check.preconditions.filter((x) => x.state === 'met')).toEqual([]);
    expect(check.refusals).toHaveLength(1);
    const reset = await call('POST', '/api/breaker/reset', p.tokens.alice, { env: 'staging', reason: 'drill over' });
    expect(reset.status).toBe(409);
    expect(reset.json.error.message).toMatch(/^the breaker of staging cannot be reset: drawdown normalized \(unknown: /);
    expect(reset.json.error.data.preconditions.map((x: { name: string; state: string }) => `${x.name} ${x.state}`)).toEqual(check.preconditions.map((x) => `${x.name} ${x.state}`));
  });

  it('gives what `shipgate breaker preconditions --json` gives on the same store', async () => {
    const api = (await call('GET', '/api/breaker/preconditions?env=production', p.tokens.vera)).json as Check;
    const cli = await shipgate(['breaker', 'preconditions', '--env', 'production', '--json'], { cwd: p.dir, env: p.env });
    expect(cli.code, cli.stderr).toBe(0);
    const out = cli.json<Check>();
    expect(out.preconditions.map((x) => `${x.name} ${x.state}`)).toEqual(api.preconditions.map((x) => `${x.name} ${x.state}`));
    expect(out.status.breaker).toBe(api.status.breaker);
  });
});
