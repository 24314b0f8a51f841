import { createRequire } from 'node:module';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { failed } from '../../core/errors.js';

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
  const BetterSqlite = loadBetterSqlite();
  const db = new BetterSqlite(file);
  return { library: 'better-sqlite3', database: db, exec: (sql) => db.exec(sql) };
}

type BetterSqliteClass = new (file: string) => SqliteDatabase & { exec(sql: string): void };

/**
 * better-sqlite3 is an optional dependency: Node 24 installs without it (nothing to compile), so
 * where it is needed and missing the user gets the one thing to do, not a resolver stack.
 */
function loadBetterSqlite(): BetterSqliteClass {
  try {
    return require('better-sqlite3') as BetterSqliteClass;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const missing = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' || /Could not locate the bindings file/.test(message);
    const forced = process.env.SHIPGATE_SQLITE === 'better-sqlite3';
    if (missing) {
      throw failed(
        forced
          ? 'SHIPGATE_SQLITE=better-sqlite3 needs better-sqlite3: run npm install better-sqlite3, or unset SHIPGATE_SQLITE'
          : `Node ${process.versions.node.split('.')[0]} needs better-sqlite3: run npm install better-sqlite3, or use Node ≥ 22.13`,
      );
    }
    if (/NODE_MODULE_VERSION|was compiled against a different Node/.test(message)) {
      throw failed(`better-sqlite3 was built for another Node than ${process.version}: run npm rebuild better-sqlite3, or use Node ≥ 22.13`);
    }
    throw err;
  }
}
