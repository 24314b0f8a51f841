import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, createReadStream, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { failed, refused, ShipgateError } from '../../core/errors.js';
import { localRunner, type Argv, type Runner } from '../runner/runner.js';
import { libpqEnv, pgCommands, redactUrl, scrubSecret } from './postgres-commands.js';

export type PgTool = 'pg_dump' | 'pg_restore' | 'psql';

export interface BackupFile {
  /** Absolute path of the verified dump. */
  file: string;
  sizeBytes: number;
  sha256: string;
  /** Entries `pg_restore --list` reads back (> 0, else the backup throws). */
  verifiedEntries: number;
  /** How many of them are table data. */
  tableData: number;
  /** The database server's clock just before the dump started: rows newer than this are not in it. */
  snapshotAt: string;
  durationMs: number;
}

export interface RestoreOutcome {
  /** Objects created after the backup that the restore removed, e.g. "table public.fills". */
  removed: string[];
  /** Objects created after the backup that could not be removed (left as they are). */
  notRemoved: { object: string; error: string }[];
  durationMs: number;
}

export interface TocEntry {
  id: number;
  desc: string;
  schema: string;
  name: string;
  owner: string;
}

/** A fingerprint of a database's schema and data, to compare before and after a restore. */
export interface ContentChecksum {
  /** "kind schema name" of every user object (tables, views, sequences, types, routines, schemas). */
  objects: string[];
  /** md5 of every user table's columns: name, type, nullability, default, in order. */
  columns: string;
  /** md5 of each user table's rows, keyed "schema.table". */
  tables: Record<string, string>;
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
    const extras = (await this.userObjects()).filter((o) => !dumped.has(objectKey(o)));
    const removable = withoutContents(extras);
    const tag = `sg_${randomBytes(6).toString('hex')}`;
    const preamble = ['BEGIN;', 'SET LOCAL client_min_messages = warning;', ...removable.map((o) => dropStatement(o, tag)), ''].join('\n');

    const run = await pipeInto(withPath(pgRestore, pgCommands.pgRestoreScript(file)), withPath(psql, pgCommands.psqlApply()), this.env, preamble, this.timeoutMs);
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
    return this.withClient(async (client) => {
      await client.query('set search_path = pg_catalog');
      const objects = (await client.query<CatalogObject>(USER_OBJECTS_SQL)).rows.map(describeObject).sort();
      const columns = await client.query<{ md5: string }>(
        `select md5(coalesce(string_agg(concat_ws(' ', table_schema, table_name, ordinal_position, column_name, data_type, udt_schema, udt_name, is_nullable, column_default), E'\\n'
           order by table_schema, table_name, ordinal_position), '')) as md5
         from information_schema.columns where table_schema not in ('pg_catalog', 'information_schema')`,
      );
      const tableRows = await client.query<{ table_schema: string; table_name: string }>(
        `select table_schema, table_name from information_schema.tables
         where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`,
      );
      const tables: Record<string, string> = {};
      for (const t of tableRows.rows) {
        const rel = `${client.escapeIdentifier(t.table_schema)}.${client.escapeIdentifier(t.table_name)}`;
        const r = await client.query<{ md5: string }>(`select md5(coalesce(string_agg(x::text, E'\\n' order by x::text), '')) as md5 from ${rel} x`);
        tables[`${t.table_schema}.${t.table_name}`] = r.rows[0]!.md5;
      }
      return { objects, columns: columns.rows[0]!.md5, tables };
    });
  }

  /** Every user object of the database, as `pg_restore --list` would name it. */
  private async userObjects(): Promise<CatalogObject[]> {
    return this.withClient(async (client) => {
      // Types in routine signatures are then schema-qualified exactly as pg_dump writes them.
      await client.query('set search_path = pg_catalog');
      return (await client.query<CatalogObject>(USER_OBJECTS_SQL)).rows;
    });
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

// ---------------------------------------------------------------------------------------------

export function findPgTool(name: PgTool, pathVariable: string | undefined = process.env.PATH): string | undefined {
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  for (const dir of (pathVariable ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, name);
    if (executable(file)) return file;
  }
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) {
    const file = path.join(base, v, 'bin', name);
    if (executable(file)) return file;
  }
  return undefined;
}

