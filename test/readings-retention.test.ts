// The control room's readings are kept for controller.readingsKeep: older ones of finished soaks and
// monitors are deleted (audited), a running watch keeps all of its own, and the setting is checked.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createContext, type AppContext } from '../src/app/context.js';
import { pruneOldReadings } from '../src/app/readings-retention.js';
import { configSchema } from '../src/config/schema.js';

let dir: string | undefined;
let ctx: AppContext | undefined;
afterEach(async () => {
  await ctx?.store.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  ctx = undefined;
  dir = undefined;
});

const NOW = Date.parse('2030-03-01T00:00:00.000Z');
const daysAgo = (d: number) => new Date(NOW - d * 86_400_000).toISOString();

async function contextWith(controller: Record<string, unknown>): Promise<AppContext> {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-retention-'));
  const config = configSchema.parse({ version: 1, project: 'retention', controller, services: { web: { command: ['true'] } }, environments: { production: {} } });
  const clock = { now: () => new Date(NOW), sleep: async () => undefined };
  return createContext({ file: path.join(dir, 'shipgate.yml'), dir, config }, { clock, wallClock: clock, env: { ...process.env, SHIPGATE_ACTOR: 'controller', SHIPGATE_DATABASE_URL: '' } });
}

describe('readings retention', () => {
  it('deletes readings older than controller.readingsKeep of finished watches, keeps a running watch\'s, and audits what went', async () => {
    ctx = await contextWith({ readingsKeep: '7d' });
    const { store } = ctx;
    const d = await store.createDeployment({ env: 'production', kind: 'deploy', version: 'v1', fromVersion: null, actor: 't', reason: null, causeId: null, host: 'h', pid: 1, startedAt: daysAgo(40) }, daysAgo(40));
    const finished = await store.createWatch('monitor', 'production', 'v1', d.id, daysAgo(40), {});
    await store.updateWatch(finished.id, { state: 'passed', data: {}, finishedAt: daysAgo(9) }, daysAgo(9));
    const running = await store.createWatch('soak', 'production', 'v1', d.id, daysAgo(30), {});
    for (const w of [finished, running]) {
      for (const age of [30, 8, 6, 1]) await store.appendReadings(w.id, daysAgo(age), [{ check: 'errors', verdict: 'pass', value: 0.01, evidence: {}, reason: `${age}d` }]);
    }

    expect(await pruneOldReadings(ctx)).toBe(2);
    expect((await store.listReadings(finished.id)).map((r) => r.reason)).toEqual(['6d', '1d']);
    expect((await store.listReadings(running.id)).map((r) => r.reason)).toEqual(['30d', '8d', '6d', '1d']);
    const events = await store.listAudit({ action: 'readings.prune' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'ok', reason: `deleted 2 readings taken before ${daysAgo(7)} (controller.readingsKeep)` });

    // Nothing more to delete: nothing recorded.
    expect(await pruneOldReadings(ctx)).toBe(0);
    expect(await store.listAudit({ action: 'readings.prune' })).toHaveLength(1);
  });

  it('keeps 30 days by default and refuses less than an hour, naming the field and the fix', () => {
    const base = { version: 1, project: 'p', services: { web: { command: ['true'] } }, environments: { production: {} } };
    expect(configSchema.parse(base).controller.readingsKeep).toBe(30 * 86_400_000);
    const bad = configSchema.safeParse({ ...base, controller: { readingsKeep: '10m' } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({ path: ['controller', 'readingsKeep'], message: 'readings must be kept at least 1h' });
  });
});
