import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { CompiledQuery, type DatabaseConnection, type DialectAdapter, type Driver, Kysely, PostgresDialect, SqliteAdapter, SqliteDialect, type SqliteDialectConfig, SqliteDriver } from 'kysely';
import { badInput, failed, ShipgateError } from '../../core/errors.js';
import type { AuditSeal } from './audit-seal.js';
import { KyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrations.js';
import { openSqlite, type SqliteHandle } from './sqlite-driver.js';
import { notWritableError, snapshotStore, storeWritable } from './state-access.js';
import type { Store } from './store.js';
import type { Database } from './tables.js';

export const DATABASE_URL_VARIABLE = 'SHIPGATE_DATABASE_URL';

/**
 * Opens the store: PostgreSQL when `url` is a postgres URL, else the SQLite file. The schema is
 * migrated before the store is returned, so every caller sees the current tables.
 */
export async function openStore(options: { url?: string | undefined; sqliteFile: string; auditSeal?: AuditSeal; readOnly?: boolean }): Promise<Store> {
  const url = options.url?.trim();
  if (url && !/^postgres(ql)?:\/\//.test(url)) {
    // Falling back to the local SQLite file here would silently split the lock and audit state
    // that the URL was meant to share between hosts.
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    throw badInput(`${DATABASE_URL_VARIABLE} must be a postgres:// or postgresql:// URL${scheme ? `, not ${scheme}:` : ''}`, {
      where: DATABASE_URL_VARIABLE,
      hint: `Use e.g. postgres://user@db-host:5432/shipgate, or unset ${DATABASE_URL_VARIABLE} to use the local SQLite file.`,
    });
  }
  if (url) {
    // pg is loaded only for a PostgreSQL store: a SQLite command does not pay for it.
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    // An idle connection the server drops (restart, failover) is reported on the pool; without a
    // listener that error would crash the process. The next query gets a new connection.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    await closeOnFailure(db, migrateToLatest(db, 'postgres'));
    return new KyselyStore(db, 'postgres', options.auditSeal);
  }
  const access = storeWritable(options.sqliteFile);
  if (!access.ok && !options.readOnly) throw notWritableError(access, options.sqliteFile);
  if (!access.ok && existsSync(options.sqliteFile)) return openSnapshot(options.sqliteFile, options.auditSeal);
  try {
    return await openSqliteStore(options.sqliteFile, options.auditSeal);
  } catch (err) {
    if (err instanceof ShipgateError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    const readOnly = /readonly|read-only|EACCES|EROFS|permission/i.test(message);
    throw failed(`cannot open the store ${options.sqliteFile}: ${message}`, {
      where: options.sqliteFile,
      hint: readOnly
        ? 'The state directory must be writable by whoever runs shipgate (check its owner, mode and mount).'
        : 'The file is damaged or not a shipgate store: restore state.db from a backup; only if there is none, move it aside and run `shipgate state init --force --reason "..."`.',
    });
  }
}

/**
 * A command that only reads, on a state directory this user cannot write: it reads a private copy,
 * and whatever it would write (an expired approval, its audit event) stays in that copy.
 */
async function openSnapshot(sqliteFile: string, auditSeal: AuditSeal | undefined): Promise<Store> {
  const snapshot = snapshotStore(sqliteFile);
  process.stderr.write(`warning: the state directory ${path.dirname(sqliteFile)} is not writable by this user: reading a copy of ${path.basename(sqliteFile)}; nothing this command would record is kept\n`);
  try {
    const store = await openSqliteStore(snapshot.file, auditSeal && { ...auditSeal, writeCheckpoint: () => undefined });
    const close = store.close.bind(store);
    store.close = async () => {
      try {
        await close();
      } finally {
        snapshot.dispose();
      }
    };
    return store;
  } catch (err) {
    snapshot.dispose();
    throw err;
  }
}

async function openSqliteStore(sqliteFile: string, auditSeal: AuditSeal | undefined): Promise<Store> {
  const options = { sqliteFile, auditSeal };
  mkdirSync(path.dirname(options.sqliteFile), { recursive: true });
  const sqlite = openSqlite(options.sqliteFile);
  configureConnection(sqlite);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: sqlite.database }) });
  await closeOnFailure(db, migrateSqliteSerially(options.sqliteFile, db));
  return new KyselyStore(db, 'sqlite', options.auditSeal);
}

/** The settings every connection to the SQLite file runs with, whichever library opened it. */
export function configureConnection(sqlite: Pick<SqliteHandle, 'exec'>): void {
  // The busy timeout makes concurrent shipgate processes wait for each other instead of
  // failing with SQLITE_BUSY; it is set first because switching to WAL needs a lock too.
  // WAL lets readers run while a deploy writes.
  sqlite.exec('pragma busy_timeout = 10000');
  sqlite.exec('pragma journal_mode = WAL');
  // Set, not inherited: better-sqlite3 is built with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1, so on Node 20
  // a process reopening the WAL file ran at NORMAL while node:sqlite (Node 22+) ran at FULL. An
  // intent record must survive a power loss of the host, not only a killed process, before the
  // step it announces touches a service.
  sqlite.exec('pragma synchronous = FULL');
  sqlite.exec('pragma foreign_keys = ON');
}

/** A failed open must not leave connections behind (an open pg pool keeps the CLI alive). */
async function closeOnFailure(db: Kysely<Database>, migration: Promise<void>): Promise<void> {
  try {
    await migration;
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw err;
  }
}

const sqliteMigrations = new Map<string, Promise<void>>();

/**
 * Within one process, migrations of a file run one after another: better-sqlite3 is
 * synchronous, so a second connection waiting on the first one's BEGIN IMMEDIATE would block
 * the event loop the first needs to commit (and fail after busy_timeout).
 */
async function migrateSqliteSerially(file: string, db: Kysely<Database>): Promise<void> {
  const key = path.resolve(file);
  const previous = sqliteMigrations.get(key) ?? Promise.resolve();
  const mine = previous.catch(() => undefined).then(() => migrateToLatest(db, 'sqlite'));
  sqliteMigrations.set(key, mine);
  try {
    await mine;
  } finally {
    if (sqliteMigrations.get(key) === mine) sqliteMigrations.delete(key);
  }
}

/**
 * SQLite with migrations serialized across processes. Kysely runs SQLite migrations without a
 * transaction and its migration lock is a no-op, so two processes opening a fresh file (two
 * `shipgate deploy` at once) both saw "nothing applied", both created the tables, and the
 * second failed with `table "audit" already exists`. SQLite does have transactional DDL: run
 * migrations in a transaction, and begin every transaction with BEGIN IMMEDIATE so it takes
 * the write lock before reading; the second process then waits (busy_timeout) and finds the
 * migration applied.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}