/** `<env>_YYYYMMDD_HHMMSS.dump` in UTC. */
export function backupFileName(env: string, at: Date): string {
  const iso = at.toISOString(); // 2026-03-02T14:05:09.123Z
  return `${env}_${iso.slice(0, 10).replaceAll('-', '')}_${iso.slice(11, 19).replaceAll(':', '')}.dump`;
}

/**
 * Claims a name no other backup uses (a second backup in the same second gets "_2", ...) by
 * creating its ".partial" file exclusively, mode 0600: pg_dump then writes into that file, which
 * keeps the mode, so the dump is never readable by others, not even while it is written.
 */
function claimBackupFile(dir: string, env: string, at: Date): { file: string; partial: string } {
  const base = backupFileName(env, at).replace(/\.dump$/, '');
  for (let n = 1; n < 1000; n++) {
    const file = path.join(path.resolve(dir), `${base}${n === 1 ? '' : `_${n}`}.dump`);
    const partial = `${file}.partial`;
    if (existsSync(file)) continue;
    try {
      closeSync(openSync(partial, 'wx', 0o600));
      return { file, partial };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw failed(`cannot create a backup file in ${dir}: ${(err as Error).message}`, { hint: 'Check that the backup directory (database.backupDir) is writable.' });
    }
  }
  throw failed(`too many backups named ${base} in ${dir}`);
}

export function fileSha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** Refuses (exit 3) a dump whose SHA-256 or size differs from what was recorded; a missing file fails (exit 1). */
export async function verifyChecksum(file: string, expected: { sha256: string; sizeBytes?: number }): Promise<void> {
  if (!existsSync(file)) throw failed(`the backup file ${file} does not exist`, { hint: 'It was moved or deleted; restore it from off-host copies, or pick another backup (`shipgate backups`).' });
  const size = statSync(file).size;
  const sha256 = await fileSha256(file);
  if (sha256 !== expected.sha256 || (expected.sizeBytes !== undefined && size !== expected.sizeBytes)) {
    throw refused(`the backup file ${file} was modified after it was taken (SHA-256 ${sha256.slice(0, 12)}…, recorded ${expected.sha256.slice(0, 12)}…); it will not be restored`, {
      hint: 'Use another backup (`shipgate backups`), or find out who changed the file.',
      data: { reason: 'checksum-mismatch', file, sha256, expectedSha256: expected.sha256, sizeBytes: size, expectedSizeBytes: expected.sizeBytes ?? null },
    });
  }
}

// The entry kinds the restore compares with the database; longer names first.
const TOC_KINDS = ['MATERIALIZED VIEW', 'FOREIGN TABLE', 'TABLE', 'VIEW', 'SEQUENCE', 'TYPE', 'DOMAIN', 'FUNCTION', 'PROCEDURE', 'AGGREGATE', 'SCHEMA'];
// Other kinds that start like those ("TABLE DATA" is not a "TABLE").
const TOC_LONGER = ['MATERIALIZED VIEW DATA', 'TABLE DATA', 'TABLE ATTACH', 'SEQUENCE SET', 'SEQUENCE OWNED BY'];

/**
 * Parses `pg_restore --list`: "ID; CATALOG OID DESC SCHEMA NAME OWNER", ";" lines are comments.
 * Names are not quoted there; a name with spaces is kept whole (the owner is the last word).
 */
export function parseToc(listing: string): TocEntry[] {
  const entries: TocEntry[] = [];
  for (const raw of listing.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line.trim() || line.startsWith(';')) continue;
    const m = /^(\d+); \d+ \d+ (.*)$/.exec(line);
    if (!m) continue;
    const rest = m[2]!;
    const longer = TOC_LONGER.find((k) => rest.startsWith(`${k} `));
    const kind = longer ?? TOC_KINDS.find((k) => rest.startsWith(`${k} `));
    if (!kind) {
      // Other kinds (CONSTRAINT, INDEX, COMMENT, ...): counted, not compared.
      entries.push({ id: Number(m[1]), desc: rest.split(' ')[0]!, schema: '', name: '', owner: '' });
      continue;
    }
    const words = rest.slice(kind.length + 1).split(' ');
    entries.push({ id: Number(m[1]), desc: kind, schema: words[0] ?? '', name: words.slice(1, -1).join(' '), owner: words.length > 2 ? words[words.length - 1]! : '' });
  }
  return entries;
}

