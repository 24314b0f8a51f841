// Database backups, restores and migrations against a real PostgreSQL: a dump is verified and
// recorded, a migration changes the schema, the restore brings back exactly what was dumped
// (objects created since are removed), writes after the backup and tampered dumps are refused,
// and the database URL (with its password) never shows up in argv, errors, audit or JSON.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libpqEnv, parseDatabaseUrl, pgCommands, redactUrl, scrubSecret } from '../src/adapters/database/postgres-commands.js';
import { backupFileName, parseToc, PostgresDatabase, type ContentChecksum } from '../src/adapters/database/postgres.js';
import { checkDataLoss, databaseUrl, listBackups, restoreBackup, runMigration, takeBackup } from '../src/app/database.js';
import { createContext, type AppContext } from '../src/app/context.js';
import { loadConfig } from '../src/config/load.js';
import type { Clock } from '../src/core/clock.js';
import { ShipgateError } from '../src/core/errors.js';
import { freePort } from '../src/demo/free-port.js';
import { ROOT, shipgate, type CliResult } from './harness/cli.js';
import { startPostgres, type PostgresServer, sql } from './harness/postgres.js';

// A password that needs %-encoding in a URL: both forms must stay hidden.
const PASSWORD = 'sekret/p@ss';
const ENCODED = encodeURIComponent(PASSWORD);
const URL_VAR = 'TEST_DB_URL';

let server: PostgresServer;
let dir: string;
let ctx: AppContext;
let dbCounter = 0;
const contexts: AppContext[] = [];

const show = (r: CliResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

/** Every place a secret could leak from must not contain the password, raw or encoded. */
function expectNoSecret(text: string, url?: string): void {
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(ENCODED);
  expect(text).not.toContain('sekret');
  if (url) expect(text).not.toContain(url);
}


const FIXTURE = `
  create table customers (id serial primary key, name text not null);
  create type side as enum ('buy', 'sell');
  create table orders (
    id serial primary key,
    customer_id int not null references customers(id),
    side side not null,
    qty numeric(12, 4) not null,
    created_at timestamptz not null default now()
  );
  create index orders_created_at on orders (created_at);
  create view open_orders as select * from orders where qty > 0;
  create schema risk;
  create table risk.limits (id int generated always as identity primary key, symbol text not null, "max qty" int not null);
  insert into customers (name) values ('alpha fund'), ('beta desk'), ('gamma''s book');
  insert into orders (customer_id, side, qty, created_at) values
    (1, 'buy', 100, now() - interval '2 days'), (2, 'sell', 250.5, now() - interval '1 day'),
    (3, 'buy', 1, now() - interval '3 hours'), (1, 'sell', 42, now() - interval '2 hours'), (2, 'buy', 7, now() - interval '1 hour');
  insert into risk.limits (symbol, "max qty") values ('AAPL', 1000), ('MSFT', 500);
`;

/** A fresh database with the fixture; TEST_DB_URL points at it (with the password). */
async function freshDatabase(): Promise<{ url: string; db: PostgresDatabase }> {
  const plain = await server.createDatabase(`trading_${++dbCounter}`);
  await sql(plain, FIXTURE);
  const url = plain.replace('postgres@', `postgres:${ENCODED}@`);
  process.env[URL_VAR] = url;
  return { url, db: new PostgresDatabase(url) };
}

async function expectShipgateError(promise: Promise<unknown>, exitCode: number): Promise<ShipgateError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected the call to throw').toBeInstanceOf(ShipgateError);
  const se = err as ShipgateError;
  expect(se.exitCode, se.message).toBe(exitCode);
  return se;
}

const MIGRATE_UP =
  "ALTER TABLE orders ADD COLUMN venue text; CREATE TYPE liquidity AS ENUM ('maker', 'taker'); " +
  'CREATE TABLE fills (id serial PRIMARY KEY, order_id int NOT NULL REFERENCES orders(id), liquidity liquidity NOT NULL); ' +
  "INSERT INTO fills (order_id, liquidity) SELECT id, 'maker' FROM orders; UPDATE orders SET venue = 'XNYS'; UPDATE risk.limits SET \"max qty\" = 0;";
