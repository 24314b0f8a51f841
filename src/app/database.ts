import { existsSync } from 'node:fs';
import path from 'node:path';
import { libpqEnv, parseDatabaseUrl, redactUrl, scrubSecret } from '../adapters/database/postgres-commands.js';
import { PostgresDatabase, verifyChecksum } from '../adapters/database/postgres.js';
import type { Argv } from '../adapters/runner/runner.js';
import type { BackupRecord } from '../adapters/store/store.js';
import type { DatabaseSpec } from '../config/schema.js';
import { formatDuration } from '../core/duration.js';
import { badInput, failed, refused, ShipgateError } from '../core/errors.js';
import { processLayout } from '../adapters/targets/process/launch.js';
import { record } from './audit.js';
import { currentVersion } from './history.js';
import type { AppContext } from './context.js';

// Database use cases: backups before migrations, restores on rollback, migrations themselves.
// The database URL is a secret: it is read from the variable the config names (`urlEnv`), given
// to child processes only through their environment, and every message, audit record and
// result here names the database by its redacted URL (password "***").

export type MigrationAction = 'status' | 'up' | 'down';

export interface TakeBackupOptions {
  /** The deployment this backup protects (recorded with it). */
  deploymentId?: number | null;
}

export interface RestoreOptions {
  /** Restore even when data written since the backup (or an old backup) would be lost. */
  acceptDataLoss?: boolean;
  /** Release checkout the integrity check runs in; default the config file's directory. */
  releaseDir?: string;
  /** Why, for the audit log. */
  reason?: string;
}

export interface DataLossCheck {
  /** Result of the `writesSince` query; null when none is configured or it failed. */
  writesSince: number | null;
  /** Why `writesSince` could not be counted (the query failed); such a restore counts as losing data. */
  writesSinceError: string | null;
  /** Backup time passed as $1 to `writesSince` (the database server's clock when the dump started). */
  since: string;
  ageMs: number;
  maxBackupAgeMs: number;
  tooOld: boolean;
  wouldLoseData: boolean;
}

export interface CommandRun {
  argv: string[];
  cwd: string;
  exitCode: number;
  ok: boolean;
  /** stdout then stderr, the database URL and password removed. */
  output: string;
  durationMs: number;
}

export interface MigrationResult extends CommandRun {
  action: MigrationAction;
}

export interface RestoreResult {
  env: string;
  backup: BackupRecord;
  /** Redacted URL of the database restored into. */
  database: string;
  dataLoss: DataLossCheck;
  acceptedDataLoss: boolean;
  /** Objects created after the backup that the restore dropped. */
  removed: string[];
  notRemoved: { object: string; error: string }[];
  durationMs: number;
  /** The configured integrityCheck, run after the restore; null when none is configured. */
  integrity: CommandRun | null;
}

export interface ListedBackup extends BackupRecord {
  /** Whether the dump file is still there. */
  present: boolean;
}

const MIGRATION_TIMEOUT_MS = 3_600_000;
const AUDIT_OUTPUT_CHARS = 2_000;

/** The environment's `database` section; bad input (exit 2) when it has none. */
export function databaseSpec(ctx: AppContext, env: string): DatabaseSpec {
  const spec = ctx.environment(env).spec.database;
  if (!spec) {
    throw badInput(`environment "${env}" has no database configured`, {
      where: `shipgate.yml: environments.${env}.database`,
      hint: 'Add `database: { urlEnv: DATABASE_URL_NAME }` to the environment (the URL itself goes in that variable, never in the file).',
    });
  }
  return spec;
}

/**
 * The PostgreSQL URL of `env`, read from the variable `database.urlEnv` names. Missing or not a
 * postgres:// URL: bad input (exit 2) naming the variable, never showing its value.
 */
export function databaseUrl(ctx: AppContext, env: string): string {
  const spec = databaseSpec(ctx, env);
  const url = secretSource(ctx)[spec.urlEnv]?.trim();
  if (!url) {
    throw badInput(`${spec.urlEnv} is not set: it must hold the PostgreSQL URL of ${env}`, {
      where: spec.urlEnv,
      hint: `Export it before running shipgate, e.g. ${spec.urlEnv}=postgres://user:password@db-host:5432/trading (environments.${env}.database.urlEnv names it).`,
    });
  }
  try {
    parseDatabaseUrl(url);
  } catch (err) {
    throw badInput(`${spec.urlEnv} is not a usable PostgreSQL URL: ${(err as Error).message}`, {
      where: spec.urlEnv,
      hint: 'Use postgres://user:password@host:5432/dbname (percent-encode special characters in the password).',
    });
  }
  return url;
}

/**
 * Dumps the environment's database into `database.backupDir` (relative to shipgate.yml),
 * verifies it, records it in the store and the audit log (`backup.create`). Any failure records
 * `backup.failed` and throws exit 1 with a hint.
 */
