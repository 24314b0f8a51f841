// The audit log's hash chain on both backends: tampering is detected, concurrent appends
// from separate store instances stay contiguous, and `shipgate audit --verify` reports it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqlite } from '../src/adapters/store/sqlite-driver.js';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditHash } from '../src/adapters/store/kysely-store.js';
import { openStore } from '../src/adapters/store/open.js';
import type { AuditInput, Store } from '../src/adapters/store/store.js';
import { startPostgres, type PostgresServer } from './harness/postgres.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';

type Backend = 'sqlite' | 'postgres';
interface Target {
  options: { url?: string; sqliteFile: string };
  /** Runs one SQL statement straight against the database, as an attacker with file/DB access would. */
  exec(sql: string, params?: unknown[]): Promise<void>;
}

let server: PostgresServer;
let tmp: string;
let counter = 0;
const opened: Store[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'shipgate-audit-'));
  server = await startPostgres();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
});

afterAll(async () => {
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function freshTarget(backend: Backend): Promise<Target> {
  const name = `a${++counter}`;
  if (backend === 'sqlite') {
    const sqliteFile = path.join(tmp, name, 'state.db');
    return { options: { sqliteFile }, exec: async (sql, params = []) => void tamperSqlite(sqliteFile, sql, params) };
  }
  const url = await server.createDatabase(name);
  return {
    options: { url, sqliteFile: path.join(tmp, 'unused', 'state.db') },
    async exec(sql, params = []) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        // pg numbers its placeholders; the statements here are written with `?`.
        let i = 0;
        await client.query(sql.replace(/\?/g, () => `$${++i}`), params);
      } finally {
        await client.end();
      }
    },
  };
}

function tamperSqlite(file: string, sql: string, params: unknown[] = []): void {
  const db = openSqlite(file).database;
  try {
    const res = db.prepare(sql).run(params);
    if (res.changes !== 1) throw new Error(`expected to change one row, changed ${res.changes}: ${sql}`);
  } finally {
    db.close();
  }
}

async function open(target: Target): Promise<Store> {
  const store = await openStore(target.options);
  opened.push(store);
  return store;
}

const event = (i: number, over: Partial<AuditInput> = {}): AuditInput => ({
  at: new Date(Date.UTC(2030, 0, 1, 0, i)).toISOString(),
  actor: 'tester',
  action: i % 2 ? 'deploy.start' : 'deploy.finish',
  env: 'staging',
  version: `v1.${i}.0`,
  reason: `event ${i}`,
  outcome: 'ok',
  detail: { deploymentId: i, nested: { services: ['gateway'] } },
  ...over,
});

async function fiveEvents(store: Store): Promise<void> {
  for (let i = 1; i <= 5; i++) await store.appendAudit(event(i, i === 4 ? { env: null, version: null, reason: null, detail: undefined } : {}));
}

describe.each(['sqlite', 'postgres'] as const)('audit chain on %s', (backend) => {
  it('chains each event to the previous one and verifies', async () => {
    const store = await open(await freshTarget(backend));
    await fiveEvents(store);
    const events = await store.listAudit();
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(events[0]?.prevHash).toBe('0'.repeat(64));
    for (let i = 1; i < events.length; i++) expect(events[i]?.prevHash).toBe(events[i - 1]?.hash);
    expect(events[3]).toMatchObject({ env: null, version: null, reason: null, detail: {} });
    expect(events[1]?.detail).toEqual({ deploymentId: 2, nested: { services: ['gateway'] } });
    expect(new Set(events.map((e) => e.hash)).size).toBe(5);
    expect(await store.verifyAudit()).toEqual({ ok: true, checked: 5 });
  });

  it('detects an event altered in place', async () => {
    const target = await freshTarget(backend);
    const store = await open(target);
    await fiveEvents(store);
    await target.exec("UPDATE audit SET reason='x' WHERE seq=2");
    const v = await store.verifyAudit();
    expect(v).toMatchObject({ ok: false, firstBadSeq: 2, checked: 1 });
    expect(v.problem).toMatch(/altered/);
  });

  it('detects a deleted event in the middle', async () => {
    const target = await freshTarget(backend);
    const store = await open(target);
    await fiveEvents(store);
    await target.exec('DELETE FROM audit WHERE seq=3');
    const v = await store.verifyAudit();
    expect(v).toMatchObject({ ok: false, firstBadSeq: 3, checked: 2 });
    expect(v.problem).toMatch(/missing/);
  });

  it('detects an altered event whose hash was recomputed, at the next link', async () => {
    const target = await freshTarget(backend);
    const store = await open(target);
    await fiveEvents(store);
    const original = (await store.listAudit())[1]!;
    const { hash: _hash, prevHash, ...fields } = original;
    const forged = { ...fields, actor: 'mallory', reason: 'nothing to see' };
    const forgedHash = auditHash(prevHash, forged);
    await target.exec('UPDATE audit SET actor=?, reason=?, hash=? WHERE seq=2', ['mallory', 'nothing to see', forgedHash]);

    const v = await store.verifyAudit();
    expect(v).toMatchObject({ ok: false, firstBadSeq: 3, checked: 2 });
    expect(v.problem).toMatch(/does not link/);
  });

  it('keeps seq contiguous under 20 concurrent appends from two store instances', async () => {
    const target = await freshTarget(backend);
    const [a, b] = [await open(target), await open(target)];
    const appended = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).appendAudit(event(i + 1, { actor: i % 2 ? 'a' : 'b' }))));
    expect(appended.map((r) => r.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    const events = await a.listAudit();
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(events.filter((e) => e.actor === 'a')).toHaveLength(10);
    // What each append returned is what was stored.
    for (const r of appended) expect(events[r.seq - 1]).toEqual(r);
    expect(await a.verifyAudit()).toEqual({ ok: true, checked: 20 });
    expect(await b.verifyAudit()).toEqual({ ok: true, checked: 20 });
  });
});

describe('shipgate audit --verify', () => {
  let ws: StackWorkspace;

  beforeAll(async () => {
    ws = await stackWorkspace(['staging']);
  });

  afterAll(async () => {
    await ws?.cleanup();
  });

  it('exits 0 on an intact log and 1 naming the first altered event after tampering', async () => {
    for (const args of [
      ['lock', 'acquire', 'staging', '--reason', 'x'],
      ['lock', 'release', 'staging'],
      ['lock', 'acquire', 'staging', '--reason', 'y'],
    ]) {
      const res = await ws.run(args);
      expect(res.code, res.stderr).toBe(0);
    }
    const intact = await ws.run(['audit', '--verify', '--json']);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.json()).toEqual({ ok: true, checked: 3 });
    const human = await ws.run(['audit', '--verify']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('3 events');

    tamperSqlite(path.join(ws.dir, '.shipgate', 'state.db'), "UPDATE audit SET reason='x' WHERE seq=2");
    const broken = await ws.run(['audit', '--verify', '--json']);
    expect(broken.code).toBe(1);
    expect(broken.json()).toMatchObject({ ok: false, firstBadSeq: 2, checked: 1 });
    expect(broken.json().problem).toMatch(/altered/);
  });
});
