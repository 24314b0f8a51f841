// The store port on both backends it promises: a SQLite file and a real PostgreSQL server.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqlite } from '../src/adapters/store/sqlite-driver.js';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configureConnection, openStore } from '../src/adapters/store/open.js';
import type { LockRecord, NewDeployment, Store } from '../src/adapters/store/store.js';
import { ROOT } from './harness/cli.js';
import { startPostgres, type PostgresServer } from './harness/postgres.js';

type Backend = 'sqlite' | 'postgres';
interface Target {
  options: { url?: string; sqliteFile: string };
  /** Runs SQL straight against the database, bypassing the store. */
  query(sql: string): Promise<Record<string, unknown>[]>;
}

let server: PostgresServer;
let tmp: string;
let counter = 0;
const opened: Store[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'shipgate-store-'));
  server = await startPostgres();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
});

afterAll(async () => {
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A fresh, empty database of the backend: a new SQLite file or a new PostgreSQL database. */
async function freshTarget(backend: Backend): Promise<Target> {
  const name = `t${++counter}`;
  if (backend === 'sqlite') {
    const sqliteFile = path.join(tmp, name, 'state.db');
    return {
      options: { sqliteFile },
      async query(sql) {
        const db = openSqlite(sqliteFile).database;
        try {
          const stmt = db.prepare(sql);
          return stmt.reader ? (stmt.all([]) as Record<string, unknown>[]) : (stmt.run([]), []);
        } finally {
          db.close();
        }
      },
    };
  }
  const url = await server.createDatabase(name);
  return {
    options: { url, sqliteFile: path.join(tmp, 'unused', 'state.db') },
    async query(sql) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    },
  };
}

async function appliedMigrations(target: Target): Promise<string[]> {
  return (await target.query('select name from shipgate_migrations order by name')).map((r) => String(r.name));
}

async function open(target: Target): Promise<Store> {
  const store = await openStore(target.options);
  opened.push(store);
  return store;
}

const T0 = '2030-01-01T00:00:00.000Z';
const at = (minute: number) => new Date(Date.parse(T0) + minute * 60_000).toISOString();

const newDeployment = (over: Partial<NewDeployment> = {}): NewDeployment => ({
  env: 'staging', kind: 'deploy', version: 'v1.0.0', fromVersion: null, actor: 'tester', reason: null,
  causeId: null, host: 'host-a', pid: 4242, startedAt: at(0), ...over,
});

const lock = (over: Partial<LockRecord> = {}): LockRecord => ({
  env: 'staging', owner: 'tester@host-a:1', actor: 'tester', reason: 'deploy v1.0.0', token: 'token-1',
  acquiredAt: at(0), leaseUntil: at(10), host: 'host-a', pid: 1, generation: null, ...over,
});

/** Opens the store (migrating it) from a separate `node` process, as concurrent CLI runs do. */
function openInChildProcess(options: Target['options']): Promise<{ code: number | null; output: string }> {
  const openJs = path.join(ROOT, 'dist', 'adapters', 'store', 'open.js');
  if (!existsSync(openJs)) throw new Error(`${openJs} is missing: run \`npm run build\` first`);
  const script = `const { openStore } = await import(${JSON.stringify(openJs)});
const s = await openStore(${JSON.stringify(options)});
await s.appendAudit({ at: new Date().toISOString(), actor: 'child', action: 'open', outcome: 'ok' });
await s.close();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('openStore', () => {
  it('refuses a database URL that is not PostgreSQL instead of silently using SQLite', async () => {
    const sqliteFile = path.join(tmp, 'refused', 'state.db');
    await expect(openStore({ url: 'mysql://u:secret@db/shipgate', sqliteFile })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/SHIPGATE_DATABASE_URL must be a postgres:\/\/ or postgresql:\/\/ URL, not mysql:/),
    });
    await expect(openStore({ url: 'mysql://u:secret@db/shipgate', sqliteFile })).rejects.not.toThrow(/secret/);
    expect(existsSync(sqliteFile)).toBe(false);
    const blank = await openStore({ url: '  ', sqliteFile });
    opened.push(blank);
    expect(blank.dialect).toBe('sqlite');
  });
});

describe('SQLite connections', () => {
  it('run at synchronous FULL, also when reopening a WAL file (better-sqlite3 would default to NORMAL there)', () => {
    const file = path.join(tmp, 'synchronous.db');
    for (const open of ['new file', 'reopened WAL file']) {
      const handle = openSqlite(file);
      try {
        configureConnection(handle);
        const [row] = handle.database.prepare('pragma synchronous').all([]) as { synchronous: number }[];
        expect({ open, library: handle.library, synchronous: row?.synchronous }).toEqual({ open, library: handle.library, synchronous: 2 });
        const [mode] = handle.database.prepare('pragma journal_mode').all([]) as { journal_mode: string }[];
        expect(mode?.journal_mode).toBe('wal');
      } finally {
        handle.database.close?.();
      }
    }
  });
});

describe.each(['sqlite', 'postgres'] as const)('store on %s', (backend) => {
  it('reports its dialect and migrates idempotently: reopening keeps data and applies nothing twice', async () => {
    const target = await freshTarget(backend);
    const first = await open(target);
    expect(first.dialect).toBe(backend);
    await first.createDeployment(newDeployment(), at(0));
    await first.close();
    const migrations = await appliedMigrations(target);
    expect(migrations[0]).toBe('0001_foundation');

    const second = await open(target);
    expect(await second.listDeployments({})).toHaveLength(1);
    await second.close();
    const third = await open(target);
    expect(await third.listDeployments({})).toHaveLength(1);
    expect(await appliedMigrations(target)).toEqual(migrations);
  });

  it('migrates a fresh database opened by several processes at once', async () => {
    // The children run the built store (dist), which is what the reference is migrated with too.
    const reference = await freshTarget(backend);
    expect(await openInChildProcess(reference.options)).toMatchObject({ code: 0 });
    // The race is on the very first open, so each round gets a fresh database.
    for (let round = 0; round < 4; round++) {
      const target = await freshTarget(backend);
      const runs = await Promise.all(Array.from({ length: 4 }, () => openInChildProcess(target.options)));
      for (const run of runs) expect(run, run.output).toMatchObject({ code: 0 });
      expect(await appliedMigrations(target)).toEqual(await appliedMigrations(reference));
      const store = await open(target);
      expect(await store.verifyAudit()).toEqual({ ok: true, checked: 4 });
    }
  });

  it('migrates a fresh database opened twice at once in one process', async () => {
    const target = await freshTarget(backend);
    const [a, b] = await Promise.all([open(target), open(target)]);
    await a.createDeployment(newDeployment(), at(0));
    expect(await b.listDeployments({})).toHaveLength(1);
  });

  it('creates, lists, finishes and adopts deployments with numeric ids', async () => {
    const store = await open(await freshTarget(backend));
    const first = await store.createDeployment(newDeployment(), at(1));
    expect(first).toMatchObject({
      ...newDeployment(), id: first.id, state: 'running', error: null, updatedAt: at(1), finishedAt: null,
    });
    expect(typeof first.id).toBe('number');

    const second = await store.createDeployment(newDeployment({ kind: 'rollback', version: 'v0.9.0', fromVersion: 'v1.0.0', causeId: first.id, reason: 'bad fills' }), at(2));
    const other = await store.createDeployment(newDeployment({ env: 'production' }), at(3));
    expect(second.id).toBeGreaterThan(first.id);
    expect(second.causeId).toBe(first.id);
    expect(typeof second.causeId).toBe('number');

    expect((await store.listDeployments({ env: 'staging' })).map((d) => d.id)).toEqual([second.id, first.id]);
    expect((await store.listDeployments({})).map((d) => d.id)).toEqual([other.id, second.id, first.id]);
    expect((await store.listDeployments({ env: 'staging', limit: 1 })).map((d) => d.id)).toEqual([second.id]);

    await store.finishDeployment(first.id, 'failed', at(5), 'health check failed');
    await store.adoptDeployment(second.id, 'host-b', 777, at(6));
    expect(await store.getDeployment(first.id)).toMatchObject({ state: 'failed', error: 'health check failed', finishedAt: at(5), updatedAt: at(5) });
    const adopted = await store.getDeployment(second.id);
    expect(adopted).toMatchObject({ state: 'running', host: 'host-b', pid: 777, updatedAt: at(6), finishedAt: null });
    expect(typeof adopted?.pid).toBe('number');
    await store.finishDeployment(second.id, 'succeeded', at(7));
    expect(await store.getDeployment(second.id)).toMatchObject({ state: 'succeeded', error: null, finishedAt: at(7) });
    expect(await store.getDeployment(99_999)).toBeUndefined();
  });

  it('starts, finishes and lists steps with JSON detail', async () => {
    const store = await open(await freshTarget(backend));
    const d = await store.createDeployment(newDeployment(), at(0));
    const other = await store.createDeployment(newDeployment({ env: 'production' }), at(0));
    const prepare = await store.startStep(d.id, 'prepare', 1, at(1));
    expect(prepare).toEqual({ id: prepare.id, deploymentId: d.id, name: 'prepare', seq: 1, state: 'started', startedAt: at(1), finishedAt: null, detail: {} });
    expect(typeof prepare.id).toBe('number');
    expect((await store.getDeployment(d.id))?.updatedAt).toBe(at(1));

    const detail = { services: ['gateway', 'signal'], health: { ok: false, attempts: 3, lastError: 'HTTP 500 "x"' }, note: null };
    await store.finishStep(prepare.id, 'failed', at(2), detail);
    const start = await store.startStep(d.id, 'start', 2, at(3));
    await store.startStep(other.id, 'prepare', 1, at(3));
    await store.finishStep(start.id, 'succeeded', at(4));

    const steps = await store.listSteps(d.id);
    expect(steps.map((s) => [s.name, s.seq, s.state, s.finishedAt])).toEqual([
      ['prepare', 1, 'failed', at(2)],
      ['start', 2, 'succeeded', at(4)],
    ]);
    expect(steps[0]?.detail).toEqual(detail);
    expect(steps[1]?.detail).toEqual({});
    expect(await store.listSteps(12_345)).toEqual([]);
    await expect(store.startStep(12_345, 'prepare', 1, at(5))).rejects.toThrow();
  });

  it('records releases once per env and version, keeping the verdict across re-records', async () => {
    const target = await freshTarget(backend);
    const store = await open(target);
    await store.recordRelease('staging', 'v1.0.0', 'aaa', at(1));
    expect(await store.getRelease('staging', 'v1.0.0')).toEqual({ env: 'staging', version: 'v1.0.0', commit: 'aaa', verdict: null, reason: null, updatedAt: at(1) });

    await store.setVerdict('staging', 'v1.0.0', 'bad', 'error rate 10%', at(2));
    await store.recordRelease('staging', 'v1.0.0', 'bbb', at(3));
    await store.recordRelease('staging', 'v1.1.0', 'ccc', at(4));
    await store.recordRelease('production', 'v1.0.0', 'aaa', at(5));
    await store.setVerdict('staging', 'v1.1.0', 'good', null, at(6));

    const staging = await store.listReleases('staging');
    expect(staging).toEqual([
      { env: 'staging', version: 'v1.1.0', commit: 'ccc', verdict: 'good', reason: null, updatedAt: at(6) },
      { env: 'staging', version: 'v1.0.0', commit: 'bbb', verdict: 'bad', reason: 'error rate 10%', updatedAt: at(3) },
    ]);
    expect(await store.listReleases('production')).toHaveLength(1);
    expect(await target.query('select count(*) as n from releases').then((r) => Number(r[0]?.n))).toBe(3);
    expect(await store.getRelease('staging', 'v9.9.9')).toBeUndefined();
  });

  it('locks: one holder, compare-and-swap takeover, renew and release only with the token, force release', async () => {
    const store = await open(await freshTarget(backend));
    const mine = lock();
    expect(await store.tryAcquireLock(mine)).toEqual({ acquired: true });
    expect(await store.getLock('staging')).toEqual(mine);
    expect(typeof (await store.getLock('staging'))?.pid).toBe('number');

    const theirs = lock({ owner: 'alice@host-b:2', actor: 'alice', reason: 'deploy v1.1.0', token: 'token-2', host: 'host-b', pid: 2, generation: 7 });
    expect(await store.tryAcquireLock(theirs)).toEqual({ acquired: false, holder: mine });
    expect(await store.tryAcquireLock(lock({ env: 'production', token: 'token-p' }))).toEqual({ acquired: true });
    expect((await store.listLocks()).map((l) => [l.env, l.token])).toEqual([['production', 'token-p'], ['staging', 'token-1']]);

    // Takeover is a compare-and-swap on the token: a stale expectation changes nothing.
    expect(await store.takeOverLock('wrong-token', theirs)).toBe(false);
    expect((await store.getLock('staging'))?.token).toBe('token-1');
    expect(await store.takeOverLock('token-1', theirs)).toBe(true);
    expect(await store.getLock('staging')).toEqual(theirs);
    expect(await store.takeOverLock('token-1', mine)).toBe(false);

    expect(await store.renewLock('staging', 'token-1', at(30))).toBe(false);
    expect(await store.renewLock('staging', 'token-2', at(30))).toBe(true);
    expect((await store.getLock('staging'))?.leaseUntil).toBe(at(30));

    expect(await store.releaseLock('staging', 'token-1')).toBe(false);
    expect(await store.getLock('staging')).toBeDefined();
    expect(await store.releaseLock('staging', 'token-2')).toBe(true);
    expect(await store.getLock('staging')).toBeUndefined();
    expect(await store.releaseLock('staging', 'token-2')).toBe(false);

    expect(await store.tryAcquireLock(mine)).toEqual({ acquired: true });
    expect(await store.forceReleaseLock('staging')).toEqual(mine);
    expect(await store.getLock('staging')).toBeUndefined();
    expect(await store.forceReleaseLock('staging')).toBeUndefined();
    expect((await store.listLocks()).map((l) => l.env)).toEqual(['production']);
  });

  it('claims an approval once: of runs racing on two connections exactly one gets it; a returned one can be claimed again', async () => {
    const target = await freshTarget(backend);
    const [a, b] = [await open(target), await open(target)];
    const approval = await a.createApproval({ env: 'production', action: 'breaker-reset', subject: 'cb:state', requester: 'alice', reason: 'false alarm', required: 1, createdAt: at(0), expiresAt: at(60) });
    // Pending: nothing to claim yet.
    expect(await a.claimApproval(approval.id)).toBe(false);
    await a.updateApproval(approval.id, { state: 'approved', approvers: [{ by: 'bob', at: at(1) }] });

    const claims = await Promise.all([a, b, a, b, a, b].map((store) => store.claimApproval(approval.id)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await b.getApproval(approval.id)).toMatchObject({ state: 'used' });

    // Given back (the action could not start): usable once more, and only once.
    expect(await b.returnApproval(approval.id)).toBe(true);
    expect(await a.returnApproval(approval.id)).toBe(false);
    expect(await a.getApproval(approval.id)).toMatchObject({ state: 'approved', approvers: [{ by: 'bob' }] });
    expect((await Promise.all([b.claimApproval(approval.id), a.claimApproval(approval.id)])).filter(Boolean)).toHaveLength(1);
    expect(await a.claimApproval(99_999)).toBe(false);
  });
});