export async function takeBackup(ctx: AppContext, env: string, options: TakeBackupOptions = {}): Promise<BackupRecord> {
  const spec = databaseSpec(ctx, env);
  const url = databaseUrl(ctx, env);
  const db = openDatabase(ctx, url);
  const dir = path.resolve(ctx.configDir, spec.backupDir);
  const deploymentId = options.deploymentId ?? null;
  const at = ctx.clock.now();
  try {
    const dump = await ctx.progress.task(`dump and verify the ${env} database`, () => db.backup(dir, env, { at }));
    const backup = await ctx.store.createBackup({
      env,
      deploymentId,
      file: dump.file,
      sizeBytes: dump.sizeBytes,
      sha256: dump.sha256,
      createdAt: at.toISOString(),
      verifiedEntries: dump.verifiedEntries,
      detail: { database: db.redacted, snapshotAt: dump.snapshotAt, tableData: dump.tableData, durationMs: dump.durationMs },
    });
    await record(ctx, {
      action: 'backup.create',
      outcome: 'ok',
      env,
      detail: { backupId: backup.id, deploymentId, file: backup.file, sizeBytes: backup.sizeBytes, sha256: backup.sha256, verifiedEntries: backup.verifiedEntries, database: db.redacted },
    });
    return backup;
  } catch (err) {
    const message = db.scrub(err instanceof Error ? err.message : String(err));
    await record(ctx, { action: 'backup.failed', outcome: 'failed', env, detail: { deploymentId, database: db.redacted, backupDir: dir, error: message } });
    const known = err instanceof ShipgateError ? err : undefined;
    const up = spec.migrate?.up ? ` (${spec.migrate.up.join(' ')}, from the release checkout with ${spec.urlEnv} set)` : '';
    const empty = known?.data?.emptyDatabase === true
      ? `Check that ${spec.urlEnv} names the right database. A new, empty database has nothing to restore, so shipgate will not migrate it: create its first tables once by hand${up}, then deploy again; every later migration is backed up first.`
      : undefined;
    throw failed(`could not back up the ${env} database: ${message}`, {
      hint: empty ?? known?.hint ?? `Check that ${spec.urlEnv} points at the right database and that ${dir} is writable.`,
      data: { env, database: db.redacted, ...(known?.data ?? {}) },
    });
  }
}

/** Backups, newest first, each with whether its file is still present. */
export async function listBackups(ctx: AppContext, filter: { env?: string; limit?: number } = {}): Promise<ListedBackup[]> {
  if (filter.env) ctx.environment(filter.env);
  const rows = await ctx.store.listBackups({ env: filter.env, limit: filter.limit });
  return rows.map((b) => ({ ...b, present: existsSync(b.file) }));
}

/**
 * Would restoring `backup` lose data? Yes when the `writesSince` query counts rows newer than the
 * backup, when it cannot be counted (the query fails), or when the backup is older than
 * `maxBackupAge`. A database that cannot be reached fails (exit 1).
 */
export async function checkDataLoss(ctx: AppContext, env: string, backup: BackupRecord): Promise<DataLossCheck> {
  const spec = databaseSpec(ctx, env);
  const db = openDatabase(ctx, databaseUrl(ctx, env));
  return dataLossCheck(ctx, spec, db, backup);
}

/**
 * Restores backup `backupId` into `env`'s database. Refuses (exit 3) a dump whose checksum no
 * longer matches, and a restore that would lose data unless `acceptDataLoss`; records every
 * attempt as `backup.restore` (outcome ok, refused or failed). Then runs the configured
 * integrityCheck and reports it (recorded as `database.integrity`; a failing check does not throw).
 *
 * Does not take the environment lock: the caller holds it (the CLI command, or the pipeline).
 */
