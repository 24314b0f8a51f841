// `shipgate status` reads every environment in a few store queries (issue 15): the locks and the
// running monitors of all environments at once, each one's deployments once. What it shows must
// be what the per-environment reads showed: each lock and monitor on its own environment, the
// previous good version skipping a release marked bad, and health nobody answered as unhealthy.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/adapters/store/store.js';
import { createContext, type AppContext } from '../src/app/context.js';
import { environmentStatus, environmentStatuses } from '../src/app/status.js';
import { configSchema } from '../src/config/schema.js';

let dir: string;
let ctx: AppContext;

const at = (minute: number) => new Date(Date.UTC(2026, 0, 5, 15, minute)).toISOString();

async function deployment(store: Store, env: string, version: string, state: 'succeeded' | 'failed', minute: number): Promise<number> {
  await store.recordRelease(env, version, `commit-${version}`, at(minute));
  const d = await store.createDeployment({ env, kind: 'deploy', version, fromVersion: null, actor: 'op', reason: null, causeId: null, host: 'elsewhere', pid: 1, startedAt: at(minute) }, at(minute));
  await store.finishDeployment(d.id, state, at(minute));
  return d.id;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-status-'));
  // Health on port 1 of loopback: nothing listens there, so no answer comes.
  const service = { command: ['true'], health: 'http://127.0.0.1:1/health' };
  const config = configSchema.parse({ version: 1, project: 'status-test', services: { web: service }, environments: { alpha: {}, beta: {}, gamma: {} } });
  ctx = await createContext({ file: path.join(dir, 'shipgate.yml'), dir, config }, { env: { ...process.env, SHIPGATE_ACTOR: 'operator', SHIPGATE_DATABASE_URL: '' } });
  const { store } = ctx;
  await deployment(store, 'alpha', 'v1', 'succeeded', 1);
  await deployment(store, 'alpha', 'v2', 'succeeded', 2);
  await store.setVerdict('alpha', 'v2', 'bad', 'rolled back', at(3));
  const v3 = await deployment(store, 'alpha', 'v3', 'succeeded', 4);
  await store.createWatch('monitor', 'alpha', 'v3', v3, at(4), { phase: 'immediate', blind: null });
  const g1 = await deployment(store, 'gamma', 'v7', 'succeeded', 5);
  await store.createWatch('monitor', 'gamma', 'v7', g1, at(5), { phase: 'immediate', blind: null });
  const g2 = await deployment(store, 'gamma', 'v8', 'failed', 6);
  await store.createWatch('monitor', 'gamma', 'v8', g2, at(6), { phase: 'extended', blind: { since: at(6), reason: 'metrics source down' } });
  const lock = { env: 'beta', owner: 'o', actor: 'carol', reason: 'maintenance', token: 't', acquiredAt: at(7), leaseUntil: '2999-01-01T00:00:00.000Z', host: 'elsewhere', pid: 1 };
  expect(await store.tryAcquireLock(lock)).toEqual({ acquired: true });
});

afterAll(async () => {
  await ctx?.store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('status of several environments at once', () => {
  it('shows each environment its own versions, lock and newest running monitor', async () => {
    const [alpha, beta, gamma] = await environmentStatuses(ctx, ['alpha', 'beta', 'gamma'].map((e) => ctx.environment(e)));
    expect(alpha).toMatchObject({ env: 'alpha', currentVersion: 'v3', previousGoodVersion: 'v1', lock: null, monitor: { version: 'v3', phase: 'immediate', blind: null } });
    expect(alpha!.deployment).toMatchObject({ version: 'v3', state: 'succeeded' });
    expect(beta).toMatchObject({ env: 'beta', currentVersion: null, previousGoodVersion: null, deployment: null, monitor: null, lock: { actor: 'carol', reason: 'maintenance', stale: false } });
    expect(gamma).toMatchObject({ env: 'gamma', currentVersion: 'v7', previousGoodVersion: null, lock: null, monitor: { version: 'v8', phase: 'extended', blind: { reason: 'metrics source down' } } });
    expect(gamma!.deployment).toMatchObject({ version: 'v8', state: 'failed' });
  });

  it('shows health that did not answer as unhealthy, with why', async () => {
    const [alpha] = await environmentStatuses(ctx, [ctx.environment('alpha')]);
    expect(alpha!.services).toHaveLength(1);
    expect(alpha!.services[0]).toMatchObject({ service: 'web', healthy: false });
    expect(alpha!.services[0]!.health).not.toBe('');
  });

  it('asks the store for the locks and the monitors once for all environments', async () => {
    const calls: string[] = [];
    const watchQueries: unknown[] = [];
    const counted = new Proxy(ctx.store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(name));
          if (name === 'listWatches') watchQueries.push(args[0]);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const statuses = await environmentStatuses({ ...ctx, store: counted }, ['alpha', 'beta', 'gamma'].map((e) => ctx.environment(e)));
    expect(statuses.map((s) => s.env)).toEqual(['alpha', 'beta', 'gamma']);
    expect(calls.filter((c) => c === 'listLocks')).toHaveLength(1);
    // The running monitors once for all; per environment only the watches that say whether its previous release is proven good (beta's).
    expect(watchQueries.filter((q) => (q as { state?: string }).state === 'running')).toEqual([{ kind: 'monitor', state: 'running' }]);
    expect(watchQueries.filter((q) => (q as { state?: string }).state !== 'running')).toEqual(statuses.filter((s) => s.previousGoodVersion).map((s) => ({ env: s.env, limit: 200 })));
    expect(calls.filter((c) => c === 'listDeployments')).toHaveLength(3);
    expect(calls).not.toContain('getLock');
  });

  it('one environment alone reads the same as in the batch; an unknown one is refused by name', async () => {
    expect(await environmentStatus(ctx, 'beta')).toMatchObject({ env: 'beta', lock: { actor: 'carol' } });
    await expect(environmentStatus(ctx, 'delta')).rejects.toThrow(/unknown environment "delta"/);
  });
});

describe('an environment resolved once per command', () => {
  it('gives the same value on every call, with the overrides applied', () => {
    const first = ctx.environment('alpha');
    expect(ctx.environment('alpha')).toBe(first);
    expect(first.name).toBe('alpha');
    expect(first.services.map((s) => [s.name, s.healthUrl])).toEqual([['web', 'http://127.0.0.1:1/health']]);
    expect(() => ctx.environment('constructor')).toThrow(/not a valid environment name/);
    expect(() => ctx.environment('delta')).toThrow(/unknown environment "delta"/);
  });
});
