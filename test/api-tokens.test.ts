// API tokens on both store backends: shown once, kept only as a salted hash, revocable, audited.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../src/app/context.js';
import { authenticateToken, createToken, listTokens, revokeToken, tokenIdentity } from '../src/app/tokens.js';
import { openStore } from '../src/adapters/store/open.js';
import type { Store } from '../src/adapters/store/store.js';
import { systemClock } from '../src/core/clock.js';
import { roleAtLeast } from '../src/core/roles.js';
import { startPostgres, type PostgresServer } from './harness/postgres.js';

let server: PostgresServer;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'shipgate-tokens-'));
  server = await startPostgres();
});

afterAll(async () => {
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Just what the token use cases touch: the store, a clock and who runs the command. */
const contextOf = (store: Store) => ({ store, clock: systemClock, actor: 'operator' }) as unknown as AppContext;

describe('roles', () => {
  it('grow viewer < deployer < approver < admin', () => {
    expect(roleAtLeast('admin', 'approver')).toBe(true);
    expect(roleAtLeast('approver', 'approver')).toBe(true);
    expect(roleAtLeast('deployer', 'approver')).toBe(false);
    expect(roleAtLeast('viewer', 'deployer')).toBe(false);
  });
});

describe.each(['sqlite', 'postgres'] as const)('API tokens on %s', (backend) => {
  it('are stored as a salted hash, authenticate only with the exact secret, and stop at revocation', async () => {
    const sqliteFile = path.join(tmp, backend, 'state.db');
    const url = backend === 'postgres' ? await server.createDatabase('tokens') : undefined;
    const store = await openStore({ url, sqliteFile });
    try {
      const ctx = contextOf(store);
      const alice = await createToken(ctx, { name: 'alice', role: 'deployer' });
      const alice2 = await createToken(ctx, { name: 'alice', role: 'deployer' });
      expect(alice.token).toMatch(/^sgt_\d+_[A-Za-z0-9_-]{43}$/);
      const secret = alice.token.split('_').slice(2).join('_');

      // Nowhere in the table's rows (nor in the SQLite file) is the token or its secret.
      const rows = backend === 'postgres' ? await pgRows(url!) : null;
      const raw = backend === 'sqlite' ? readFileSync(sqliteFile).toString('latin1') + readWal(sqliteFile) : JSON.stringify(rows);
      expect(raw).not.toContain(secret);
      expect(raw).not.toContain(alice.token);
      // Two tokens never share a salt, so equal secrets would not share a hash either.
      const stored = await store.listApiTokens();
      expect(new Set(stored.map((t) => t.salt)).size).toBe(2);
      expect(stored.every((t) => /^[0-9a-f]{64}$/.test(t.hash))).toBe(true);

      expect((await authenticateToken(store, alice.token))?.name).toBe('alice');
      expect(await authenticateToken(store, alice.token.slice(0, -1) + (alice.token.endsWith('A') ? 'B' : 'A'))).toBeNull();
      expect(await authenticateToken(store, alice2.token.replace(/^sgt_\d+/, `sgt_${alice.view.id}`))).toBeNull();
      expect(await authenticateToken(store, 'Bearer nonsense')).toBeNull();
      expect(tokenIdentity(alice.view)).toEqual({ method: 'api-token', principal: 'alice', tokenId: String(alice.view.id) });

      await revokeToken(ctx, alice.view.id, 'left the team');
      expect(await authenticateToken(store, alice.token)).toBeNull();
      expect((await authenticateToken(store, alice2.token))?.id).toBe(alice2.view.id);
      await expect(revokeToken(ctx, alice.view.id, undefined)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/already revoked/) });
      expect((await listTokens(ctx)).map((t) => t.id)).toEqual([alice2.view.id]);
      expect(await listTokens(ctx, true)).toHaveLength(2);

      const audit = await store.listAudit();
      expect(audit.map((e) => [e.action, e.actor, e.detail.name])).toEqual([
        ['token.create', 'operator', 'alice'], ['token.create', 'operator', 'alice'], ['token.revoke', 'operator', 'alice'],
      ]);
      expect(JSON.stringify(audit)).not.toContain(secret);
    } finally {
      await store.close();
    }
  });
});

function readWal(file: string): string {
  try {
    return readFileSync(`${file}-wal`).toString('latin1');
  } catch {
    return '';
  }
}

async function pgRows(url: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('select * from api_tokens')).rows;
  } finally {
    await client.end();
  }
}

describe.each(['sqlite', 'postgres'] as const)('readings on %s', (backend) => {
  it('append per evaluation and read back oldest first, the last `limit`, after an id', async () => {
    const sqliteFile = path.join(tmp, `readings-${backend}`, 'state.db');
    const url = backend === 'postgres' ? await server.createDatabase('readings') : undefined;
    const store = await openStore({ url, sqliteFile });
    try {
      const at = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s)).toISOString();
      const d = await store.createDeployment({ env: 'staging', kind: 'deploy', version: 'v1', fromVersion: null, actor: 't', reason: null, causeId: null, host: 'h', pid: 1, startedAt: at(0) }, at(0));
      const w = await store.createWatch('soak', 'staging', 'v1', d.id, at(0), {});
      for (let s = 1; s <= 3; s++) {
        await store.appendReadings(w.id, at(s), [
          { check: 'errors', verdict: s === 3 ? 'fail' : 'pass', value: s / 100, evidence: { threshold: 0.05, llr: s - 0.5 }, reason: `r${s}` },
          { check: 'p95', verdict: 'inconclusive', value: null, evidence: {}, reason: 'no data' },
        ]);
      }
      const all = await store.listReadings(w.id);
      expect(all.map((r) => [r.check, r.at, r.verdict, r.value])).toEqual([
        ['errors', at(1), 'pass', 0.01], ['p95', at(1), 'inconclusive', null],
        ['errors', at(2), 'pass', 0.02], ['p95', at(2), 'inconclusive', null],
        ['errors', at(3), 'fail', 0.03], ['p95', at(3), 'inconclusive', null],
      ]);
      expect(all[4]).toMatchObject({ watchId: w.id, evidence: { threshold: 0.05, llr: 2.5 }, reason: 'r3' });
      expect((await store.listReadings(w.id, { limit: 2 })).map((r) => r.at)).toEqual([at(3), at(3)]);
      expect((await store.listReadings(w.id, { afterId: all[3]!.id })).map((r) => r.id)).toEqual([all[4]!.id, all[5]!.id]);
      expect(await store.listReadings(w.id + 1)).toEqual([]);
      expect(await store.latestReadingId()).toBe(all[5]!.id);
      expect((await store.readingsAfter(all[1]!.id, 3)).map((r) => r.id)).toEqual([all[2]!.id, all[3]!.id, all[4]!.id]);
      // Retention spares a running watch, then deletes by age.
      expect(await store.pruneReadings(at(2))).toBe(0);
      await store.updateWatch(w.id, { state: 'passed', data: {}, finishedAt: at(4) }, at(4));
      expect(await store.pruneReadings(at(2))).toBe(2);
      expect((await store.listReadings(w.id)).map((r) => r.at)).toEqual([at(2), at(2), at(3), at(3)]);
    } finally {
      await store.close();
    }
  });
});