export async function restoreBackup(ctx: AppContext, env: string, backupId: number, options: RestoreOptions = {}): Promise<RestoreResult> {
  const started = Date.now();
  const spec = databaseSpec(ctx, env);
  const backup = await ctx.store.getBackup(backupId);
  if (!backup) throw badInput(`there is no backup ${backupId}`, { where: '--backup', hint: `List them with \`shipgate backups --env ${env}\`.` });
  if (backup.env !== env) {
    throw badInput(`backup ${backupId} is of ${backup.env}, not ${env}`, { where: '--backup', hint: `Pick one of ${env}'s backups: \`shipgate backups --env ${env}\`.` });
  }
  const url = databaseUrl(ctx, env);
  const db = openDatabase(ctx, url);
  const acceptedDataLoss = Boolean(options.acceptDataLoss);
  const audit = (outcome: string, detail: Record<string, unknown>) =>
    record(ctx, { action: 'backup.restore', outcome, env, reason: options.reason ?? null, detail: { backupId, file: backup.file, database: db.redacted, acceptedDataLoss, ...detail } });
  const fail = async (err: unknown): Promise<never> => {
    const code = err instanceof ShipgateError ? err.exitCode : 1;
    await audit(code === 3 ? 'refused' : 'failed', { error: db.scrub(err instanceof Error ? err.message : String(err)) });
    if (err instanceof ShipgateError) throw err;
    throw failed(`restore of backup ${backupId} into ${env} failed: ${db.scrub(String((err as Error)?.message ?? err))}`);
  };

  try {
    await verifyChecksum(backup.file, { sha256: backup.sha256, sizeBytes: backup.sizeBytes });
  } catch (err) {
    return fail(err);
  }

  let dataLoss: DataLossCheck;
  try {
    dataLoss = await dataLossCheck(ctx, spec, db, backup);
  } catch (err) {
    return fail(err);
  }
  if (dataLoss.wouldLoseData && !acceptedDataLoss) {
    const message = `restoring backup ${backupId} into ${env} would lose data: ${describeLoss(dataLoss)}`;
    await audit('refused', { error: message, dataLoss });
    throw refused(message, {
      hint: `Save what was written since ${dataLoss.since} first; then restore with --accept-data-loss (or roll the schema back with migrate down instead).`,
      data: { reason: 'data-loss', env, backupId, ...dataLoss },
    });
  }

  let outcome;
  try {
    outcome = await ctx.progress.task(`restore backup ${backupId} into ${env}`, () => db.restore(backup.file, { sha256: backup.sha256, sizeBytes: backup.sizeBytes }));
  } catch (err) {
    return fail(err);
  }
  await audit('ok', { dataLoss, removed: outcome.removed, notRemoved: outcome.notRemoved, durationMs: outcome.durationMs });
  if (outcome.notRemoved.length) ctx.progress.warn(`left in place (created after the backup, could not be dropped): ${outcome.notRemoved.map((n) => n.object).join(', ')}`);

  let integrity: CommandRun | null = null;
  if (spec.integrityCheck) {
    const cwd = path.resolve(options.releaseDir ?? (await integrityDir(ctx, env, backup)));
    integrity = await ctx.progress.task(`integrity check (${env})`, () => runWithDatabase(ctx, url, spec.integrityCheck!, cwd, MIGRATION_TIMEOUT_MS), (r) => !r.ok);
    await record(ctx, {
      action: 'database.integrity',
      outcome: integrity.ok ? 'ok' : 'failed',
      env,
      detail: { backupId, argv: integrity.argv, cwd, exitCode: integrity.exitCode, durationMs: integrity.durationMs, output: tail(integrity.output, AUDIT_OUTPUT_CHARS) },
    });
  }
  return { env, backup, database: db.redacted, dataLoss, acceptedDataLoss, removed: outcome.removed, notRemoved: outcome.notRemoved, durationMs: Date.now() - started, integrity };
}

/**
 * Where a restore's integrity check runs when no release is named (`shipgate restore`): like the
 * migrations, from a release checkout (the current release's, else that of the deploy the backup was
 * taken for), so a check such as `[pytest, tests/...]` finds its files; the config's directory last.
 */
async function integrityDir(ctx: AppContext, env: string, backup: BackupRecord): Promise<string> {
  const layout = processLayout(ctx.stateDir);
  const current = await currentVersion(ctx.store, env);
  const taken = backup.deploymentId !== null && backup.deploymentId !== undefined ? (await ctx.store.getDeployment(backup.deploymentId))?.version : undefined;
  for (const version of [current, taken]) if (version && existsSync(layout.releaseDir(env, version))) return layout.releaseDir(env, version);
  return ctx.configDir;
}

/**
 * Runs `database.migrate.<action>` from `<releaseDir>/<migrate.cwd>` with DATABASE_URL (and the
 * libpq variables PGHOST, PGUSER, PGPASSWORD, ... so plain `psql` works too) set from the secret.
 * Returns the exit code and output (secret removed); does not throw on a non-zero exit. `up`
 * and `down` are recorded as `migrate.up` / `migrate.down`; `status` changes nothing and is not.
 */
