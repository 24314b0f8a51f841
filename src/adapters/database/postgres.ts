import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import type pg from 'pg';
import { failed, ShipgateError } from '../../core/errors.js';
import { pipeInto } from '../runner/pipe.js';
import { localRunner, type Argv, type Runner } from '../runner/runner.js';
import { claimBackupFile, fileSha256, verifyChecksum, type BackupFile } from './backup-file.js';
import { contentChecksum, describeObject, dropStatement, objectKey, userObjects, withoutContents, type ContentChecksum } from './postgres-catalog.js';
import { libpqEnv, pgCommands, redactUrl, scrubSecret } from './postgres-commands.js';
import { findPgTool, withPath, type PgTool } from './postgres-tools.js';
import { parseToc, type TocEntry } from './postgres-toc.js';

// The database's parts live by job: backup-file.ts (names, checksums), postgres-toc.ts (what a
// dump lists), postgres-catalog.ts (what the database holds), postgres-tools.ts (finding the
// client tools), postgres-commands.ts (their argv and environment), runner/pipe.ts (pg_restore | psql).
export { backupFileName, fileSha256, verifyChecksum, type BackupFile } from './backup-file.js';
export type { ContentChecksum } from './postgres-catalog.js';
export { findPgTool, type PgTool } from './postgres-tools.js';
export { parseToc, type TocEntry } from './postgres-toc.js';

export interface RestoreOutcome {
  /** Objects created after the backup that the restore removed, e.g. "table public.fills". */
  removed: string[];
  /** Objects created after the backup that could not be removed (left as they are). */
  notRemoved: { object: string; error: string }[];
  durationMs: number;
}

export interface PostgresOptions {
  /** Environment the client tools run with (the libpq variables are added to it). Default process.env. */
  baseEnv?: NodeJS.ProcessEnv;
  runner?: Runner;
  /** Limit for one pg_dump / pg_restore run. Default 4 h. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 4 * 3_600_000;
const TAIL = 4_000;

/**
 * One PostgreSQL database, reached through a URL that is a secret: it is handed to the client
 * tools as libpq environment variables (never argv), and every message this class produces is
 * scrubbed of it and names the database by `redactUrl` only.
 */
export class PostgresDatabase {
  readonly redacted: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly runner: Runner;
  private readonly timeoutMs: number;

  constructor(
    private readonly url: string,
    options: PostgresOptions = {},
  ) {
    this.redacted = redactUrl(url);
    this.env = libpqEnv(url, options.baseEnv ?? process.env);
    this.runner = options.runner ?? localRunner;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Removes the secret from any text before it leaves this class. */
  scrub(text: string): string {
    return scrubSecret(text, this.url);
  }

  /**
   * Dumps the database to `<dir>/<env>_YYYYMMDD_HHMMSS.dump` (UTC, from `at`), mode 0600, and
   * verifies it: `pg_restore --list` must read back at least one entry and a full read of the
   * archive must succeed. Throws (exit 1) on any failure, leaving no file behind.
   */
  async backup(dir: string, env: string, options: { at?: Date } = {}): Promise<BackupFile> {
    const started = Date.now();
    const pgDump = this.tool('pg_dump');
    this.tool('pg_restore');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Also proves the database answers before a file is created.
    const snapshotAt = (await this.serverTime()).toISOString();
    const { file, partial } = claimBackupFile(dir, env, options.at ?? new Date());
    try {
      const dump = await this.exec(pgDump, pgCommands.pgDump(partial));
      if (dump.exitCode !== 0) throw failed(`pg_dump of ${this.redacted} failed (exit ${dump.exitCode}): ${this.tail(dump.stderr)}`, { hint: 'Check that the database is reachable with these credentials and that pg_dump is at least as new as the server.' });
      const entries = await this.verifyArchive(partial);
      renameSync(partial, file);
      const sizeBytes = statSync(file).size;
      const sha256 = await fileSha256(file);
      return { file, sizeBytes, sha256, verifiedEntries: entries.length, tableData: entries.filter((e) => e.desc === 'TABLE DATA').length, snapshotAt, durationMs: Date.now() - started };
    } catch (err) {
      rmSync(partial, { force: true });
      throw err;
    }
  }

  /**
   * Reads the archive back: its table of contents (`pg_restore --list`, at least one entry) and
   * every data block (`pg_restore --file /dev/null`). Returns the entries.
   */
  async verifyArchive(file: string): Promise<TocEntry[]> {
    const pgRestore = this.tool('pg_restore');
    const list = await this.exec(pgRestore, pgCommands.pgRestoreList(file));
    if (list.exitCode !== 0) throw failed(`the dump ${file} cannot be read back: pg_restore --list failed (exit ${list.exitCode}): ${this.tail(list.stderr)}`, { hint: 'The dump is incomplete or not a pg_dump custom-format archive; take a new backup.' });
    const entries = parseToc(list.stdout);
    if (entries.length === 0) {
      throw failed(`the dump of ${this.redacted} lists no objects: the database is empty, or the URL names the wrong database`, {
        hint: 'Check the database name in the URL; an empty database has nothing to back up.',
        data: { emptyDatabase: true },
      });
    }
    const read = await this.exec(pgRestore, pgCommands.pgRestoreReadAll(file));
    if (read.exitCode !== 0) throw failed(`the dump ${file} is damaged: reading it back failed (exit ${read.exitCode}): ${this.tail(read.stderr)}`, { hint: 'Take a new backup; check the disk holding the backup directory.' });
    return entries;
  }

  /**
   * Restores a dump over the database, in one transaction: everything in the database that the
   * dump does not contain (tables, views, sequences, types, routines and schemas created after
   * the backup) is dropped, then every dumped object is dropped if it exists and recreated with
   * its data (`pg_restore --clean --if-exists`, streamed into psql). Any error rolls the whole
   * transaction back and leaves the database as it was.
   *
   * The file's SHA-256 (and size) must match `expected` first: a modified dump is refused (exit 3).
   */
  async restore(file: string, expected: { sha256: string; sizeBytes?: number }): Promise<RestoreOutcome> {
    const started = Date.now();
    await verifyChecksum(file, expected);
    const pgRestore = this.tool('pg_restore');
    const psql = this.tool('psql');
    const list = await this.exec(pgRestore, pgCommands.pgRestoreList(file));
    if (list.exitCode !== 0) throw failed(`the dump ${file} cannot be read: ${this.tail(list.stderr)}`);
    const dumped = new Set(parseToc(list.stdout).map(objectKey));
    const extras = (await this.withClient(userObjects)).filter((o) => !dumped.has(objectKey(o)));
    const removable = withoutContents(extras);
    const tag = `sg_${randomBytes(6).toString('hex')}`;
    const preamble = ['BEGIN;', 'SET LOCAL client_min_messages = warning;', ...removable.map((o) => dropStatement(o, tag)), ''].join('\n');

    const run = await pipeInto(withPath(pgRestore, pgCommands.pgRestoreScript(file)), withPath(psql, pgCommands.psqlApply()), {
      env: this.env,
      timeoutMs: this.timeoutMs,
      prefix: preamble,
      suffix: (dumped) => (dumped ? 'COMMIT;\n' : 'ROLLBACK;\n'),
    });
    const stderr = this.scrub(run.consumerStderr);
    // psql first: when it stops on an error, pg_restore is ended by us and its exit code says nothing.
    if (run.consumerCode !== 0) {
      throw failed(`the restore of ${file} into ${this.redacted} failed and was rolled back (psql exit ${run.consumerCode}): ${this.tail(errorLines(stderr))}`, {
        hint: 'Nothing was changed. A lock held by a running service can also block the restore: stop the services using the database and retry.',
      });
    }
    if (run.producerCode !== 0) throw failed(`the restore of ${file} into ${this.redacted} failed and was rolled back: pg_restore exited ${run.producerCode}: ${this.tail(run.producerStderr)}`, { hint: 'Nothing was changed. Check the dump with `pg_restore --list FILE`.' });
    const notRemoved = [...stderr.matchAll(/shipgate: could not remove (.+?) -- (.*)$/gm)].map((m) => ({ object: m[1]!, error: m[2]! }));
    const failedNames = new Set(notRemoved.map((n) => n.object));
    return { removed: removable.map(describeObject).filter((d) => !failedNames.has(d)), notRemoved, durationMs: Date.now() - started };
  }

  /** Runs one statement through node-postgres. Errors are scrubbed; a server error carries its SQLSTATE in `data.sqlState`. */
  async query<R extends Record<string, unknown> = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.withClient(async (client) => (await client.query<R>(sql, params)).rows);
  }

