// What a deploy prints while it runs must agree with what happened: a step that failed without
// throwing (a migration or integrity check that exited non-zero, a verification that timed out)
// is shown FAILED, never `ok`. Found in an operator's trial: `ok verify health of v2.2.0` was
// printed just before "v2.2.0 failed verify". Real PostgreSQL, the sample stack, the built CLI.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from './harness/cli.js';
import { addRelease } from './harness/git.js';
import { startPostgres, type PostgresServer } from './harness/postgres.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { scaled } from './harness/pace.js';

const URL_VAR = 'DESK_DB_URL';
const PSQL = (file: string) => `[psql, --no-psqlrc, -v, ON_ERROR_STOP=1, -f, db/${file}.sql]`;
const DATABASE_SECTION = `    database:
      urlEnv: ${URL_VAR}
      backupDir: backups
      migrate: { up: ${PSQL('up')}, down: ${PSQL('down')} }
      integrityCheck: ${PSQL('check')}
      rollback: restore`;

let server: PostgresServer;
let dbCounter = 0;
const workspaces: StackWorkspace[] = [];

beforeAll(async () => {
  server = await startPostgres();
});
afterEach(async () => {
  for (const w of workspaces.splice(0)) await w.cleanup();
});
afterAll(async () => {
  await server?.stop();
});

const show = (args: string[], r: CliResult) => `shipgate ${args.join(' ')} -> exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

/** Production of the sample stack on its own database, running v1.0.1 (a no-op migration). */
async function production(first: string | null = 'v1.0.1') {
  const w = await stackWorkspace(['production'], ['v1.0.0'], {
    healthTimeout: '8s',
    patch: (yaml) => {
      const health = /    health: \{ timeout: \d+s, interval: 250ms \}/;
      if (!health.test(yaml)) throw new Error('the generated shipgate.yml changed; update the patch');
      return yaml.replace(health, (line) => `${line}\n${DATABASE_SECTION}`);
    },
  });
  workspaces.push(w);
  const noop = { 'db/up.sql': 'SELECT 1;\n', 'db/down.sql': 'SELECT 1;\n', 'db/check.sql': 'SELECT count(*) FROM fills;\n' };
  addRelease(w.repoDir, 'v1.0.0', 'v1.0.1', { VERSION: 'v1.0.1\n', ...noop });
  const url = await server.createDatabase(`desk_${++dbCounter}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('create table fills (id serial primary key, sym text not null)');
  await client.end();
  const run = (args: string[]) => w.run(args, { [URL_VAR]: url });
  if (first) {
    const deployed = await run(['deploy', 'production', '--version', first]);
    expect(deployed.code, show(['deploy'], deployed)).toBe(0);
  }
  return { w, run, noop, url };
}

/** The progress lines (`- title`, `  ok title (…)`, `  FAILED title…`) of a plain (non-terminal) run. */
const lines = (stdout: string) => stdout.split('\n');
const okLine = (stdout: string, title: string) => lines(stdout).some((l) => l.startsWith(`  ok ${title} (`));
const failedLine = (stdout: string, title: string) => lines(stdout).some((l) => l.startsWith(`  FAILED ${title}`));

