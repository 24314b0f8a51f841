// Browser sessions live in the store: a `shipgate serve` restart keeps them, every controller on the
// store accepts them, logout on one ends them on all, and the store holds only their hashes.
// Real `shipgate serve --http` processes on SQLite and on a throwaway PostgreSQL server.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL_VARIABLE, openStore } from '../src/adapters/store/open.js';
import { openSqlite } from '../src/adapters/store/sqlite-driver.js';
import type { Store } from '../src/adapters/store/store.js';
import { Sessions } from '../src/server/sessions.js';
import { shipgate } from './harness/cli.js';
import { startPostgres, type PostgresServer } from './harness/postgres.js';
import { startServeHttp, type ServeHttp } from './harness/serve-http.js';

let tmp: string;
let server: PostgresServer;
let n = 0;
const running: ServeHttp[] = [];

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'shipgate-sessions-'));
  server = await startPostgres();
});
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});
afterAll(async () => {
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

type Backend = 'sqlite' | 'postgres';

interface Workspace {
  dir: string;
  env: NodeJS.ProcessEnv;
  backend: Backend;
  url: string | undefined;
  sqliteFile: string;
}

/** A project whose production breaker lives in the store (no Redis), on SQLite or its own PostgreSQL database. */
async function workspace(backend: Backend): Promise<Workspace> {
  const dir = path.join(tmp, `ws${++n}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'shipgate.yml'), 'version: 1\nproject: sessions\nservices:\n  web: { command: [node, web.mjs], port: 18099 }\nenvironments:\n  production: {}\n');
  const url = backend === 'postgres' ? await server.createDatabase(`sessions${n}`) : undefined;
  return { dir, backend, url, sqliteFile: path.join(dir, '.shipgate', 'state.db'), env: { SHIPGATE_ACTOR: 'operator', [DATABASE_URL_VARIABLE]: url ?? '' } };
}

async function token(ws: Workspace, name: string, role: string): Promise<string> {
  const res = await shipgate(['token', 'create', '--name', name, '--role', role, '--json'], { cwd: ws.dir, env: ws.env });
  expect(res.code, res.stderr).toBe(0);
  return res.json().token as string;
}

async function serve(ws: Workspace): Promise<ServeHttp> {
  const s = await startServeHttp(ws.dir, ws.env);
  running.push(s);
  return s;
}

async function stop(s: ServeHttp): Promise<void> {
  running.splice(running.indexOf(s), 1);
  expect(await s.stop(), s.output()).toBe(0);
}

interface Login {
  cookie: string;
  /** The cookie's value: the session id in clear. */
  id: string;
  csrf: string;
}

async function login(base: string, secret: string): Promise<Login> {
  const res = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: secret }) });
  expect(res.status).toBe(200);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  return { cookie, id: cookie.slice(cookie.indexOf('=') + 1), csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
}

async function call(base: string, method: string, url: string, s: Partial<Login>, body?: unknown): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (s.cookie) headers.cookie = s.cookie;
  if (s.csrf) headers['x-csrf-token'] = s.csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${url}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function withStore<T>(ws: Workspace, use: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ url: ws.url, sqliteFile: ws.sqliteFile });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** Every byte the store holds about sessions: the table's rows read directly, and for SQLite the database file and its WAL. */
async function storedBytes(ws: Workspace): Promise<{ rows: Record<string, unknown>[]; raw: string }> {
  if (ws.backend === 'postgres') {
    const client = new pg.Client({ connectionString: ws.url });
    await client.connect();
    try {
      const rows = (await client.query('select * from api_sessions')).rows as Record<string, unknown>[];
      return { rows, raw: JSON.stringify(rows) };
    } finally {
      await client.end();
    }
  }
  const db = openSqlite(ws.sqliteFile);
  let rows: Record<string, unknown>[];
  try {
    rows = db.database.prepare('select * from api_sessions').all([]) as Record<string, unknown>[];
  } finally {
    db.database.close();
  }
  const file = (f: string) => {
    try {
      return readFileSync(f).toString('latin1');
    } catch {
      return '';
    }
  };
  return { rows, raw: JSON.stringify(rows) + file(ws.sqliteFile) + file(`${ws.sqliteFile}-wal`) };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe.each(['sqlite', 'postgres'] as const)('browser sessions in the %s store', (backend) => {
  it('survive a restart of `shipgate serve`: the same cookie and CSRF token still trip the breaker', async () => {
    const ws = await workspace(backend);
    const alice = await token(ws, 'alice', 'deployer');
    const first = await serve(ws);
    const s = await login(first.url, alice);
    expect((await call(first.url, 'GET', '/api/me', s)).json).toMatchObject({ name: 'alice', via: 'session' });
    await stop(first);

    const again = await serve(ws);
    expect((await call(again.url, 'GET', '/api/me', s)).json).toMatchObject({ name: 'alice', role: 'deployer', via: 'session' });
    // Still CSRF-protected after the restart: without the token, or with another, 403.
    expect((await call(again.url, 'POST', '/api/breaker/trip', { cookie: s.cookie }, { env: 'production', reason: 'restart test' })).status).toBe(403);
    expect((await call(again.url, 'POST', '/api/breaker/trip', { cookie: s.cookie, csrf: 'x'.repeat(s.csrf.length) }, { env: 'production', reason: 'restart test' })).status).toBe(403);
    const trip = await call(again.url, 'POST', '/api/breaker/trip', s, { env: 'production', reason: 'restart test' });
    expect(trip.status, JSON.stringify(trip.json)).toBe(200);
    const [tripped] = await withStore(ws, (store) => store.listAudit({ action: 'breaker.trip', limit: 1 }));
    expect(tripped).toMatchObject({ actor: 'alice', reason: 'restart test' });
    await stop(again);
  });

  it('are shared by two controllers on one store: log in on A, act on B, log out on B, and A refuses the cookie', async () => {
    const ws = await workspace(backend);
    const bob = await token(ws, 'bob', 'deployer');
    const a = await serve(ws);
    const b = await serve(ws);
    const s = await login(a.url, bob);

    expect((await call(b.url, 'GET', '/api/me', s)).json).toMatchObject({ name: 'bob', role: 'deployer', via: 'session' });
    expect((await call(b.url, 'POST', '/api/breaker/trip', { cookie: s.cookie }, { env: 'production', reason: 'via B' })).status).toBe(403);
    const trip = await call(b.url, 'POST', '/api/breaker/trip', s, { env: 'production', reason: 'via B' });
    expect(trip.status, JSON.stringify(trip.json)).toBe(200);

    // The store holds hashes only: neither the session id (the cookie's value) nor the CSRF token.
    const stored = await storedBytes(ws);
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0]).toMatchObject({ id_hash: sha256(s.id), csrf_hash: sha256(s.csrf), ended_at: null });
    expect(stored.raw).not.toContain(s.id);
    expect(stored.raw).not.toContain(s.csrf);

    expect((await call(b.url, 'POST', '/api/logout', s)).status).toBe(200);
    expect((await call(a.url, 'GET', '/api/me', s)).status).toBe(401);
    expect((await call(b.url, 'GET', '/api/me', s)).status).toBe(401);
    expect((await call(a.url, 'POST', '/api/breaker/trip', s, { env: 'production', reason: 'after logout' })).status).toBe(401);
    expect((await storedBytes(ws)).rows[0]!.ended_at).toEqual(expect.any(String));

    // Login and logout are audited as the token's owner, never with the session id or CSRF token.
    const audit = await withStore(ws, (store) => store.listAudit({ limit: 50 }));
    const events = audit.filter((e) => e.action === 'api.login' || e.action === 'api.logout');
    expect(events.map((e) => [e.action, e.actor, e.detail.tokenId])).toEqual(expect.arrayContaining([['api.login', 'bob', expect.any(Number)], ['api.logout', 'bob', expect.any(Number)]]));
    expect(JSON.stringify(audit)).not.toContain(s.id);
    expect(JSON.stringify(audit)).not.toContain(s.csrf);

    // Revoking a token ends its sessions on every controller at their next request.
    const s2 = await login(b.url, bob);
    expect((await call(a.url, 'GET', '/api/me', s2)).status).toBe(200);
    const id = Number(/^sgt_(\d+)_/.exec(bob)![1]);
    const revoked = await shipgate(['token', 'revoke', String(id), '--reason', 'left'], { cwd: ws.dir, env: ws.env });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await call(a.url, 'GET', '/api/me', s2)).status).toBe(401);
    expect((await call(b.url, 'GET', '/api/me', s2)).status).toBe(401);
    await stop(b);
    await stop(a);
  });
});

describe('session expiry', () => {
  it('an expired session is refused, and expired rows are deleted when the next session is made', async () => {
    const ws = await workspace('sqlite');
    await token(ws, 'carol', 'viewer'); // creates the store
    await withStore(ws, async (store) => {
      let now = Date.parse('2030-01-01T00:00:00Z');
      const sessions = new Sessions(store.sessions, 60_000, () => now);
      const old = await sessions.create(1);
      expect(await sessions.get(old.id)).toMatchObject({ tokenId: 1, expiresAt: '2030-01-01T00:01:00.000Z' });
      now += 60_000;
      expect(await sessions.get(old.id)).toBeUndefined();
      expect(await store.sessions.get(old.session.idHash)).toBeDefined();
      const fresh = await sessions.create(1);
      expect(await store.sessions.get(old.session.idHash)).toBeUndefined();
      expect(await sessions.get(fresh.id)).toMatchObject({ tokenId: 1 });
      expect(await sessions.get(undefined)).toBeUndefined();
      expect(await sessions.get('not-a-session')).toBeUndefined();
      // Ending is once: the second end reports there was nothing left to end.
      expect(await sessions.end(fresh.session)).toBe(true);
      expect(await sessions.end(fresh.session)).toBe(false);
      expect(await sessions.get(fresh.id)).toBeUndefined();
    });
  });
});
