import { z } from 'zod';
import { argv, duration, secretRef } from './primitives.js';

export const databaseSpec = z.strictObject({
  urlEnv: secretRef.describe('Environment variable holding the PostgreSQL URL of this environment.'),
  backupDir: z.string().default('backups').describe('Where pg_dump files go, relative to this file.'),
  migrate: z
    .strictObject({
      status: argv.optional().describe('e.g. ["alembic", "current"]'),
      up: argv.describe('e.g. ["alembic", "upgrade", "head"] or ["make", "db-migrate"]'),
      down: argv.optional().describe('e.g. ["alembic", "downgrade", "-1"]'),
      cwd: z.string().default('.').describe('Working directory inside the release checkout.'),
    })
    .optional(),
  integrityCheck: argv.optional().describe('Run after a database rollback, e.g. ["pytest", "tests/integration/test_db_integrity.py"].'),
  rollback: z.enum(['restore', 'down']).default('restore').describe('How a rollback returns the schema: restore the pre-deploy backup, or run migrate.down.'),
  writesSince: z.string().optional().describe('SQL counting rows written after $1 (the backup time); more than 0 means a restore loses data.'),
  maxBackupAge: duration.default(3_600_000).describe('A restore of an older backup is treated as losing data.'),
});

export const windowPolicy = z.strictObject({
  enforce: z.boolean().default(true).describe('Refuse deploys outside the deployment window (seed: market hours).'),
  mondayMorningUntil: z.string().regex(/^\d{2}:\d{2}$/).nullable().default('12:00').describe('On trading Mondays, refuse before this New York time (seed: avoid Monday mornings); null disables.'),
});