describe('deploy progress tells the truth', () => {
  it('shows a migration that exits non-zero as FAILED, with its step, and the backup once', async () => {
    const { w, run, noop } = await production();
    addRelease(w.repoDir, 'v1.0.0', 'v1.1.0-broken', { VERSION: 'v1.1.0-broken\n', ...noop, 'db/up.sql': 'ALTER TABLE no_such_table ADD COLUMN venue text;\n' });
    const args = ['deploy', 'production', '--version', 'v1.1.0-broken'];
    const res = await run(args);
    expect(res.code, show(args, res)).toBe(1);
    expect(res.stderr + res.stdout).toMatch(/failed at migrate-database: migration up exited 3/);
    expect(failedLine(res.stdout, 'migrate up (production)'), show(args, res)).toBe(true);
    expect(failedLine(res.stdout, 'migrate the production database to v1.1.0-broken'), show(args, res)).toBe(true);
    expect(okLine(res.stdout, 'migrate up (production)'), show(args, res)).toBe(false);
    expect(okLine(res.stdout, 'migrate the production database to v1.1.0-broken'), show(args, res)).toBe(false);
    // One line per step: the backup step and the dump inside it are not the same title twice.
    expect(lines(res.stdout).filter((l) => l === '- back up the production database')).toHaveLength(1);
    expect(okLine(res.stdout, 'dump and verify the production database'), show(args, res)).toBe(true);
  }, scaled(180_000));

  it('shows a verification that failed, and an integrity check that exited non-zero, as FAILED', async () => {
    const { w, run, noop } = await production();
    // Reports another version than its tag: verification fails, and the return to v1.0.1
    // restores the backup, whose integrity check (of this release's checkout: v1.0.1's) fails.
    addRelease(w.repoDir, 'v1.0.0', 'v1.2.0-mislabelled', { VERSION: 'v1.1.9\n', ...noop, 'db/up.sql': 'ALTER TABLE fills ADD COLUMN venue text;\n' });
    addRelease(w.repoDir, 'v1.0.0', 'v1.0.1-badcheck', { VERSION: 'v1.0.1-badcheck\n', ...noop, 'db/check.sql': 'SELECT count(*) FROM no_such_table;\n' });
    const deployed = await run(['deploy', 'production', '--version', 'v1.0.1-badcheck']);
    expect(deployed.code, show(['deploy'], deployed)).toBe(0);

    const args = ['deploy', 'production', '--version', 'v1.2.0-mislabelled'];
    const res = await run(args);
    expect(res.code, show(args, res)).toBe(1);
    expect(res.stdout).toMatch(/v1\.2\.0-mislabelled failed verify/);
    expect(failedLine(res.stdout, 'verify health of v1.2.0-mislabelled'), show(args, res)).toBe(true);
    expect(okLine(res.stdout, 'verify health of v1.2.0-mislabelled'), show(args, res)).toBe(false);
    // The return to v1.0.1-badcheck restores the database; its integrity check exits non-zero.
    expect(failedLine(res.stdout, 'integrity check (production)'), show(args, res)).toBe(true);
    expect(okLine(res.stdout, 'integrity check (production)'), show(args, res)).toBe(false);
    expect(failedLine(res.stdout, 'return the production database to before the release'), show(args, res)).toBe(true);
    // The automatic return failed after stopping the services: the output says so and how to retry.
    expect(res.stdout).toContain('nothing runs in production now: its services were stopped before restore-database. Fix the cause, then run `shipgate rollback production --to v1.0.1-badcheck --reason "..."` again');
  }, scaled(240_000));

  it('a rollback that failed after stopping the services says nothing runs and how to retry', async () => {
    const { w, run, noop } = await production();
    addRelease(w.repoDir, 'v1.0.0', 'v1.0.2-badcheck', { VERSION: 'v1.0.2-badcheck\n', ...noop, 'db/check.sql': 'SELECT count(*) FROM no_such_table;\n' });
    addRelease(w.repoDir, 'v1.0.0', 'v1.3.0-venue', { VERSION: 'v1.3.0-venue\n', ...noop, 'db/up.sql': 'ALTER TABLE fills ADD COLUMN venue text;\n' });
    for (const v of ['v1.0.2-badcheck', 'v1.3.0-venue']) {
      const r = await run(['deploy', 'production', '--version', v]);
      expect(r.code, show(['deploy', v], r)).toBe(0);
    }
    const args = ['rollback', 'production', '--reason', 'venue broke fills', '--json'];
    const res = await run(args);
    expect(res.code, show(args, res)).toBe(1);
    expect(res.json()).toMatchObject({
      ok: false,
      kind: 'rollback',
      version: 'v1.0.2-badcheck',
      failedStep: 'restore-database',
      hint: 'nothing runs in production now: its services were stopped before restore-database. Fix the cause, then run `shipgate rollback production --to v1.0.2-badcheck --reason "..."` again (`shipgate status --env production` shows what runs).',
    });
    const status = await run(['status', '--env', 'production', '--json']);
    expect(status.json().environments[0].services.every((s: { process: string; healthy: boolean }) => s.process !== 'running' && !s.healthy)).toBe(true);
    // `current` stays the last release that finished (v1.3.0-venue): status says that nothing of it runs.
    const text = await run(['status', '--env', 'production']);
    expect(text.stdout).toContain('current v1.3.0-venue');
    expect(text.stdout).toContain('nothing of production runs: rollback #4 failed at restore-database with no service up (current v1.3.0-venue is the last release that finished, not what runs)');
  }, scaled(240_000));

  // Found in an operator's trial: a release whose services exit at start failed verification with only
  // "ECONNREFUSED" for each, after the whole timeout, while its log said why.
  it('a service that exited at start is named as not running, with the last line it logged', async () => {
    const { w, run, noop } = await production();
    addRelease(w.repoDir, 'v1.0.0', 'v1.4.0-crash', { VERSION: 'v1.4.0-crash\n', ...noop, 'signal_service/main.mjs': "console.error('no config: SIGNAL_VENUE unset');\nprocess.exit(1);\n" });
    const args = ['deploy', 'production', '--version', 'v1.4.0-crash', '--json'];
    const res = await run(args);
    expect(res.code, show(args, res)).toBe(1);
    const out = res.json();
    expect(out).toMatchObject({ ok: false, failedStep: 'verify', rollback: { ok: true, version: 'v1.0.1' } });
    expect(out.error).toMatch(/signal_service \([^)]*; its process is not running, last log line: no config: SIGNAL_VENUE unset\)/);
    // The services that did start are not said to have exited.
    expect(out.error).not.toMatch(/execution_gateway \([^)]*not running/);
  }, scaled(180_000));

  // Found in an operator's trial: a first deploy whose migration failed halfway said only that nothing was
  // rolled back; the database stayed half-migrated and the backup taken before it went unmentioned.
  it('a failed migration with no earlier release to return to names the backup that undoes it', async () => {
    await halfMigrated(false);
  }, scaled(180_000));

  it('`restore` runs the integrity check from a release checkout, where its files are', async () => {
    await halfMigrated(true);
  }, scaled(180_000));

  async function halfMigrated(withRestore: boolean) {
    const { w, run, noop, url } = await production(null);
    addRelease(w.repoDir, 'v1.0.0', 'v1.0.5-half', { VERSION: 'v1.0.5-half\n', ...noop, 'db/up.sql': 'CREATE TABLE venues (id int);\nALTER TABLE no_such_table ADD COLUMN venue text;\n' });
    const tables = async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(`select table_name from information_schema.tables where table_schema = 'public' order by 1`)).rows.map((r) => r.table_name);
      } finally {
        await client.end();
      }
    };
    const args = ['deploy', 'production', '--version', 'v1.0.5-half', '--json'];
    const res = await run(args);
    expect(res.code, show(args, res)).toBe(1);
    const out = res.json();
    expect(out).toMatchObject({ ok: false, failedStep: 'migrate-database' });
    expect(out.rollback).toBeUndefined();
    expect(await tables()).toEqual(['fills', 'venues']);
    const command = /`(shipgate restore production --backup \d+)`/.exec(out.hint ?? '');
    expect(command, out.hint).not.toBeNull();
    expect(out.hint).toContain('The production database was left as the failed migration left it');
    if (withRestore) {
      // Its integrity check (db/check.sql) lives in the release checkout, as the migrations do: `restore`
      // runs it from there, not from the directory of shipgate.yml (where it failed: no such file).
      const restore = await run([...command![1]!.split(' ').slice(1)]);
      expect(restore.code, show(['restore'], restore)).toBe(0);
      expect(restore.stdout).toContain('integrity check passed');
      expect(await tables()).toEqual(['fills']);
    }
  }
});