const MIGRATE_DOWN = 'DROP TABLE fills; DROP TYPE liquidity; ALTER TABLE orders DROP COLUMN venue;';

// Run with DATABASE_URL by the migration/integrity runner; prints the URL to prove output is scrubbed.
const nodeScript = (body: string) => `import { createRequire } from 'node:module';
const require = createRequire(${JSON.stringify(path.join(ROOT, 'package.json'))});
const pg = require('pg');
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
console.log('connected to ' + process.env.DATABASE_URL + ' as ' + process.env.PGUSER + ' with ' + process.env.PGPASSWORD);
${body}
await client.end();
`;

function writeWorkspace(): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'shipgate-db-'));
  const config = {
    version: 1,
    services: { app: { command: ['node', 'app.mjs'] } },
    environments: {
      production: {
        database: {
          urlEnv: URL_VAR,
          backupDir: 'backups',
          writesSince: 'select count(*) from orders where created_at > $1',
          maxBackupAge: '1h',
          migrate: {
            status: ['node', 'status.mjs'],
            up: ['psql', '--no-psqlrc', '--set', 'ON_ERROR_STOP=1', '--quiet', '--command', MIGRATE_UP],
            down: ['psql', '--no-psqlrc', '--set', 'ON_ERROR_STOP=1', '--quiet', '--command', MIGRATE_DOWN],
            cwd: 'db',
          },
          integrityCheck: ['node', 'integrity.mjs'],
        },
      },
      staging: { database: { urlEnv: 'TEST_DB_URL_STAGING' } },
      nodb: {},
    },
  };
  // JSON is YAML.
  writeFileSync(path.join(ws, 'shipgate.yml'), JSON.stringify(config, null, 2));
  const release = path.join(ws, 'release', 'db');
  mkdirSync(release, { recursive: true });
  writeFileSync(path.join(release, 'status.mjs'), nodeScript(`const r = await client.query("select string_agg(column_name, ',' order by ordinal_position) as cols from information_schema.columns where table_name = 'orders'");\nconsole.log('orders: ' + r.rows[0].cols);`));
  writeFileSync(
    path.join(ws, 'integrity.mjs'),
    nodeScript(`const r = await client.query('select count(*)::int as n from orders o left join customers c on c.id = o.customer_id where c.id is null');\nconsole.log('orphan orders: ' + r.rows[0].n);\nprocess.exitCode = r.rows[0].n === 0 ? 0 : 1;`),
  );
  return ws;
}

/** process.env as it is when read (tests point TEST_DB_URL at a fresh database later), plus the actor. */
const liveEnv = (): NodeJS.ProcessEnv => {
  const value = (k: string | symbol) => (k === 'SHIPGATE_ACTOR' ? 'tester' : process.env[k as string]);
  return new Proxy({} as NodeJS.ProcessEnv, {
    get: (_t, k) => value(k),
    has: (_t, k) => value(k) !== undefined,
    ownKeys: () => [...new Set([...Reflect.ownKeys(process.env), 'SHIPGATE_ACTOR'])],
    getOwnPropertyDescriptor: (_t, k) => (value(k) === undefined ? undefined : { value: value(k), enumerable: true, configurable: true, writable: true }),
  });
};

async function contextAt(clock?: Clock): Promise<AppContext> {
  const c = await createContext(loadConfig(path.join(dir, 'shipgate.yml'), dir), { env: liveEnv(), ...(clock ? { clock } : {}) });
  contexts.push(c);
  return c;
}

beforeAll(async () => {
  server = await startPostgres();
  // Trust auth ignores it, but the URL now carries a real password of a real role.
  await sql(server.url, `alter user postgres password '${PASSWORD.replaceAll("'", "''")}'`);
  dir = writeWorkspace();
  ctx = await contextAt();
});

afterAll(async () => {
  for (const c of contexts) await c.store.close().catch(() => undefined);
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  delete process.env[URL_VAR];
});

