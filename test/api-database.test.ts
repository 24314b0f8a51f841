// Backups and a restore through the API against a real PostgreSQL (started by the harness in a temp
// dir): the same use cases as `shipgate backup|backups|restore`, role-checked (a restore is admin),
// under the environment's lock, refused when data written since would be lost, recorded as the
// token's owner, and never showing the database URL's password.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext, type AppContext } from '../src/app/context.js';
import { createToken } from '../src/app/tokens.js';
import { configSchema } from '../src/config/schema.js';
import { startApiServer, type RunningApi } from '../src/server/start.js';
import { scaled } from './harness/pace.js';
import { startPostgres, type PostgresServer, sql as sqlOn } from './harness/postgres.js';

const PASSWORD = 'api-sekret';
let server: PostgresServer;
let dir: string;
let ctx: AppContext;
let api: RunningApi;
let url: string;
const tokens = { deployer: '', approver: '', admin: '' };

const sql = (text: string) => sqlOn(url, text);

beforeAll(async () => {
  server = await startPostgres();
  const plain = await server.createDatabase('api_trading');
  const admin = new pg.Client({ connectionString: plain });
  await admin.connect();
  await admin.query(`alter user postgres with password '${PASSWORD}'`);
  await admin.end();
  url = plain.replace('postgres@', `postgres:${PASSWORD}@`);
  await sql("create table fills (id serial primary key, qty int not null, created_at timestamptz not null default now()); insert into fills (qty) values (1), (2);");

  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-api-db-'));
  const config = configSchema.parse({
    version: 1, project: 'api-db', services: { app: { command: ['true'] } },
    environments: { production: { database: { urlEnv: 'API_DB_URL', backupDir: 'backups', writesSince: 'select count(*) from fills where created_at > $1' } } },
  });
  ctx = await createContext({ file: path.join(dir, 'shipgate.yml'), dir, config }, { env: { ...process.env, SHIPGATE_ACTOR: 'operator', SHIPGATE_DATABASE_URL: '', API_DB_URL: url } });
  for (const role of ['deployer', 'approver', 'admin'] as const) tokens[role] = (await createToken(ctx, { name: `${role}-user`, role })).token;
  api = await startApiServer(ctx, { address: { host: '127.0.0.1', port: 0 }, version: 'test' });
}, scaled(120_000));

afterAll(async () => {
  await api?.close();
  await ctx?.store.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, route: string, token: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${api.url}${route}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text), text };
}

describe('backups and a restore through the API', () => {
  it('a deployer takes a backup; a restore needs admin, is refused when writes would be lost, and with acceptDataLoss brings the data back', async () => {
    const made = await call('POST', '/api/backups', tokens.deployer, { env: 'production' });
    expect(made.status, made.text).toBe(200);
    const backup = made.json.backup;
    expect(backup).toMatchObject({ env: 'production', verifiedEntries: expect.any(Number) });
    expect((await call('GET', '/api/backups?env=production', tokens.deployer)).json.backups[0]).toMatchObject({ id: backup.id, present: true, sha256: backup.sha256 });

    await sql('insert into fills (qty) values (3)');
    const body = { env: 'production', backupId: backup.id, reason: 'bad migration 0042' };
    const approver = await call('POST', '/api/restore', tokens.approver, { ...body, acceptDataLoss: true });
    expect(approver.status).toBe(403);
    expect(approver.json.error.message).toContain('needs admin');

    const refused = await call('POST', '/api/restore', tokens.admin, body);
    expect(refused.status, refused.text).toBe(409);
    expect(refused.json.error.data).toMatchObject({ reason: 'data-loss', writesSince: 1 });
    expect((await sql('select count(*)::int as n from fills')).rows[0].n).toBe(3);

    const restored = await call('POST', '/api/restore', tokens.admin, { ...body, acceptDataLoss: true });
    expect(restored.status, restored.text).toBe(200);
    expect(restored.json).toMatchObject({ ok: true, env: 'production', acceptedDataLoss: true, backup: { id: backup.id } });
    expect((await sql('select qty from fills order by id')).rows.map((r) => r.qty)).toEqual([1, 2]);
    // The lock was held for the restore and released after it.
    expect(await ctx.store.getLock('production')).toBeUndefined();

    const events = await ctx.store.listAudit({ env: 'production', action: 'backup.restore' });
    expect(events.at(-1)).toMatchObject({ actor: 'admin-user', reason: 'bad migration 0042', detail: { acceptedDataLoss: true, identity: { method: 'api-token', principal: 'admin-user' } } });
    for (const text of [made.text, refused.text, restored.text, JSON.stringify(events)]) expect(text).not.toContain(PASSWORD);
  });
});