export async function runMigration(ctx: AppContext, env: string, releaseDir: string, action: MigrationAction, options: { timeoutMs?: number } = {}): Promise<MigrationResult> {
  const spec = databaseSpec(ctx, env);
  if (!spec.migrate) {
    throw badInput(`environment "${env}" has no migrations configured`, {
      where: `shipgate.yml: environments.${env}.database.migrate`,
      hint: 'Add `migrate: { up: [alembic, upgrade, head] }` (and status/down) under the database section.',
    });
  }
  const argv = spec.migrate[action];
  if (!argv) {
    throw badInput(`database.migrate.${action} is not configured for ${env}`, {
      where: `shipgate.yml: environments.${env}.database.migrate.${action}`,
      hint: action === 'down' ? 'Add e.g. `down: [alembic, downgrade, "-1"]`, or use `rollback: restore`.' : 'Add e.g. `status: [alembic, current]`.',
    });
  }
  const url = databaseUrl(ctx, env);
  const cwd = path.resolve(releaseDir, spec.migrate.cwd);
  if (!existsSync(cwd)) {
    throw failed(`the migration directory ${cwd} does not exist`, { where: `environments.${env}.database.migrate.cwd`, hint: 'Check migrate.cwd: it is relative to the release checkout.' });
  }
  const run = await ctx.progress.task(`migrate ${action} (${env})`, () => runWithDatabase(ctx, url, argv, cwd, options.timeoutMs ?? MIGRATION_TIMEOUT_MS), (r) => !r.ok);
  if (action !== 'status') {
    await record(ctx, {
      action: `migrate.${action}`,
      outcome: run.ok ? 'ok' : 'failed',
      env,
      detail: { argv: run.argv, cwd, exitCode: run.exitCode, durationMs: run.durationMs, database: redactUrl(url), output: tail(run.output, AUDIT_OUTPUT_CHARS) },
    });
  }
  return { action, ...run };
}

// ---------------------------------------------------------------------------------------------

/**
 * Where secrets are read from: the context's own environment once AppContext carries one (it
 * does not yet; `createContext(..., { env })` keeps it only for the targets), else process.env.
 */
function secretSource(ctx: AppContext): NodeJS.ProcessEnv {
  return (ctx as AppContext & { env?: NodeJS.ProcessEnv }).env ?? process.env;
}

function openDatabase(ctx: AppContext, url: string): PostgresDatabase {
  return new PostgresDatabase(url, { baseEnv: secretSource(ctx), runner: ctx.runner });
}

async function dataLossCheck(ctx: AppContext, spec: DatabaseSpec, db: PostgresDatabase, backup: BackupRecord): Promise<DataLossCheck> {
  const ageMs = Math.max(0, ctx.clock.now().getTime() - new Date(backup.createdAt).getTime());
  const tooOld = ageMs > spec.maxBackupAge;
  const since = typeof backup.detail.snapshotAt === 'string' ? backup.detail.snapshotAt : backup.createdAt;
  let writesSince: number | null = null;
  let writesSinceError: string | null = null;
  if (spec.writesSince) {
    try {
      const rows = await db.query(spec.writesSince, [since]);
      const first = rows[0] ? Object.values(rows[0])[0] : undefined;
      const n = typeof first === 'number' || typeof first === 'string' || typeof first === 'bigint' ? Number(first) : NaN;
      if (!Number.isFinite(n)) writesSinceError = 'the writesSince query did not return a number in its first column';
      else writesSince = n;
    } catch (err) {
      // An unreachable database fails the restore; a query that no longer works (the migration
      // renamed its table, say) only means the loss is unknown.
      if (err instanceof ShipgateError && err.data?.connection === true) throw err;
      writesSinceError = db.scrub(err instanceof Error ? err.message : String(err));
    }
  }
  const wouldLoseData = tooOld || (writesSince ?? 0) > 0 || writesSinceError !== null;
  return { writesSince, writesSinceError, since, ageMs, maxBackupAgeMs: spec.maxBackupAge, tooOld, wouldLoseData };
}

function describeLoss(loss: DataLossCheck): string {
  const parts: string[] = [];
  if (loss.writesSince) parts.push(`${loss.writesSince} row${loss.writesSince === 1 ? ' was' : 's were'} written since the backup (${loss.since})`);
  if (loss.writesSinceError) parts.push(`the writes since the backup could not be counted (${loss.writesSinceError})`);
  if (loss.tooOld) parts.push(`the backup is ${formatDuration(loss.ageMs)} old, older than maxBackupAge ${formatDuration(loss.maxBackupAgeMs)}`);
  return parts.join('; ');
}

async function runWithDatabase(ctx: AppContext, url: string, argv: string[], cwd: string, timeoutMs: number): Promise<CommandRun> {
  const env = { ...libpqEnv(url, secretSource(ctx)), DATABASE_URL: url };
  const started = Date.now();
  const res = await ctx.runner.run(argv as unknown as Argv, { cwd, env, timeoutMs });
  const durationMs = Date.now() - started;
  const timedOut = res.exitCode !== 0 && durationMs >= timeoutMs;
  const output = scrubSecret([res.stdout, res.stderr, timedOut ? `shipgate: stopped after ${formatDuration(timeoutMs)}` : ''].filter((s) => s.trim()).join('\n'), url);
  return { argv: argv.map((a) => scrubSecret(a, url)), cwd, exitCode: res.exitCode, ok: res.exitCode === 0, output, durationMs };
}

const tail = (text: string, n: number) => (text.length > n ? `...${text.slice(-n)}` : text);
