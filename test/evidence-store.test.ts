// Baselines and check states survive storage exactly on both store backends: +Inf, -Inf, NaN and
// large counts (JSON alone writes the non-finite ones as null, which lost every +Inf bucket).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDocument, encodeDocument } from '../src/adapters/store/json-document.js';
import { openStore } from '../src/adapters/store/open.js';
import type { Store } from '../src/adapters/store/store.js';
import { latencyBaseline, type CheckBaseline } from '../src/core/analysis/checks.js';
import { startPostgres, type PostgresServer } from './harness/postgres.js';
import { scaled } from './harness/pace.js';

let server: PostgresServer;
let tmp: string;
beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'shipgate-evidence-store-'));
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const HUGE = Number.MAX_SAFE_INTEGER; // a counter of a long-lived process
const buckets = [
  { le: 0.01, count: 1_000_000 },
  { le: 0.04, count: 9_000_000_000 },
  { le: 1.28, count: HUGE - 5 },
  { le: Infinity, count: HUGE },
];
const baseline: Record<string, CheckBaseline> = {
  p95: latencyBaseline(buckets, 0.95, 20)!,
  errors: { errorRate: 0.0123, requests: HUGE },
};
const odd = { nan: NaN, neg: -Infinity, tiny: 5e-324, big: 1.7976931348623157e308, nested: [{ le: Infinity }], text: '+Inf', lookalike: { $number: 'bogus' } };

describe('stored documents keep every number', () => {
  it('encodes non-finite numbers and reads them back (and leaves look-alikes alone)', () => {
    const back = decodeDocument<typeof odd>(encodeDocument(odd));
    expect(back.nan).toBeNaN();
    expect(back).toEqual({ ...odd, nan: NaN });
    expect(JSON.parse(JSON.stringify({ le: Infinity }))).toEqual({ le: null }); // the bug this fixes
  });

  for (const backend of ['sqlite', 'postgres'] as const) {
    it(`round-trips a baseline in deployment meta and soak data on ${backend}`, async () => {
      const name = `evidence_${backend}`;
      const options = backend === 'sqlite' ? { sqliteFile: path.join(tmp, name, 'state.db') } : { url: await server.createDatabase(name), sqliteFile: path.join(tmp, 'unused', 'state.db') };
      const store: Store = await openStore(options);
      try {
        const at = '2030-01-01T00:00:00.000Z';
        const d = await store.createDeployment({ env: 'staging', kind: 'deploy', version: 'v2.0.0', fromVersion: 'v1.9.0', actor: 't', reason: null, causeId: null, host: 'h', pid: 1, startedAt: at, meta: { baseline } }, at);
        await store.setDeploymentMeta(d.id, { baseline, odd });
        const meta = (await store.getDeployment(d.id))!.meta as { baseline: typeof baseline; odd: typeof odd };
        expect(meta.baseline).toEqual(baseline);
        expect(meta.baseline.p95!.buckets!.at(-1)).toEqual({ le: Infinity, count: HUGE });
        expect(meta.odd.nan).toBeNaN();
        expect(meta.odd.neg).toBe(-Infinity);

        const watch = await store.createWatch('soak', 'staging', 'v2.0.0', d.id, at, { baseline, checks: { p95: { start: { kind: 'buckets', buckets } } } });
        const updated = await store.updateWatch(watch.id, { state: 'running', data: { baseline, checks: { p95: { prev: { kind: 'buckets', buckets } } } }, finishedAt: null }, at);
        expect((updated.data as { baseline: unknown }).baseline).toEqual(baseline);
        const read = (await store.getWatch(watch.id))!.data as { baseline: typeof baseline; checks: { p95: { prev: { buckets: typeof buckets } } } };
        expect(read.baseline).toEqual(baseline);
        expect(read.checks.p95.prev.buckets).toEqual(buckets);
      } finally {
        await store.close();
      }
    }, scaled(60_000));
  }
});
