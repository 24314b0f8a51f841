// The audit log's hash chain on both backends: tampering is detected, concurrent appends
// from separate store instances stay contiguous, and `shipgate audit --verify` reports it.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { inspectState } from '../src/app/state.js';
import os from 'node:os';
import path from 'node:path';
import { openSqlite } from '../src/adapters/store/sqlite-driver.js';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditHash } from '../src/adapters/store/kysely-store.js';
import { openStore } from '../src/adapters/store/open.js';
import { AUDIT_CHECKPOINT_FILE, AUDIT_KEY_FILE, fileAuditSeal } from '../src/adapters/store/audit-seal.js';
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
    options: { url, sqliteFile: path.join(tmp, name, 'unused.db') },
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
    expect(events.every((e) => e.mac === null)).toBe(true);
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
    const { hash: _hash, prevHash, mac: _mac, ...fields } = original;
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

/** What an attacker with write access to the database (but not to the key) can do, on both backends. */
describe.each(['sqlite', 'postgres'] as const)('keyed audit log on %s', (backend) => {
  const keyed = async (target: Target) => {
    const store = await openStore({ ...target.options, auditSeal: fileAuditSeal(path.dirname(target.options.sqliteFile), {}) });
    opened.push(store);
    return store;
  };
  const stateDirOf = (target: Target) => path.dirname(target.options.sqliteFile);

  async function keyedFive(): Promise<{ target: Target; store: Store }> {
    const target = await freshTarget(backend);
    const store = await keyed(target);
    await fiveEvents(store);
    return { target, store };
  }

  it('seals each event with a MAC and checkpoints the head outside the table, key file mode 0600', async () => {
    const { target, store } = await keyedFive();
    const events = await store.listAudit();
    expect(events.every((e) => /^hmac-sha256:[0-9a-f]{64}$/.test(e.mac ?? ''))).toBe(true);
    expect(await store.verifyAudit()).toEqual({ ok: true, checked: 5, keyed: 5, unkeyed: 0, checkpoint: { seq: 5, hash: events[4]!.hash } });
    expect(statSync(path.join(stateDirOf(target), AUDIT_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path.join(stateDirOf(target), AUDIT_CHECKPOINT_FILE), 'utf8'))).toMatchObject({ seq: 5, hash: events[4]!.hash });
  });

  it('detects the newest event deleted', async () => {
    const { target, store } = await keyedFive();
    await target.exec('DELETE FROM audit WHERE seq=5');
    const v = await store.verifyAudit();
    expect(v).toMatchObject({ ok: false, kind: 'cut', firstBadSeq: 5 });
    expect(v.problem).toMatch(/newest event was deleted.*ends at event 4.*records event 5/);
  });

  it('detects the newest 3 events deleted', async () => {
    const { target, store } = await keyedFive();
    for (const seq of [5, 4, 3]) await target.exec('DELETE FROM audit WHERE seq=?', [seq]);
    const v = await store.verifyAudit();
    expect(v).toMatchObject({ ok: false, kind: 'cut', firstBadSeq: 3, checked: 2 });
    expect(v.problem).toMatch(/newest 3 events were deleted/);
  });

  it('detects the table emptied', async () => {
    const { target, store } = await keyedFive();
    for (const seq of [1, 2, 3, 4, 5]) await target.exec('DELETE FROM audit WHERE seq=?', [seq]);
    const v = await store.verifyAudit();
    expect(v).toMatchObject({ ok: false, kind: 'emptied', checked: 0 });
    expect(v.problem).toMatch(/empty, but the checkpoint records 5 events/);
  });

  it('detects an edited event whose whole chain of hashes was recomputed', async () => {
    const { target, store } = await keyedFive();
    const events = await store.listAudit();
    let prevHash = events[0]!.hash;
    for (const original of events.slice(1)) {
      const { hash: _h, prevHash: _p, mac: _m, ...fields } = original;
      const forged = original.seq === 2 ? { ...fields, actor: 'mallory', reason: 'nothing to see' } : fields;
      const hash = auditHash(prevHash, forged);
      await target.exec('UPDATE audit SET actor=?, reason=?, prev_hash=?, hash=? WHERE seq=?', [forged.actor, forged.reason, prevHash, hash, original.seq]);
      prevHash = hash;
    }
    // Without a seal the rewrite is invisible: that is the finding this closes.
    const bare = await open(target);
    expect((await bare.verifyAudit()).ok).toBe(true);
    const v = await store.verifyAudit();
    expect(v).toMatchObject({ ok: false, kind: 'forged', firstBadSeq: 2, checked: 1 });
    expect(v.problem).toMatch(/MAC does not match/);
  });

  it.each([
    ['without a MAC', null],
    ['with a made-up MAC', `hmac-sha256:${'ab'.repeat(32)}`],
  ])('detects an appended forged event %s', async (_label, mac) => {
    const { target, store } = await keyedFive();
    const tip = (await store.listAudit()).at(-1)!;
    const fields = { seq: 6, at: new Date(Date.UTC(2030, 0, 2)).toISOString(), actor: 'bob', action: 'approval.grant', env: 'production', version: 'v9.9.9', reason: 'looks fine', outcome: 'approved', detail: {} };
    await target.exec(
      'INSERT INTO audit (seq, at, actor, action, env, version, reason, outcome, detail, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [6, fields.at, fields.actor, fields.action, fields.env, fields.version, fields.reason, fields.outcome, '{}', tip.hash, auditHash(tip.hash, fields), mac],
    );
    const v = await store.verifyAudit();
    expect(v).toMatchObject({ ok: false, kind: 'forged', firstBadSeq: 6, checked: 5 });
  });

  it('detects a deleted checkpoint once events carry MACs, and a checkpoint moved back', async () => {
    const { target, store } = await keyedFive();
    const cp = path.join(stateDirOf(target), AUDIT_CHECKPOINT_FILE);
    const saved = readFileSync(cp, 'utf8');
    unlinkSync(cp);
    expect(await store.verifyAudit()).toMatchObject({ ok: false, kind: 'checkpoint' });
    // Hand-editing the head back to an earlier event (to hide a cut) breaks its MAC.
    const moved = { ...JSON.parse(saved), seq: 4 };
    (await import('node:fs')).writeFileSync(cp, JSON.stringify(moved));
    const v = await store.verifyAudit();
    expect(v).toMatchObject({ ok: false, kind: 'checkpoint' });
    expect(v.problem).toMatch(/altered/);
  });

  it('never overwrites a damaged checkpoint (that would hide a cut), and the state check fails closed on it', async () => {
    const { target, store } = await keyedFive();
    const seal = fileAuditSeal(stateDirOf(target), {});
    const cp = path.join(stateDirOf(target), AUDIT_CHECKPOINT_FILE);
    await target.exec('DELETE FROM audit WHERE seq=5');
    const damaged = JSON.stringify({ ...JSON.parse(readFileSync(cp, 'utf8')), mac: 'hmac-sha256:00' });
    writeFileSync(cp, damaged);
    const state = await inspectState(stateDirOf(target), store, seal);
    expect(state).toMatchObject({ ok: false, events: 4 });
    expect(state.problem).toMatch(/altered/);
    await store.appendAudit(event(6));
    expect(readFileSync(cp, 'utf8')).toBe(damaged);
    expect(await store.verifyAudit()).toMatchObject({ ok: false, kind: 'checkpoint' });
  });

  it('accepts a log written before MACs existed, reporting its events as unkeyed, and keys what follows', async () => {
    const target = await freshTarget(backend);
    await fiveEvents(await open(target));
    const store = await keyed(target);
    expect(await store.verifyAudit()).toEqual({ ok: true, checked: 5, keyed: 0, unkeyed: 5, checkpoint: null });
    expect(existsSync(path.join(stateDirOf(target), AUDIT_KEY_FILE))).toBe(false);
    await store.appendAudit(event(6));
    await store.appendAudit(event(7));
    expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 7, keyed: 2, unkeyed: 5, checkpoint: { seq: 7 } });
  });

  it('takes the key from SHIPGATE_AUDIT_KEY and fails verification with another key', async () => {
    const target = await freshTarget(backend);
    const dir = stateDirOf(target);
    const store = await openStore({ ...target.options, auditSeal: fileAuditSeal(dir, { SHIPGATE_AUDIT_KEY: 'k'.repeat(40) }) });
    opened.push(store);
    await fiveEvents(store);
    expect(existsSync(path.join(dir, AUDIT_KEY_FILE))).toBe(false);
    expect((await store.verifyAudit()).ok).toBe(true);
    const other = await openStore({ ...target.options, auditSeal: fileAuditSeal(dir, { SHIPGATE_AUDIT_KEY: 'x'.repeat(40) }) });
    opened.push(other);
    expect(await other.verifyAudit()).toMatchObject({ ok: false, kind: 'forged', firstBadSeq: 1 });
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
    expect(intact.json()).toMatchObject({ ok: true, checked: 3, keyed: 3, unkeyed: 0, checkpoint: { seq: 3 } });
    const human = await ws.run(['audit', '--verify']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('3 events');

    tamperSqlite(path.join(ws.dir, '.shipgate', 'state.db'), "UPDATE audit SET reason='x' WHERE seq=2");
    const broken = await ws.run(['audit', '--verify', '--json']);
    expect(broken.code).toBe(1);
    expect(broken.json()).toMatchObject({ ok: false, firstBadSeq: 2, checked: 1 });
    expect(broken.json().problem).toMatch(/altered/);
  });

  it('exits 1 naming the cut when the newest events are deleted, and exports what is left as JSON lines', async () => {
    const cut = await stackWorkspace(['staging']);
    try {
      for (const args of [['lock', 'acquire', 'staging', '--reason', 'x'], ['lock', 'release', 'staging'], ['lock', 'acquire', 'staging', '--reason', 'y']]) {
        expect((await cut.run(args)).code).toBe(0);
      }
      const exported = await cut.run(['audit', 'export', '--to', '-']);
      expect(exported.code, exported.stderr).toBe(0);
      const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(lines.every((e) => e.mac?.startsWith('hmac-sha256:'))).toBe(true);

      tamperSqlite(path.join(cut.dir, '.shipgate', 'state.db'), 'DELETE FROM audit WHERE seq=3');
      const res = await cut.run(['audit', '--verify']);
      expect(res.code).toBe(1);
      expect(res.stdout).toMatch(/audit log cut at event 3: the newest event was deleted/);
    } finally {
      await cut.cleanup();
    }
  });
});