describe('argv builders and the secret', () => {
  it('builds exact argv arrays that carry no connection at all', () => {
    expect(pgCommands.pgDump('/b/production_20260302_140509.dump')).toEqual(['pg_dump', '--format=custom', '--no-password', '--file', '/b/production_20260302_140509.dump']);
    expect(pgCommands.pgRestoreList('/b/x.dump')).toEqual(['pg_restore', '--list', '/b/x.dump']);
    expect(pgCommands.pgRestoreReadAll('/b/x.dump')).toEqual(['pg_restore', '--file', os.devNull, '/b/x.dump']);
    expect(pgCommands.pgRestoreScript('/b/x.dump')).toEqual(['pg_restore', '--clean', '--if-exists', '--file', '-', '/b/x.dump']);
    expect(pgCommands.psqlApply()).toEqual(['psql', '--no-psqlrc', '--quiet', '--no-password', '--set', 'ON_ERROR_STOP=1', '--file', '-']);
    expect(pgCommands.psqlQuery('select 1')).toEqual(['psql', '--no-psqlrc', '--no-password', '--tuples-only', '--no-align', '--set', 'ON_ERROR_STOP=1', '--command', 'select 1']);
    const all = [pgCommands.pgDump('f'), pgCommands.pgRestoreList('f'), pgCommands.pgRestoreReadAll('f'), pgCommands.pgRestoreScript('f'), pgCommands.psqlApply()].flat().join(' ');
    expect(all).not.toMatch(/postgres(ql)?:\/\/|password=|sekret/);
  });

  it('hands the URL to libpq as environment variables, replacing inherited ones', () => {
    const url = `postgresql://trader:${ENCODED}@db.internal:6432/trading?sslmode=require&application_name=deploy`;
    const env = libpqEnv(url, { PATH: '/usr/bin', PGHOST: 'elsewhere', PGPASSWORD: 'old', PGSERVICE: 'x', PGPASSFILE: '/etc/pgpass' });
    expect(env).toMatchObject({ PATH: '/usr/bin', PGHOST: 'db.internal', PGPORT: '6432', PGUSER: 'trader', PGPASSWORD: PASSWORD, PGDATABASE: 'trading', PGSSLMODE: 'require', PGAPPNAME: 'deploy', PGPASSFILE: '/etc/pgpass', PGCONNECT_TIMEOUT: '10' });
    expect(env.PGSERVICE).toBeUndefined();
    expect(libpqEnv('postgres://a@h1:5432,[::1]:5433/db', {})).toMatchObject({ PGHOST: 'h1,::1', PGPORT: '5432,5433', PGUSER: 'a', PGDATABASE: 'db' });
    expect(libpqEnv('postgres://%2Fvar%2Frun%2Fpostgresql/db', {})).toMatchObject({ PGHOST: '/var/run/postgresql', PGDATABASE: 'db' });
    expect(parseDatabaseUrl('postgres://u:p%40ss@h/d')).toMatchObject({ user: 'u', password: 'p@ss', database: 'd' });
    expect(() => parseDatabaseUrl(`mysql://u:${ENCODED}@h/d`)).toThrow(/not mysql:/);
    expect(() => parseDatabaseUrl('postgres://u@h/d?evil=1')).toThrow(/unsupported URL parameter "evil"/);
    try {
      parseDatabaseUrl(`mysql://u:${ENCODED}@h/d`);
    } catch (err) {
      expectNoSecret((err as Error).message);
    }
  });

  it('redacts the password in every form', () => {
    expect(redactUrl(`postgres://postgres:${ENCODED}@127.0.0.1:5432/trading`)).toBe('postgres://postgres:***@127.0.0.1:5432/trading');
    expect(redactUrl(`postgresql://u@h/d?password=${ENCODED}&sslmode=require`)).toBe('postgresql://u@h/d?password=***&sslmode=require');
    expect(redactUrl('not a url sekret')).toBe('***');
    const url = `postgres://postgres:${ENCODED}@127.0.0.1:5432/trading`;
    const scrubbed = scrubSecret(`url=${url} pw=${PASSWORD} enc=${ENCODED}`, url);
    expect(scrubbed).toBe('url=postgres://postgres:***@127.0.0.1:5432/trading pw=*** enc=***');
  });

  it('parses pg_restore --list and names backup files by environment and UTC time', () => {
    const toc = parseToc(
      [';', '; Archive created at 2026-03-02 14:05:09 UTC', '7; 2615 16545 SCHEMA - risk postgres', '2; 3079 16471 EXTENSION - pgcrypto ', '272; 1255 16552 FUNCTION risk g(public.side, numeric) postgres', '222; 1259 16547 TABLE risk limits postgres', '3427; 0 16547 TABLE DATA risk limits postgres', '224; 1259 16560 MATERIALIZED VIEW risk mv postgres', '3440; 0 0 SEQUENCE SET risk limits_id_seq postgres', ''].join('\n'),
    );
    expect(toc.map((e) => [e.desc, e.schema, e.name])).toEqual([
      ['SCHEMA', '-', 'risk'],
      ['EXTENSION', '', ''],
      ['FUNCTION', 'risk', 'g(public.side, numeric)'],
      ['TABLE', 'risk', 'limits'],
      ['TABLE DATA', 'risk', 'limits'],
      ['MATERIALIZED VIEW', 'risk', 'mv'],
      ['SEQUENCE SET', 'risk', 'limits_id_seq'],
    ]);
    expect(backupFileName('production', new Date('2026-03-02T14:05:09.123Z'))).toBe('production_20260302_140509.dump');
  });
});