interface CatalogObject {
  kind: string;
  schema: string;
  name: string;
  drop: string;
  rank: number;
}

const objectKey = (o: { desc?: string; kind?: string; schema: string; name: string }) => `${o.kind ?? o.desc}\u0000${o.schema}\u0000${o.name}`;
const describeObject = (o: CatalogObject) => `${o.kind.toLowerCase()} ${o.schema === '-' ? o.name : `${o.schema}.${o.name}`}`;

/** Objects inside a schema that is dropped anyway need no statement of their own. */
function withoutContents(objects: CatalogObject[]): CatalogObject[] {
  const schemas = new Set(objects.filter((o) => o.kind === 'SCHEMA').map((o) => o.name));
  return objects.filter((o) => o.kind === 'SCHEMA' || !schemas.has(o.schema)).sort((a, b) => a.rank - b.rank);
}

/** Each drop in its own subtransaction: one that fails is reported, and the restore goes on. */
function dropStatement(o: CatalogObject, tag: string): string {
  const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
  return `DO $${tag}$ BEGIN EXECUTE ${literal(o.drop)}; EXCEPTION WHEN OTHERS THEN RAISE WARNING 'shipgate: could not remove % -- %', ${literal(describeObject(o))}, SQLERRM; END $${tag}$;`;
}

/**
 * User objects, named as pg_dump names them, with the statement that drops each one. Extension
 * members are left alone (the dump recreates extensions), and so are sequences that belong to a
 * column (serial, identity): they go with their table. Run with search_path = pg_catalog.
 */
const USER_OBJECTS_SQL = `
with ns as (
  select oid, nspname from pg_namespace
  where nspname not in ('pg_catalog', 'information_schema') and nspname not like 'pg\\_toast%' and nspname not like 'pg\\_temp\\_%'
),
ext as (select classid, objid from pg_depend where deptype = 'e')
select 'SCHEMA' as kind, '-' as schema, n.nspname as name, format('DROP SCHEMA IF EXISTS %I CASCADE', n.nspname) as drop, 0 as rank
  from ns n
  where n.nspname <> 'public'
    and not exists (select 1 from ext where ext.classid = 'pg_namespace'::regclass and ext.objid = n.oid)
    and not exists (select 1 from pg_extension e where e.extnamespace = n.oid)
union all
select k.kind, n.nspname, c.relname, format('DROP %s IF EXISTS %I.%I CASCADE', k.kind, n.nspname, c.relname), k.rank
  from pg_class c
  join ns n on n.oid = c.relnamespace
  join (values ('v', 'VIEW', 1), ('m', 'MATERIALIZED VIEW', 1), ('r', 'TABLE', 2), ('p', 'TABLE', 2), ('f', 'FOREIGN TABLE', 2), ('S', 'SEQUENCE', 3)) as k(relkind, kind, rank)
    on k.relkind = c.relkind::text
  where not exists (select 1 from ext where ext.classid = 'pg_class'::regclass and ext.objid = c.oid)
    and not (c.relkind = 'S' and exists (
      select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')))
union all
select case p.prokind when 'p' then 'PROCEDURE' when 'a' then 'AGGREGATE' else 'FUNCTION' end, n.nspname,
       p.proname || '(' || oidvectortypes(p.proargtypes) || ')',
       format('DROP ROUTINE IF EXISTS %I.%I(%s) CASCADE', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), 4
  from pg_proc p
  join ns n on n.oid = p.pronamespace
  where not exists (select 1 from ext where ext.classid = 'pg_proc'::regclass and ext.objid = p.oid)
union all
select case t.typtype when 'd' then 'DOMAIN' else 'TYPE' end, n.nspname, t.typname,
       format('DROP %s IF EXISTS %I.%I CASCADE', case t.typtype when 'd' then 'DOMAIN' else 'TYPE' end, n.nspname, t.typname), 5
  from pg_type t
  join ns n on n.oid = t.typnamespace
  where (t.typtype in ('e', 'r', 'd') or (t.typtype = 'c' and exists (select 1 from pg_class c where c.oid = t.typrelid and c.relkind = 'c')))
    and not exists (select 1 from ext where ext.classid = 'pg_type'::regclass and ext.objid = t.oid)
order by 5, 2, 3`;

