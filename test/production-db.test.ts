// Production deploys with a real PostgreSQL, through the built CLI on the sample stack: a verified
// backup before every migration, a rollback that restores the database exactly (services stopped
// meanwhile), the data-loss refusal and its two ways out, a failed backup that touches nothing,
// and the database URL (with its password) never shown.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL_VARIABLE, openStore } from '../src/adapters/store/open.js';
import type { StepRecord } from '../src/adapters/store/store.js';
import { isAlive } from '../src/adapters/targets/process/pids.js';
import { freePort } from '../src/demo/free-port.js';
import type { CliResult } from './harness/cli.js';
import { addRelease } from './harness/git.js';
import { startPostgres, type PostgresServer, sql } from './harness/postgres.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { scaled } from './harness/pace.js';

// Needs %-encoding in a URL: neither form may show up anywhere.
const PASSWORD = 'pr0d/s3cr@t';
const ENCODED = encodeURIComponent(PASSWORD);
const URL_VAR = 'PROD_DB_URL';

const PSQL = '[psql, --no-psqlrc, -v, ON_ERROR_STOP=1, -f, db/{file}.sql]';
const DATABASE_SECTION = `    database:
      urlEnv: ${URL_VAR}
      backupDir: backups
      migrate:
        up: ${PSQL.replace('{file}', 'up')}
        down: ${PSQL.replace('{file}', 'down')}
      rollback: restore
      writesSince: "select count(*) from fills where created_at > $1"`;

const SEED = `
  create table orders (id serial primary key, symbol text not null, side text not null, qty numeric(12, 4) not null, created_at timestamptz not null default now());
  create table fills (id serial primary key, order_id int not null references orders(id), price numeric(12, 4) not null, qty numeric(12, 4) not null, created_at timestamptz not null);
  insert into orders (symbol, side, qty, created_at) values
    ('AAPL', 'buy', 100, now() - interval '2 days'), ('MSFT', 'sell', 250.5, now() - interval '1 day'), ('NVDA', 'buy', 7, now() - interval '3 hours');
  insert into fills (order_id, price, qty, created_at) values
    (1, 187.25, 60, now() - interval '2 days'), (1, 187.30, 40, now() - interval '2 days'), (2, 410.10, 250.5, now() - interval '1 day');
`;

// The release that migrates: a new column backfilled, a new table filled from existing rows.
const UP = `ALTER TABLE orders ADD COLUMN venue text;
UPDATE orders SET venue = 'X';
CREATE TABLE audit_log (id serial PRIMARY KEY, entity text NOT NULL, entity_id int NOT NULL, note text, created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO audit_log (entity, entity_id, note) SELECT 'order', id, 'venue backfilled' FROM orders;
`;
const DOWN = `DROP TABLE audit_log;
ALTER TABLE orders DROP COLUMN venue;
`;

let server: PostgresServer;
let dbCounter = 0;
const workspaces: StackWorkspace[] = [];

beforeAll(async () => {
  server = await startPostgres();
  // Trust auth ignores it, but the URL now carries a real password of a real role.
  await sql(server.url, `alter user postgres password '${PASSWORD.replaceAll("'", "''")}'`);
});

afterEach(async () => {
  for (const w of workspaces.splice(0)) await w.cleanup();
});

afterAll(async () => {
  await server?.stop();
});


interface Snapshot {
  /** sha256 of every public column: table, position, name, type, nullability, default. */
  schema: string;
  /** sha256 of each public table's rows. */
  tables: Record<string, string>;
  /** Each sequence's last_value and is_called. */
  sequences: Record<string, string>;
}