describe('backup, migrate, restore', () => {
  it('takes a verified, recorded backup; a migration changes the schema; the restore brings back exactly the dumped database', async () => {
    const { url, db } = await freshDatabase();
    const before = await db.contentChecksum();
    expect(Object.keys(before.tables).sort()).toEqual(['public.customers', 'public.orders', 'risk.limits']);

    const backup = await takeBackup(ctx, 'production', { deploymentId: 7 });
    expect(backup).toMatchObject({ env: 'production', deploymentId: 7 });
    expect(path.dirname(backup.file)).toBe(path.join(dir, 'backups'));
    expect(path.basename(backup.file)).toMatch(/^production_\d{8}_\d{6}(_\d+)?\.dump$/);
    expect(backup.verifiedEntries).toBeGreaterThan(10);
    expect(backup.detail.tableData).toBe(3);
    const bytes = readFileSync(backup.file);
    expect(backup.sizeBytes).toBe(bytes.length);
    expect(backup.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(statSync(backup.file).mode & 0o777).toBe(0o600);
    expect(await ctx.store.getBackup(backup.id)).toEqual(backup);
    const listed = await listBackups(ctx, { env: 'production' });
    expect(listed[0]).toMatchObject({ id: backup.id, present: true });

    const status = await runMigration(ctx, 'production', path.join(dir, 'release'), 'status');
    expect(status).toMatchObject({ action: 'status', exitCode: 0, ok: true, cwd: path.join(dir, 'release', 'db') });
    expect(status.output).toContain('orders: id,customer_id,side,qty,created_at');
    // The script printed DATABASE_URL and PGPASSWORD: both are scrubbed.
    expect(status.output).toContain(`connected to ${redactUrl(url)} as postgres with ***`);
    expectNoSecret(status.output, url);

    const up = await runMigration(ctx, 'production', path.join(dir, 'release'), 'up');
    expect(up, up.output).toMatchObject({ exitCode: 0, ok: true });
    const migrated = await db.contentChecksum();
    expect(migrated.columns).not.toBe(before.columns);
    expect(migrated.objects).toEqual(expect.arrayContaining(['table public.fills', 'type public.liquidity']));

    const restored = await restoreBackup(ctx, 'production', backup.id);
    expect(restored.dataLoss).toMatchObject({ writesSince: 0, writesSinceError: null, tooOld: false, wouldLoseData: false });
    expect(restored.removed.sort()).toEqual(['table public.fills', 'type public.liquidity']);
    expect(restored.notRemoved).toEqual([]);
    expect(restored.integrity).toMatchObject({ ok: true, exitCode: 0, cwd: dir });
    expect(restored.integrity!.output).toContain('orphan orders: 0');
    expectNoSecret(restored.integrity!.output, url);
    expect(await db.contentChecksum()).toEqual(before);

    // Sequences come back too: the next order gets the id it would have had.
    expect((await sql(url, "insert into orders (customer_id, side, qty) values (1, 'buy', 1) returning id")).rows[0].id).toBe(6);

    const actions = (await ctx.store.listAudit({ env: 'production' })).map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(expect.arrayContaining(['backup.create:ok', 'migrate.up:ok', 'backup.restore:ok', 'database.integrity:ok']));
    expect(actions).not.toContain('migrate.status:ok');
  });

  it('refuses a restore that would lose rows written after the backup unless the loss is accepted', async () => {
    const { url, db } = await freshDatabase();
    const backup = await takeBackup(ctx, 'production');
    const atBackup = await db.contentChecksum();
    await sql(url, "insert into orders (customer_id, side, qty) values (1, 'buy', 5), (2, 'sell', 6)");
    const after = await db.contentChecksum();

    expect(await checkDataLoss(ctx, 'production', backup)).toMatchObject({ writesSince: 2, wouldLoseData: true });
    const err = await expectShipgateError(restoreBackup(ctx, 'production', backup.id), 3);
    expect(err.message).toMatch(/would lose data: 2 rows were written since the backup/);
    expect(err.hint).toMatch(/--accept-data-loss/);
    expect(err.data).toMatchObject({ reason: 'data-loss', backupId: backup.id, writesSince: 2 });
    expectNoSecret(JSON.stringify({ message: err.message, hint: err.hint, data: err.data }), url);
    expect(await db.contentChecksum()).toEqual(after); // untouched

    const refusedAudit = (await ctx.store.listAudit({ env: 'production' })).find((e) => e.action === 'backup.restore' && e.outcome === 'refused' && e.detail.backupId === backup.id);
    expect(refusedAudit?.detail).toMatchObject({ dataLoss: { writesSince: 2 } });

    const forced = await restoreBackup(ctx, 'production', backup.id, { acceptDataLoss: true, reason: 'bad migration' });
    expect(forced).toMatchObject({ acceptedDataLoss: true, dataLoss: { writesSince: 2, wouldLoseData: true } });
    expect(await db.contentChecksum()).toEqual(atBackup);
    const ok = (await ctx.store.listAudit({ env: 'production' })).find((e) => e.action === 'backup.restore' && e.outcome === 'ok' && e.detail.backupId === backup.id);
    expect(ok).toMatchObject({ reason: 'bad migration', detail: { acceptedDataLoss: true } });
  });

  it('treats a backup older than maxBackupAge as losing data', async () => {
    const { db } = await freshDatabase();
    const backup = await takeBackup(ctx, 'production');
    const later: Clock = { now: () => new Date(Date.now() + 2 * 3_600_000), sleep: async () => undefined };
    const lateCtx = await contextAt(later);
    const err = await expectShipgateError(restoreBackup(lateCtx, 'production', backup.id), 3);
    expect(err.message).toMatch(/the backup is 2h0m old, older than maxBackupAge 1h0m/);
    expect(err.data).toMatchObject({ tooOld: true, writesSince: 0 });
    expect((await restoreBackup(lateCtx, 'production', backup.id, { acceptDataLoss: true })).dataLoss.tooOld).toBe(true);
    expect((await db.contentChecksum()).tables['public.orders']).toBeDefined();
  });

  it('refuses a dump that was modified after it was taken', async () => {
    const { url, db } = await freshDatabase();
    const backup = await takeBackup(ctx, 'production');
    const original = readFileSync(backup.file);
    const tampered = Buffer.from(original);
    const at = tampered.length - 10;
    tampered[at] = tampered[at]! ^ 0xff;
    writeFileSync(backup.file, tampered);
    await sql(url, 'create table evidence (id int)');
    const before = await db.contentChecksum();

    const err = await expectShipgateError(restoreBackup(ctx, 'production', backup.id, { acceptDataLoss: true }), 3);
    expect(err.message).toMatch(/was modified after it was taken/);
    expect(err.data).toMatchObject({ reason: 'checksum-mismatch', expectedSha256: backup.sha256 });
    expect(await db.contentChecksum()).toEqual(before);
    const audit = (await ctx.store.listAudit({ env: 'production' })).find((e) => e.action === 'backup.restore' && e.detail.backupId === backup.id);
    expect(audit?.outcome).toBe('refused');

    writeFileSync(backup.file, original);
    await restoreBackup(ctx, 'production', backup.id, { acceptDataLoss: true });
    expect((await db.contentChecksum()).objects).not.toContain('table public.evidence');
  });

  it('rolls the whole restore back when it fails midway', async () => {
    const { url, db } = await freshDatabase();
    const backup = await takeBackup(ctx, 'production');
    await sql(url, 'create table extra (id int); insert into extra values (1)');
    // A role that may read but owns nothing: every DROP of the restore fails.
    await sql(url, "do $$ begin create role deployer login; exception when duplicate_object then null; end $$; grant usage on schema risk to deployer; grant select on all tables in schema public to deployer");
    const before = await db.contentChecksum();
    process.env[URL_VAR] = url.replace(`postgres:${ENCODED}@`, `deployer:${ENCODED}@`);
    try {
      const err = await expectShipgateError(restoreBackup(ctx, 'production', backup.id, { acceptDataLoss: true }), 1);
      expect(err.message).toMatch(/failed and was rolled back .*must be owner/s);
      expectNoSecret(err.message + (err.hint ?? ''));
    } finally {
      process.env[URL_VAR] = url;
    }
    expect(await db.contentChecksum()).toEqual(before);
    const audit = (await ctx.store.listAudit({ env: 'production' })).find((e) => e.action === 'backup.restore' && e.detail.backupId === backup.id);
    expect(audit?.outcome).toBe('failed');
  });

  it('fails a backup of an unreachable database with exit 1 and records backup.failed, never showing the URL', async () => {
    const port = await freePort();
    const url = `postgres://postgres:${ENCODED}@127.0.0.1:${port}/trading`;
    process.env[URL_VAR] = url;
    const err = await expectShipgateError(takeBackup(ctx, 'production', { deploymentId: 99 }), 1);
    expect(err.message).toMatch(new RegExp(`could not back up the production database: cannot connect to postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${port}/trading`));
    expect(err.hint).toBeTruthy();
    expectNoSecret(JSON.stringify({ message: err.message, hint: err.hint, data: err.data }), url);
    const failedEvent = (await ctx.store.listAudit({ env: 'production' })).find((e) => e.action === 'backup.failed' && e.detail.deploymentId === 99);
    expect(failedEvent).toMatchObject({ outcome: 'failed', detail: { database: redactUrl(url) } });
    expect((await ctx.store.listBackups({ deploymentId: 99 })).length).toBe(0);
  });

  it('does not count an empty dump as a verified backup, and leaves no file behind', async () => {
    const empty = await server.createDatabase(`empty_${++dbCounter}`);
    process.env[URL_VAR] = empty.replace('postgres@', `postgres:${ENCODED}@`);
    const err = await expectShipgateError(takeBackup(ctx, 'production', { deploymentId: 98 }), 1);
    expect(err.message).toMatch(/lists no objects: the database is empty, or the URL names the wrong database/);
    // Found in an operator's trial: the first deploy onto a new database stopped here with no way forward.
    expect(err.hint).toMatch(/^Check that TEST_DB_URL names the right database\. A new, empty database has nothing to restore, so shipgate will not migrate it: create its first tables once by hand \(.+, from the release checkout with TEST_DB_URL set\), then deploy again/);
    const files = readdirSync(path.join(dir, 'backups'));
    expect(files.filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(files.length).toBe((await ctx.store.listBackups({ limit: 10_000 })).length);
    expect((await ctx.store.listAudit({ env: 'production' })).some((e) => e.action === 'backup.failed' && e.detail.deploymentId === 98)).toBe(true);
  });

  it('names the missing variable (exit 2) and rejects mismatched or unknown backups', async () => {
    const { url } = await freshDatabase();
    const backup = await takeBackup(ctx, 'production');
    delete process.env[URL_VAR];
    try {
      const err = await expectShipgateError(takeBackup(ctx, 'production'), 2);
      expect(err.message).toBe('TEST_DB_URL is not set: it must hold the PostgreSQL URL of production');
      process.env[URL_VAR] = 'mysql://root:sekret@h/d';
      const bad = await expectShipgateError(Promise.resolve().then(() => databaseUrl(ctx, 'production')), 2);
      expectNoSecret(bad.message + bad.hint);
    } finally {
      process.env[URL_VAR] = url;
    }
    expect((await expectShipgateError(restoreBackup(ctx, 'staging', backup.id), 2)).message).toBe(`backup ${backup.id} is of production, not staging`);
    expect((await expectShipgateError(restoreBackup(ctx, 'production', 999_999), 2)).message).toBe('there is no backup 999999');
    expect((await expectShipgateError(takeBackup(ctx, 'nodb'), 2)).message).toMatch(/has no database configured/);
    expect((await expectShipgateError(runMigration(ctx, 'staging', dir, 'up'), 2)).message).toMatch(/no migrations configured/);
  });

  it('gives two backups in the same second different files', async () => {
    await freshDatabase();
    const fixed = new Date('2026-03-02T14:05:09.000Z');
    const frozen = await contextAt({ now: () => fixed, sleep: async () => undefined });
    const a = await takeBackup(frozen, 'production');
    const b = await takeBackup(frozen, 'production');
    expect(path.basename(a.file)).toBe('production_20260302_140509.dump');
    expect(path.basename(b.file)).toBe('production_20260302_140509_2.dump');
  });

  it('keeps the secret out of every audit record', async () => {
    const text = JSON.stringify(await ctx.store.listAudit({ limit: 10_000 }));
    expect(text).toContain('postgres:***@127.0.0.1');
    expectNoSecret(text);
    expectNoSecret(JSON.stringify(await ctx.store.listBackups({})));
  });
});

describe('the CLI', () => {
  it('backs up, lists and restores with JSON output and exit codes, never printing the URL', async () => {
    const { url, db } = await freshDatabase();
    const env = { [URL_VAR]: url };
    const run = (args: string[]) => shipgate(args, { cwd: dir, env });

    const made = await run(['backup', 'production', '--json']);
    expect(made.code, show(made)).toBe(0);
    const { backup } = made.json();
    expect(backup).toMatchObject({ env: 'production', verifiedEntries: expect.any(Number), detail: { database: redactUrl(url) } });
    expectNoSecret(made.stdout + made.stderr, url);

    const list = await run(['backups', '--env', 'production', '--json']);
    expect(list.code, show(list)).toBe(0);
    expect(list.json().backups[0]).toMatchObject({ id: backup.id, present: true, sha256: backup.sha256 });

    const atBackup: ContentChecksum = await db.contentChecksum();
    await sql(url, "insert into orders (customer_id, side, qty) values (3, 'sell', 9)");
    const refusedRun = await run(['restore', 'production', '--backup', String(backup.id), '--json']);
    expect(refusedRun.code, show(refusedRun)).toBe(3);
    expect(refusedRun.json()).toMatchObject({ ok: false, error: { exitCode: 3, reason: 'data-loss', writesSince: 1 } });
    expectNoSecret(refusedRun.stdout + refusedRun.stderr, url);

    const restored = await run(['restore', 'production', '--backup', String(backup.id), '--accept-data-loss', '--reason', 'test', '--json']);
    expect(restored.code, show(restored)).toBe(0);
    expect(restored.json()).toMatchObject({ ok: true, env: 'production', acceptedDataLoss: true, database: redactUrl(url), integrity: { ok: true } });
    expectNoSecret(restored.stdout + restored.stderr, url);
    expect(await db.contentChecksum()).toEqual(atBackup);

    const bad = await run(['restore', 'production', '--backup', 'x', '--json']);
    expect(bad.code, show(bad)).toBe(2);
    const unreachable = await shipgate(['backup', 'production', '--json'], { cwd: dir, env: { [URL_VAR]: url.replace(/:\d+\//, ':1/') } });
    expect(unreachable.code, show(unreachable)).toBe(1);
    expectNoSecret(unreachable.stdout + unreachable.stderr);
    const missing = await shipgate(['backup', 'production', '--json'], { cwd: dir, env: { [URL_VAR]: '' } });
    expect(missing.code, show(missing)).toBe(2);
    expect(missing.json().error.message).toMatch(/TEST_DB_URL is not set/);

    const help = await run(['restore', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--accept-data-loss');
    expectNoSecret(help.stdout, url);
  });
});
