import { createRequire } from 'node:module';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * The SQLite library under the store. Node 22.13+ and 24 ship `node:sqlite`; there shipgate
 * uses it, because better-sqlite3 12 aborts those runtimes when a statement is garbage-collected
 * late ("Assertion failed: (env) != nullptr" in Statement::~Statement, reported upstream for
 * Node 24). Node 20 has no built-in SQLite and keeps better-sqlite3.
 */
export interface SqliteHandle {
  /** Which library opened the file, for `shipgate --version`-style reports and tests. */
  library: 'node:sqlite' | 'better-sqlite3';
  database: SqliteDatabase;
  exec(sql: string): void;
}

const require = createRequire(import.meta.url);

type NodeSqlite = {
  DatabaseSync: new (file: string) => {
    prepare(sql: string): {
      all(...p: unknown[]): unknown[];
      run(...p: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
      iterate(...p: unknown[]): IterableIterator<unknown>;
      columns?(): unknown[];
    };
    exec(sql: string): void;
    close(): void;
  };
};

function loadNodeSqlite(): NodeSqlite | undefined {
  if (process.env.SHIPGATE_SQLITE === 'better-sqlite3') return undefined;
  const getBuiltin = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  if (!getBuiltin) return undefined;
  // node:sqlite announces itself as experimental once per process; that notice is not for users.
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes('SQLite')) return;
    return (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return getBuiltin('node:sqlite') as NodeSqlite | undefined;
  } catch {
    return undefined;
  } finally {
    process.emitWarning = emit;
  }
}

// Statements that return rows: what better-sqlite3 calls `reader`.
const READER = /^\s*(select|with|pragma|values|explain)\b|\breturning\b/i;

export function openSqlite(file: string): SqliteHandle {
  const nodeSqlite = loadNodeSqlite();
  if (nodeSqlite) {
    const db = new nodeSqlite.DatabaseSync(file);
    const database: SqliteDatabase = {
      close: () => db.close(),
      prepare(sql: string): SqliteStatement {
        const stmt = db.prepare(sql);
        const reader = typeof stmt.columns === 'function' ? stmt.columns().length > 0 : READER.test(sql);
        return {
          reader,
          all: (parameters) => stmt.all(...parameters),
          run: (parameters) => stmt.run(...parameters),
          iterate: (parameters) => stmt.iterate(...parameters),
        };
      },
    };
    return { library: 'node:sqlite', database, exec: (sql) => db.exec(sql) };
  }
  const BetterSqlite = require('better-sqlite3') as new (file: string) => SqliteDatabase & { exec(sql: string): void };
  const db = new BetterSqlite(file);
  return { library: 'better-sqlite3', database: db, exec: (sql) => db.exec(sql) };
}