  async serverTime(): Promise<Date> {
    const rows = await this.query<{ now: Date }>('select clock_timestamp() as now');
    return new Date(rows[0]!.now);
  }

  /** Schema and data fingerprint of the database (used by tests to prove a restore is faithful). */
  async contentChecksum(): Promise<ContentChecksum> {
    return this.withClient(contentChecksum);
  }

  private async withClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
    const { default: pgLib } = await import('pg'); // on first use: keeps it out of the CLI's start-up
    const client = new pgLib.Client({ connectionString: this.url, connectionTimeoutMillis: 10_000, application_name: 'shipgate' });
    // A connection dropped while idle is reported here; without a listener it would crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await use(client);
    } catch (err) {
      throw this.queryError(err);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private queryError(err: unknown) {
    if (err instanceof ShipgateError) return err;
    const e = err as { message?: string; code?: string };
    const sqlState = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
    const connection = !sqlState || sqlState.startsWith('08') || sqlState.startsWith('28') || sqlState.startsWith('3D') || sqlState.startsWith('57P');
    const message = this.scrub(e.message ?? String(err));
    return failed(connection ? `cannot connect to ${this.redacted}: ${message}` : `query on ${this.redacted} failed: ${message}`, {
      hint: connection ? 'Check that the database is running and reachable, and the user, password and database name in the URL.' : undefined,
      data: { sqlState: sqlState ?? null, connection },
    });
  }

  /** The tool's path: on PATH, else the newest /usr/lib/postgresql/N/bin. */
  private tool(name: PgTool): string {
    const found = findPgTool(name, this.env.PATH);
    if (!found) {
      throw failed(`${name} not found on PATH or in /usr/lib/postgresql/*/bin`, {
        hint: 'Install the PostgreSQL client tools, as new as the server or newer (Debian/Ubuntu: apt-get install postgresql-client).',
      });
    }
    return found;
  }

  private async exec(toolPath: string, argv: Argv) {
    const res = await this.runner.run(withPath(toolPath, argv), { env: this.env, timeoutMs: this.timeoutMs });
    return { ...res, stdout: res.stdout, stderr: this.scrub(res.stderr) };
  }

  private tail(text: string): string {
    const t = this.scrub(text).trim();
    return t.length > TAIL ? `...${t.slice(-TAIL)}` : t || '(no output)';
  }
}

/** psql's error lines (ERROR, FATAL, DETAIL, HINT), else all of its output. */
function errorLines(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => /\b(ERROR|FATAL|DETAIL|HINT|CONTEXT):/.test(l) || /^psql: /.test(l));
  return lines.length ? lines.join('\n') : stderr;
}