/** The database as this test sees it, computed here, independently of shipgate. */
async function snapshot(url: string): Promise<Snapshot> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const columns = await client.query(
      `select table_name, ordinal_position, column_name, data_type, is_nullable, column_default from information_schema.columns
       where table_schema = 'public' order by table_name, ordinal_position`,
    );
    const tables: Record<string, string> = {};
    for (const { table_name } of (await client.query(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`)).rows) {
      const rows = await client.query(`select t::text as row from public.${client.escapeIdentifier(table_name)} t order by 1`);
      tables[table_name] = sha(rows.rows.map((r) => r.row).join('\n'));
    }
    const sequences: Record<string, string> = {};
    for (const { sequence_name } of (await client.query(`select sequence_name from information_schema.sequences where sequence_schema = 'public' order by 1`)).rows) {
      const s = (await client.query(`select last_value, is_called from public.${client.escapeIdentifier(sequence_name)}`)).rows[0];
      sequences[sequence_name] = `${s.last_value}/${s.is_called}`;
    }
    return { schema: sha(JSON.stringify(columns.rows)), tables, sequences };
  } finally {
    await client.end();
  }
}

const columnsOf = async (url: string, table: string): Promise<string[]> =>
  (await sql(url, `select column_name from information_schema.columns where table_schema = 'public' and table_name = $1 order by ordinal_position`, [table])).rows.map((r) => r.column_name);

/** No output may contain the password (raw or encoded) or the URL itself. */
function expectNoSecret(text: string, urls: string[]): void {
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toContain(ENCODED);
  expect(text).not.toContain('s3cr');
  for (const u of urls) expect(text).not.toContain(u);
}

const show = (args: string[], r: CliResult) => `shipgate ${args.join(' ')} -> exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

interface Production {
  w: StackWorkspace;
  /** The database URL, with the password. */
  url: string;
  /** Runs the CLI with PROD_DB_URL set (or overridden) and checks the output holds no secret. */
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  ok(args: string[], env?: NodeJS.ProcessEnv): Promise<any>;
  audit(): Promise<any[]>;
  steps(deploymentId: number): Promise<StepRecord[]>;
  services(): Promise<{ service: string; healthy: boolean; version: string; pid: number }[]>;
  currentVersion(): Promise<string | null>;
  /** Every URL handed to shipgate so far: none may show up in its output. */
  urls: string[];
}

/**
 * The sample stack's production with a PostgreSQL database of its own, seeded, running v1.0.1
 * (a release whose migration changes nothing). v1.1.0-db migrates.
 */
async function production(): Promise<Production> {
  const w = await stackWorkspace(['production'], ['v1.0.0'], {
    healthTimeout: '20s',
    patch: (yaml) => {
      // The health timeout is stretched by the machine's load (harness/pace.ts).
      const health = /    health: \{ timeout: \d+s, interval: 250ms \}/;
      if (!health.test(yaml)) throw new Error('the generated shipgate.yml changed; update the patch');
      return yaml.replace(health, (line) => `${line}\n${DATABASE_SECTION}`);
    },
  });
  workspaces.push(w);
  addRelease(w.repoDir, 'v1.0.0', 'v1.0.1', { VERSION: 'v1.0.1\n', 'db/up.sql': '-- v1.0.1 changes no schema\nSELECT 1;\n', 'db/down.sql': 'SELECT 1;\n' });
  addRelease(w.repoDir, 'v1.0.0', 'v1.1.0-db', { VERSION: 'v1.1.0-db\n', 'db/up.sql': UP, 'db/down.sql': DOWN });

  const plain = await server.createDatabase(`prod_${++dbCounter}`);
  await sql(plain, SEED);
  const url = plain.replace('postgres@', `postgres:${ENCODED}@`);
  expect(url).toContain(`:${ENCODED}@`);
  const urls = [url, decodeURIComponent(url)];

  const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const res = await w.run(args, { [URL_VAR]: url, ...env });
    expectNoSecret(res.stdout + res.stderr, urls);
    return res;
  };
  const ok = async (args: string[], env?: NodeJS.ProcessEnv) => {
    const res = await run(args, env);
    expect(res.code, show(args, res)).toBe(0);
    return args.includes('--json') ? res.json() : res.stdout;
  };
  const store = () => openStore({ url: process.env[DATABASE_URL_VARIABLE], sqliteFile: path.join(w.dir, '.shipgate', 'state.db') });
  const p: Production = {
    w,
    url,
    urls,
    run,
    ok,
    audit: async () => (await ok(['audit', '--json'])).events,
    async steps(id) {
      const s = await store();
      try {
        return (await s.listSteps(id)).sort((a, b) => a.seq - b.seq);
      } finally {
        await s.close();
      }
    },
    services: async () => (await ok(['status', '--env', 'production', '--json'])).environments[0].services,
    currentVersion: async () => (await ok(['status', '--env', 'production', '--json'])).environments[0].currentVersion,
  };
  expect(await ok(['deploy', 'production', '--version', 'v1.0.1', '--json'])).toMatchObject({ ok: true, version: 'v1.0.1' });
  return p;
}

const DEPLOY_STEPS = ['prepare-release', 'measure-baseline', 'backup-database', 'migrate-database', 'stop-old', 'start-new', 'verify'];
const ROLLBACK_STEPS = ['prepare-release', 'measure-baseline', 'stop-old', 'restore-database', 'start-new', 'verify'];

/** Every place shipgate keeps or shows what happened: none may hold the secret. */
async function expectSecretKept(p: Production): Promise<void> {
  for (const args of [['audit', '--json'], ['backups', '--json'], ['status', '--json'], ['incident', 'list', '--json']]) {
    const res = await p.run(args);
    expect(res.code, show(args, res)).toBe(0);
  }
  const events = await p.audit();
  expect(JSON.stringify(events)).toContain('postgres:***@127.0.0.1');
}

const versions = (services: { version: string }[]) => services.map((s) => s.version);

describe('production deploys with a real database', () => {
  it('takes a verified backup before migrating; the rollback restores schema and data exactly while the services are stopped', async () => {
    const p = await production();
    const before = await snapshot(p.url);
    expect(Object.keys(before.tables)).toEqual(['fills', 'orders']);

    const deployed = await p.ok(['deploy', 'production', '--version', 'v1.1.0-db', '--json']);
    expect(deployed).toMatchObject({ ok: true, kind: 'deploy', version: 'v1.1.0-db', fromVersion: 'v1.0.1' });
    const steps = await p.steps(deployed.deploymentId);
    expect(steps.map((s) => [s.name, s.state])).toEqual(DEPLOY_STEPS.map((n) => [n, 'succeeded']));
    const backupStep = steps.find((s) => s.name === 'backup-database')!;
    const migrateStep = steps.find((s) => s.name === 'migrate-database')!;
    expect(backupStep.finishedAt! <= migrateStep.startedAt).toBe(true);

    // The migration really ran, against this database.
    const migrated = await snapshot(p.url);
    expect(migrated.schema).not.toBe(before.schema);
    expect(await columnsOf(p.url, 'orders')).toEqual(['id', 'symbol', 'side', 'qty', 'created_at', 'venue']);
    expect((await sql(p.url, 'select count(*)::int as n from audit_log')).rows[0].n).toBe(3);

    // The backup: recorded for this deployment, verified, and the file is what was recorded.
    const backups = (await p.ok(['backups', '--env', 'production', '--json'])).backups;
    const backup = backups.find((b: any) => b.deploymentId === deployed.deploymentId);
    expect(backup).toMatchObject({ env: 'production', present: true, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(backup.verifiedEntries).toBeGreaterThan(0);
    expect(path.dirname(backup.file)).toBe(path.join(p.w.dir, 'backups'));
    const bytes = readFileSync(backup.file);
    expect(backup.sizeBytes).toBe(bytes.length);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(backup.sha256);
    expect(backupStep.detail).toMatchObject({ backupId: backup.id, sha256: backup.sha256 });

    // In the audit log: backup.create for this deployment, then migrate.up, in that order.
    const events = await p.audit();
    const started = events.find((e) => e.action === 'deploy.start' && e.detail.deploymentId === deployed.deploymentId);
    const mine = events.filter((e) => e.seq > started.seq);
    const created = mine.find((e) => e.action === 'backup.create');
    const up = mine.find((e) => e.action === 'migrate.up');
    expect(created).toMatchObject({ outcome: 'ok', detail: { backupId: backup.id, deploymentId: deployed.deploymentId } });
    expect(up).toMatchObject({ outcome: 'ok', detail: { exitCode: 0 } });
    expect(created.seq).toBeLessThan(up.seq);

    // Roll back: the database returns to exactly what it was before the deploy.
    const newPids = (await p.services()).map((s) => s.pid);
    const back = await p.ok(['rollback', 'production', '--reason', 'venue backfill wrong', '--json']);
    expect(back).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.1', fromVersion: 'v1.1.0-db' });
    const restored = await snapshot(p.url);
    expect(restored).toEqual(before);
    expect(await columnsOf(p.url, 'orders')).toEqual(['id', 'symbol', 'side', 'qty', 'created_at']);
    expect((await sql(p.url, "select to_regclass('public.audit_log') as t")).rows[0].t).toBeNull();

    // ... while the services were stopped: stop-old, then the restore, then start-new.
    const rbSteps = await p.steps(back.deploymentId);
    expect(rbSteps.map((s) => [s.name, s.state])).toEqual(ROLLBACK_STEPS.map((n) => [n, 'succeeded']));
    const at = (name: string) => rbSteps.find((s) => s.name === name)!;
    expect(at('stop-old').finishedAt! <= at('restore-database').startedAt).toBe(true);
    expect(at('restore-database').finishedAt! <= at('start-new').startedAt).toBe(true);
    expect(at('restore-database').detail).toMatchObject({ backupId: backup.id, removed: expect.arrayContaining(['table public.audit_log']) });
    for (const pid of newPids) expect(isAlive(pid), `v1.1.0-db process ${pid}`).toBe(false);
    const services = await p.services();
    expect(versions(services)).toEqual(['v1.0.1', 'v1.0.1', 'v1.0.1']);
    expect(services.every((s) => s.healthy)).toBe(true);

    const after = (await p.audit()).filter((e) => e.seq > up.seq);
    const restoreEvent = after.find((e) => e.action === 'backup.restore');
    expect(restoreEvent).toMatchObject({ outcome: 'ok', reason: 'venue backfill wrong', detail: { backupId: backup.id } });
    expect(at('stop-old').finishedAt! <= restoreEvent.at && restoreEvent.at <= at('start-new').startedAt, `restore at ${restoreEvent.at}`).toBe(true);
    // The incident the rollback opened says what was done to the database.
    expect(back.incidentId).toEqual(expect.any(Number));
    const incident = JSON.stringify(await p.ok(['incident', 'show', String(back.incidentId), '--json']));
    expect(incident).toContain('"action":"restore"');
    expect(incident).toContain(`"backupId":${backup.id}`);
    await expectSecretKept(p);
  }, scaled(180_000));

  it('refuses a rollback that would lose rows written since the backup; --accept-data-loss restores, --db down runs the down migration', async () => {
    const p = await production();
    const before = await snapshot(p.url);
    await p.ok(['deploy', 'production', '--version', 'v1.1.0-db', '--json']);
    const pids = (await p.services()).map((s) => s.pid);
    await sql(p.url, 'insert into fills (order_id, price, qty, created_at) values (3, 912.40, 7, now())');
    const written = await snapshot(p.url);
    const rollbacksBefore = (await p.audit()).filter((e) => e.action === 'rollback.start').length;

    const refused = await p.run(['rollback', 'production', '--reason', 'bad venue', '--json']);
    expect(refused.code, show(['rollback'], refused)).toBe(3);
    const error = refused.json().error;
    expect(error.message).toMatch(/^rolling back production would restore backup #(\d+) and lose data: 1 rows? (were|was) written since backup #\1$/);
    expect(error.dataLoss).toMatchObject({ writesSince: 1, wouldLoseData: true });
    expect(error.hint).toContain('--accept-data-loss');
    // Nothing changed: same release, same processes, the database as it was (still migrated).
    expect(await p.currentVersion()).toBe('v1.1.0-db');
    const services = await p.services();
    expect(services.map((s) => s.pid)).toEqual(pids);
    expect(versions(services)).toEqual(['v1.1.0-db', 'v1.1.0-db', 'v1.1.0-db']);
    expect(services.every((s) => s.healthy)).toBe(true);
    expect(await snapshot(p.url)).toEqual(written);
    expect(await columnsOf(p.url, 'orders')).toContain('venue');
    expect((await p.audit()).filter((e) => e.action === 'rollback.start').length).toBe(rollbacksBefore);

    const accepted = await p.ok(['rollback', 'production', '--reason', 'bad venue', '--accept-data-loss', '--json']);
    expect(accepted).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.1' });
    expect(await snapshot(p.url)).toEqual(before);
    const acceptedRestore = (await p.audit()).filter((e) => e.action === 'backup.restore').at(-1);
    expect(acceptedRestore).toMatchObject({ outcome: 'ok', detail: { acceptedDataLoss: true } });

    // Again (it was rolled back, so marked bad: the redeploy says why), and this time back down the
    // schema with the release's own down migration: the row stays.
    await p.ok(['deploy', 'production', '--version', 'v1.1.0-db', '--allow-bad', '--reason', 'drill: the down migration next', '--json']);
    await sql(p.url, 'insert into fills (order_id, price, qty, created_at) values (3, 912.55, 3, now())');
    const restoresBefore = (await p.audit()).filter((e) => e.action === 'backup.restore').length;
    const down = await p.ok(['rollback', 'production', '--reason', 'bad venue again', '--db', 'down', '--json']);
    expect(down).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.1', fromVersion: 'v1.1.0-db' });
    const afterDown = await snapshot(p.url);
    expect(afterDown.schema).toBe(before.schema);
    expect(afterDown.tables.orders).toBe(before.tables.orders);
    expect(Object.keys(afterDown.tables)).toEqual(['fills', 'orders']);
    expect((await sql(p.url, 'select price::text from fills where created_at > now() - interval \'1 hour\' order by id')).rows.map((r) => r.price)).toEqual(['912.5500']);
    const events = await p.audit();
    expect(events.filter((e) => e.action === 'backup.restore').length).toBe(restoresBefore);
    expect(events.filter((e) => e.action === 'migrate.down').at(-1)).toMatchObject({ outcome: 'ok', detail: { exitCode: 0 } });
    const downSteps = await p.steps(down.deploymentId);
    expect(downSteps.map((s) => s.name)).toEqual(ROLLBACK_STEPS);
    expect(downSteps.find((s) => s.name === 'restore-database')!.detail).toMatchObject({ down: { exitCode: 0 } });
    await expectSecretKept(p);
  }, scaled(240_000));

  it('stops a deploy whose backup fails before any migration: exit 1, nothing touched, nothing rolled back', async () => {
    const p = await production();
    const before = await snapshot(p.url);
    const running = await p.services();
    const eventsBefore = await p.audit();
    const lastSeq = eventsBefore.at(-1).seq;

    const closed = `postgres://postgres:${ENCODED}@127.0.0.1:${await freePort()}/trading`;
    p.urls.push(closed, decodeURIComponent(closed));
    const args = ['deploy', 'production', '--version', 'v1.1.0-db', '--json'];
    const res = await p.run(args, { [URL_VAR]: closed });
    expect(res.code, show(args, res)).toBe(1);
    const out = res.json();
    expect(out).toMatchObject({ ok: false, kind: 'deploy', version: 'v1.1.0-db', fromVersion: 'v1.0.1', failedStep: 'backup-database' });
    expect(out.error).toMatch(/^could not back up the production database: .*postgres:\*\*\*@127\.0\.0\.1:\d+\/trading/);
    expect(out.rollback).toBeUndefined();

    const steps = await p.steps(out.deploymentId);
    expect(steps.map((s) => [s.name, s.state])).toEqual([
      ['prepare-release', 'succeeded'],
      ['measure-baseline', 'succeeded'],
      ['backup-database', 'failed'],
    ]);
    const events = (await p.audit()).filter((e) => e.seq > lastSeq);
    expect(events.map((e) => e.action)).not.toContain('migrate.up');
    expect(events.some((e) => e.action.startsWith('rollback.'))).toBe(false);
    expect(events.find((e) => e.action === 'backup.failed')).toMatchObject({ outcome: 'failed', detail: { deploymentId: out.deploymentId } });
    expect(events.find((e) => e.action === 'deploy.finish')).toMatchObject({ outcome: 'failed', detail: { failedStep: 'backup-database' } });

    // The old release runs on, the same processes, healthy; the database is as it was.
    expect(await p.currentVersion()).toBe('v1.0.1');
    const now = await p.services();
    expect(now.map((s) => s.pid)).toEqual(running.map((s) => s.pid));
    expect(versions(now)).toEqual(['v1.0.1', 'v1.0.1', 'v1.0.1']);
    expect(now.every((s) => s.healthy)).toBe(true);
    expect(await snapshot(p.url)).toEqual(before);
    expect((await p.ok(['backups', '--json'])).backups.some((b: any) => b.deploymentId === out.deploymentId)).toBe(false);
    await expectSecretKept(p);
  }, scaled(180_000));
});

describe('rollbacks that cannot restore', () => {
  // Regression test for a bug found in review (src/app/database-steps.ts restoreStep, via src/app/pipeline.ts).
  it('refuses a resumed rollback that would now lose data before stopping anything', async () => {
    const p = await production();
    await p.ok(['deploy', 'production', '--version', 'v1.1.0-db', '--json']);
    const killed = await p.run(['rollback', 'production', '--reason', 'bad venue'], { SHIPGATE_FAILPOINT: 'rollback:stop-old:before' });
    expect(killed.signal).toBe('SIGKILL');
    const running = await p.services();
    expect(versions(running)).toEqual(['v1.1.0-db', 'v1.1.0-db', 'v1.1.0-db']);
    // The release is still up and trading: a fill is booked before anyone resumes the rollback.
    await sql(p.url, 'insert into fills (order_id, price, qty, created_at) values (3, 912.40, 7, now())');

    const resumed = await p.run(['rollback', 'production', '--reason', 'bad venue', '--json']);
    const services = await p.services();
    expect(services.every((s) => s.healthy), JSON.stringify(services)).toBe(true);
    expect(resumed.code, show(['rollback'], resumed)).toBe(3);
  }, scaled(180_000));

  // Regression test for a bug found in review (src/app/rollback.ts).
  it('retries a rollback whose restore failed, and restores the database then', async () => {
    const p = await production();
    const before = await snapshot(p.url);
    const deployed = await p.ok(['deploy', 'production', '--version', 'v1.1.0-db', '--json']);
    const backup = (await p.ok(['backups', '--json'])).backups.find((b: any) => b.deploymentId === deployed.deploymentId);
    const original = readFileSync(backup.file);
    const tampered = Buffer.from(original);
    const at = tampered.length - 10;
    tampered[at] = tampered[at]! ^ 0xff;
    writeFileSync(backup.file, tampered);
    const failed = await p.run(['rollback', 'production', '--reason', 'bad venue', '--json']);
    expect(failed.code, show(['rollback'], failed)).not.toBe(0);

    // Someone puts the right file back and tries again.
    writeFileSync(backup.file, original);
    const retry = await p.run(['rollback', 'production', '--reason', 'bad venue, retry', '--json']);
    expect(retry.code, show(['rollback'], retry)).toBe(0);
    expect(versions(await p.services())).toEqual(['v1.0.1', 'v1.0.1', 'v1.0.1']);
    expect(await snapshot(p.url)).toEqual(before);
  }, scaled(180_000));
});