const withPath = (toolPath: string, argv: Argv): Argv => [toolPath, ...argv.slice(1)];

/** psql's error lines (ERROR, FATAL, DETAIL, HINT), else all of its output. */
function errorLines(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => /\b(ERROR|FATAL|DETAIL|HINT|CONTEXT):/.test(l) || /^psql: /.test(l));
  return lines.length ? lines.join('\n') : stderr;
}

interface PipeResult {
  producerCode: number;
  producerStderr: string;
  consumerCode: number;
  consumerStderr: string;
}

/**
 * `producer | consumer`, without a shell: the consumer first gets `preamble`, then the
 * producer's stdout, then "COMMIT;" only if the producer succeeded ("ROLLBACK;" otherwise).
 * A consumer that stops early (psql on an error) ends the producer too.
 */
function pipeInto(producerArgv: Argv, consumerArgv: Argv, env: NodeJS.ProcessEnv, preamble: string, timeoutMs: number): Promise<PipeResult> {
  return new Promise((resolve) => {
    const keep = (s: string, chunk: Buffer) => (s + chunk.toString()).slice(-64 * 1024);
    let producerStderr = '';
    let consumerStderr = '';
    const consumer = spawn(consumerArgv[0], consumerArgv.slice(1), { env, stdio: ['pipe', 'ignore', 'pipe'] });
    const producer = spawn(producerArgv[0], producerArgv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    producer.stderr.on('data', (c: Buffer) => (producerStderr = keep(producerStderr, c)));
    consumer.stderr.on('data', (c: Buffer) => (consumerStderr = keep(consumerStderr, c)));
    consumer.stdin.on('error', () => undefined); // EPIPE once psql has stopped on an error

    let producerCode: number | undefined;
    let consumerCode: number | undefined;
    const timer = setTimeout(() => {
      producerStderr += `\ntimed out after ${Math.round(timeoutMs / 1000)} s`;
      producer.kill('SIGTERM');
      consumer.kill('SIGTERM');
    }, timeoutMs);
    const finish = () => {
      if (producerCode === undefined || consumerCode === undefined) return;
      clearTimeout(timer);
      resolve({ producerCode, producerStderr, consumerCode, consumerStderr });
    };
    const codeOf = (code: number | null) => code ?? 128;

    producer.on('error', (err) => {
      producerStderr += `\n${err.message}`;
      if (producerCode === undefined) producerCode = 127;
      consumer.stdin.end('ROLLBACK;\n');
      finish();
    });
    consumer.on('error', (err) => {
      consumerStderr += `\n${err.message}`;
      producer.kill('SIGTERM');
      if (consumerCode === undefined) consumerCode = 127;
      finish();
    });

    consumer.stdin.write(preamble);
    producer.stdout.pipe(consumer.stdin, { end: false });
    // 'close' comes after the producer's stdout has ended, so every chunk is already queued.
    producer.on('close', (code) => {
      producerCode = codeOf(code);
      consumer.stdin.end(producerCode === 0 ? 'COMMIT;\n' : 'ROLLBACK;\n');
      finish();
    });
    consumer.on('close', (code) => {
      consumerCode = codeOf(code);
      if (producerCode === undefined) {
        producer.stdout.unpipe(consumer.stdin);
        producer.stdout.resume();
        producer.kill('SIGTERM');
      }
      finish();
    });
  });
}
