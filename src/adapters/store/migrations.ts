import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

type Dialect = 'sqlite' | 'postgres';

// Migrations live in code (not files) so the compiled CLI carries them; each one is
// written once for both dialects, differing only in how an auto-increment key is spelled.
function migrations(dialect: Dialect): Record<string, Migration> {
  const serialId = (db: Kysely<any>, table: string) =>
    dialect === 'postgres'
      ? db.schema.createTable(table).addColumn('id', 'serial', (c) => c.primaryKey())
      : db.schema.createTable(table).addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  return {
    '0001_foundation': {
      async up(db) {
        await db.schema
          .createTable('audit')
          .addColumn('seq', 'integer', (c) => c.primaryKey())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('env', 'text')
          .addColumn('version', 'text')
          .addColumn('reason', 'text')
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('detail', 'text', (c) => c.notNull())
          .addColumn('prev_hash', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('audit_env').on('audit').column('env').execute();

        await db.schema
          .createTable('locks')
          .addColumn('env', 'text', (c) => c.primaryKey())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('token', 'text', (c) => c.notNull())
          .addColumn('acquired_at', 'text', (c) => c.notNull())
          .addColumn('lease_until', 'text', (c) => c.notNull())
          .addColumn('host', 'text', (c) => c.notNull())
          .addColumn('pid', 'integer', (c) => c.notNull())
          .execute();

        await serialId(db, 'deployments')
          .addColumn('env', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('from_version', 'text')
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('cause_id', 'integer')
          .addColumn('error', 'text')
          .addColumn('host', 'text', (c) => c.notNull())
          .addColumn('pid', 'integer', (c) => c.notNull())
          .addColumn('started_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('finished_at', 'text')
          .execute();
        await db.schema.createIndex('deployments_env').on('deployments').columns(['env', 'id']).execute();

        await serialId(db, 'steps')
          .addColumn('deployment_id', 'integer', (c) => c.notNull().references('deployments.id'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('started_at', 'text', (c) => c.notNull())
          .addColumn('finished_at', 'text')
          .addColumn('detail', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('steps_deployment').on('steps').column('deployment_id').execute();

        await db.schema
          .createTable('releases')
          .addColumn('env', 'text', (c) => c.notNull())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('commit', 'text', (c) => c.notNull())
          .addColumn('verdict', 'text')
          .addColumn('reason', 'text')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('releases_pk', ['env', 'version'])
          .execute();
      },
    },
    '0002_analysis': {
      async up(db) {
        await db.schema.alterTable('deployments').addColumn('meta', 'text', (c) => c.notNull().defaultTo('{}')).execute();
        await serialId(db, 'watches')
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('env', 'text', (c) => c.notNull())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('deployment_id', 'integer', (c) => c.notNull().references('deployments.id'))
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('started_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('finished_at', 'text')
          .addColumn('data', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('watches_state').on('watches').columns(['state', 'env']).execute();
        await serialId(db, 'incidents')
          .addColumn('env', 'text', (c) => c.notNull())
          .addColumn('opened_at', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0003_production_path': {
      async up(db) {
        await serialId(db, 'approvals')
          .addColumn('env', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('requester', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('required', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('approvers', 'text', (c) => c.notNull())
          .execute();
        await serialId(db, 'attestations')
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('item', 'text', (c) => c.notNull())
          .addColumn('by', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('note', 'text')
          .execute();
        // size_bytes is bigint: dumps pass 2 GiB; pg returns it as a string, converted on read.
        await serialId(db, 'backups')
          .addColumn('env', 'text', (c) => c.notNull())
          .addColumn('deployment_id', 'integer')
          .addColumn('file', 'text', (c) => c.notNull())
          .addColumn('size_bytes', 'bigint', (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('verified_entries', 'integer', (c) => c.notNull())
          .addColumn('detail', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0004_kv': {
      async up(db) {
        // Small named values: the embedded trading safety state when no Redis is configured.
        await db.schema
          .createTable('kv')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0005_integrity': {
      async up(db) {
        // Older events keep a null MAC: verify reports them as unkeyed instead of forged.
        await db.schema.alterTable('audit').addColumn('mac', 'text').execute();
        await db.schema.alterTable('approvals').addColumn('requester_identity', 'text').execute();
      },
    },
    '0006_ci_test_outcomes': {
      async up(db) {
        // One row per test per triaged run or JUnit file: flaky = passed and failed on one commit.
        await serialId(db, 'ci_test_outcomes')
          .addColumn('commit', 'text', (c) => c.notNull())
          .addColumn('test', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('recorded_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('ci_test_outcomes_test').on('ci_test_outcomes').columns(['test', 'commit']).execute();
      },
    },
    '0007_api_tokens': {
      async up(db) {
        // API tokens: only a salted HMAC-SHA-256 of the secret is kept; the token is shown once.
        await serialId(db, 'api_tokens')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('salt', 'text', (c) => c.notNull())
          .addColumn('hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('revoked_at', 'text')
          .execute();
      },
    },
    '0008_readings': {
      async up(db) {
        // Every evaluation of every check of a soak or monitor: the time series the dashboard charts.
        await serialId(db, 'readings')
          .addColumn('watch_id', 'integer', (c) => c.notNull())
          .addColumn('check_name', 'text', (c) => c.notNull())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('verdict', 'text', (c) => c.notNull())
          .addColumn('value', 'double precision')
          .addColumn('evidence', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('readings_watch').on('readings').columns(['watch_id', 'id']).execute();
      },
    },
    '0009_controller_leadership': {
      async up(db) {
        // The generation only ever grows: a released lease keeps its row (lease_until in the past).
        await db.schema
          .createTable('controller_leader')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('generation', 'integer', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('host', 'text', (c) => c.notNull())
          .addColumn('pid', 'integer', (c) => c.notNull())
          .addColumn('acquired_at', 'text', (c) => c.notNull())
          .addColumn('lease_until', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('controllers')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('host', 'text', (c) => c.notNull())
          .addColumn('pid', 'integer', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('generation', 'integer')
          .addColumn('started_at', 'text', (c) => c.notNull())
          .addColumn('seen_at', 'text', (c) => c.notNull())
          .addColumn('lease_ms', 'integer', (c) => c.notNull())
          .execute();
      },
    },
    '0010_lock_generation': {
      async up(db) {
        // The leader generation that took an environment lock (null: a command, not the controller).
        await db.schema.alterTable('locks').addColumn('generation', 'integer').execute();
      },
    },
    '0011_readings_at': {
      async up(db) {
        // Retention deletes by age (controller.readingsKeep): without this it scans every reading.
        await db.schema.createIndex('readings_at').on('readings').column('at').execute();
      },
    },
    '0012_api_sessions': {
      async up(db) {
        // Browser sessions, shared by every controller on the store: only sha256 of the cookie's
        // session id and of the CSRF token (both 32 random bytes) are kept, never either in clear.
        await db.schema
          .createTable('api_sessions')
          .addColumn('id_hash', 'text', (c) => c.primaryKey())
          .addColumn('token_id', 'integer', (c) => c.notNull())
          .addColumn('csrf_hash', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('ended_at', 'text')
          .execute();
        await db.schema.createIndex('api_sessions_expires').on('api_sessions').column('expires_at').execute();
      },
    },
  };
}

const MIGRATION_TABLE = 'shipgate_migrations';

/**
 * True when the store has applied exactly this build's migrations: one query, where kysely's
 * Migrator reads every table's columns first (most of a read-only command's time on the store).
 * Anything else (no table yet, a migration to apply, one this build does not know) is false, and
 * the Migrator runs and decides as before.
 */
async function upToDate(db: Kysely<any>, names: string[]): Promise<boolean> {
  try {
    const { rows } = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)}`.execute(db);
    const applied = rows.map((r) => r.name).sort(); // in JS: a database collation may order them otherwise
    return applied.length === names.length && applied.every((name, i) => name === names[i]);
  } catch {
    return false;
  }
}

export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const all = migrations(dialect);
  if (await upToDate(db, Object.keys(all).sort())) return;
  const provider: MigrationProvider = { getMigrations: async () => all };
  const migrator = new Migrator({ db, provider, migrationTableName: MIGRATION_TABLE, migrationLockTableName: 'shipgate_migrations_lock' });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failedName = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`store migration ${failedName} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
