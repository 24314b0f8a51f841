// Controller leadership in the store, on both backends: the lease row's compare-and-set, the
// fencing generation, and the fenced view that refuses a superseded leader's writes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FencedError } from '../src/adapters/store/fenced-store.js';
import { openStore } from '../src/adapters/store/open.js';
import type { LeaderRecord, Store } from '../src/adapters/store/store.js';
import { startPostgres, type PostgresServer } from './harness/postgres.js';

let server: PostgresServer;
let tmp: string;
let counter = 0;
const opened: Store[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'shipgate-leader-'));
  server = await startPostgres();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
});
afterAll(async () => {
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const at = (s: number) => new Date(Date.UTC(2026, 0, 5, 15, 0, s)).toISOString();
const claim = (owner: string, pid: number, until: number) => ({ owner, host: 'h', pid, acquiredAt: at(0), leaseUntil: at(until) });

describe.each(['sqlite', 'postgres'] as const)('leadership on %s', (backend) => {
  /** Two stores on one database, as two controller processes have. */
  async function two(): Promise<[Store, Store]> {
    const name = `l${++counter}`;
    const options = backend === 'sqlite' ? { sqliteFile: path.join(tmp, name, 'state.db') } : { url: await server.createDatabase(name), sqliteFile: path.join(tmp, 'unused', 'state.db') };
    const a = await openStore(options);
    const b = await openStore(options);
    opened.push(a, b);
    return [a, b];
  }

  it('one claim wins; a takeover bumps the generation, and a renewal in between makes it fail', async () => {
    const [a, b] = await two();
    const [first, second] = await Promise.all([a.controllers.claimLeader(undefined, claim('a', 1, 10)), b.controllers.claimLeader(undefined, claim('b', 2, 10))]);
    expect([first, second].filter(Boolean)).toHaveLength(1);
    const leader = (await a.controllers.getLeader())!;
    expect(leader.generation).toBe(1);

    // Both standbys read the same expired lease: exactly one takes it, at generation 2.
    const racing = await Promise.all([a.controllers.claimLeader(leader, claim('c', 3, 20)), b.controllers.claimLeader(leader, claim('d', 4, 20))]);
    expect(racing.filter(Boolean)).toEqual([expect.objectContaining({ generation: 2 })]);
    const now = (await b.controllers.getLeader())!;
    expect(now.generation).toBe(2);

    // The leader renews after a standby read the row: the standby's claim fails.
    const read: LeaderRecord = { ...now };
    expect(await a.controllers.renewLeader(2, at(30))).toBe(true);
    expect(await b.controllers.claimLeader(read, claim('e', 5, 40))).toBeUndefined();
    // A superseded generation can neither renew nor resign.
    expect(await a.controllers.renewLeader(1, at(50))).toBe(false);
    expect(await a.controllers.resignLeader(1, at(50))).toBe(false);
    expect(await a.controllers.resignLeader(2, at(31))).toBe(true);
    expect(await a.controllers.getLeader()).toMatchObject({ generation: 2, leaseUntil: at(31) });
    // Resigning keeps the generation: the next leader leads at 3.
    expect(await b.controllers.claimLeader((await b.controllers.getLeader())!, claim('f', 6, 60))).toMatchObject({ generation: 3 });
  });

  it('a fenced store writes while its generation leads, and refuses every write after a takeover', async () => {
    const [a, b] = await two();
    const g1 = (await a.controllers.claimLeader(undefined, claim('a', 1, 10)))!;
    const fenced = a.fenced(g1.generation);
    const deployment = await fenced.createDeployment({ env: 'production', kind: 'deploy', version: 'v1.2.0', fromVersion: null, actor: 'a', reason: null, causeId: null, host: 'h', pid: 1, startedAt: at(1) }, at(1));
    const watch = await fenced.createWatch('monitor', 'production', 'v1.2.0', deployment.id, at(1), { n: 1 });
    await fenced.appendAudit({ at: at(1), actor: 'a', action: 'monitor.trigger', outcome: 'rolling-back' });
    // Reads are not fenced.
    expect((await fenced.getWatch(watch.id))?.data).toEqual({ n: 1 });

    expect(await b.controllers.claimLeader(g1, claim('b', 2, 20))).toMatchObject({ generation: 2 });
    const refusals = await Promise.allSettled([
      fenced.updateWatch(watch.id, { state: 'rolled-back', data: { n: 2 }, finishedAt: at(2) }, at(2)),
      fenced.appendAudit({ at: at(2), actor: 'a', action: 'rollback.start', outcome: 'started' }),
      fenced.tryAcquireLock({ env: 'production', owner: 'a', actor: 'a', reason: 'rollback', token: 't', acquiredAt: at(2), leaseUntil: at(60), host: 'h', pid: 1 }),
      fenced.createIncident('production', at(2), { title: 'x' }),
      fenced.setValues({ k: 'v' }, at(2)),
    ]);
    for (const r of refusals) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason;
      expect(err).toBeInstanceOf(FencedError);
      expect(err.message).toMatch(/generation 1, but generation 2 leads now/);
    }
    // Nothing of it reached the store.
    expect((await b.getWatch(watch.id))).toMatchObject({ state: 'running', data: { n: 1 } });
    expect((await b.listAudit()).map((e) => e.action)).toEqual(['monitor.trigger']);
    expect(await b.getLock('production')).toBeUndefined();
    expect(await b.listIncidents({})).toEqual([]);
    expect(await b.getValues(['k'])).toEqual({ k: null });
    expect((await b.verifyAudit()).ok).toBe(true);

    // The new leader's fenced store writes; an audit append racing plain writers still chains.
    const fenced2 = b.fenced(2);
    const writes = [
      () => fenced2.appendAudit({ at: at(3), actor: 'b', action: 'controller.lead', outcome: 'ok' }),
      () => a.appendAudit({ at: at(3), actor: 'x', action: 'deploy.start', outcome: 'started' }),
      () => fenced2.tryAcquireLock({ env: 'production', owner: 'b', actor: 'b', reason: 'r', token: 'u', acquiredAt: at(3), leaseUntil: at(60), host: 'h', pid: 2 }),
    ];
    // Two SQLite connections of one process cannot interleave (the driver is synchronous: a write
    // waiting on the other's transaction blocks the event loop that would commit it).
    if (backend === 'postgres') await Promise.all(writes.map((w) => w()));
    else for (const w of writes) await w();
    expect(await fenced2.tryAcquireLock({ env: 'production', owner: 'b', actor: 'b', reason: 'r', token: 'v', acquiredAt: at(3), leaseUntil: at(60), host: 'h', pid: 2 })).toMatchObject({ acquired: false, holder: { token: 'u' } });
    expect((await b.listAudit()).map((e) => e.action).sort()).toEqual(['controller.lead', 'deploy.start', 'monitor.trigger']);
    expect((await b.verifyAudit()).ok).toBe(true);
  });

  it('heartbeats list the controllers and are removed on a clean stop', async () => {
    const [a] = await two();
    const row = { id: 'tester@h:7', host: 'h', pid: 7, role: 'standby' as const, generation: null, startedAt: at(0), seenAt: at(1), leaseMs: 10_000 };
    await a.controllers.heartbeat(row);
    await a.controllers.heartbeat({ ...row, role: 'leader', generation: 4, seenAt: at(2) });
    expect(await a.controllers.list()).toEqual([{ ...row, role: 'leader', generation: 4, seenAt: at(2) }]);
    await a.controllers.remove(row.id);
    expect(await a.controllers.list()).toEqual([]);
  });
});
