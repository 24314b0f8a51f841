import type { DeploymentRecord } from '../adapters/store/store.js';
import { refused } from '../core/errors.js';
import type { DeploymentMeta } from './analysis/watch-data.js';
import type { AppContext } from './context.js';
import { checkDataLoss } from './database.js';

export type DbChoice = 'restore' | 'down' | 'skip';

/**
 * What a rollback does to the database: nothing unless the deployment it undoes ran
 * migrations; then the configured (or chosen) way back. A restore that would discard writes made
 * since the backup needs --accept-data-loss; an automatic rollback never accepts it on its own
 * and falls back to the down migration, or leaves the database for a person and says so.
 */
export async function planDatabaseRollback(
  ctx: AppContext,
  env: string,
  from: DeploymentRecord | undefined,
  opts: { db?: DbChoice | undefined; acceptDataLoss?: boolean | undefined; automatic: boolean },
): Promise<DeploymentMeta['database']> {
  const spec = ctx.environment(env).spec.database;
  if (!from || from.kind !== 'deploy' || !spec) return null;
  const migrated = (await ctx.store.listSteps(from.id)).some((s) => s.name === 'migrate-database');
  if (!migrated) return null;
  const choice = opts.db ?? spec.rollback;
  if (choice === 'skip') return { action: 'skipped', detail: `--db skip: the database keeps the schema of ${from.version}` };
  if (choice === 'down') {
    if (!spec.migrate?.down) return { action: 'skipped', detail: 'no database.migrate.down configured' };
    return { action: 'down', detail: `run the down migration of ${from.version}`, fromVersion: from.version };
  }
  const backup = (await ctx.store.listBackups({ env, deploymentId: from.id, limit: 1 }))[0];
  if (!backup) return { action: 'skipped', detail: `no backup was recorded for deployment #${from.id}` };
  const loss = await checkDataLoss(ctx, env, backup);
  if (loss.wouldLoseData && !opts.acceptDataLoss) {
    const what = loss.writesSinceError ? `writes since the backup could not be counted (${loss.writesSinceError})` : loss.writesSince ? `${loss.writesSince} ${loss.writesSince === 1 ? 'row was' : 'rows were'} written since backup #${backup.id}` : `backup #${backup.id} is older than ${Math.round(loss.maxBackupAgeMs / 60_000)} min`;
    if (opts.automatic) {
      if (spec.migrate?.down) return { action: 'down', detail: `restore would lose data (${what}); ran the down migration instead`, fromVersion: from.version };
      return { action: 'skipped', detail: `restore would lose data (${what}); database left as is: restore by hand with \`shipgate restore ${env} --backup ${backup.id} --accept-data-loss\`` };
    }
    throw refused(`rolling back ${env} would restore backup #${backup.id} and lose data: ${what}`, {
      hint: `Accept it with --accept-data-loss, use --db down (run ${from.version}'s down migration) or --db skip; weigh it with \`shipgate decide --rollback-loses-data ...\`.`,
      data: { dataLoss: loss, backupId: backup.id },
    });
  }
  return { action: 'restore', detail: `restore backup #${backup.id} taken before ${from.version}${opts.acceptDataLoss && loss.wouldLoseData ? ' (data loss accepted)' : ''}`, backupId: backup.id, acceptDataLoss: Boolean(opts.acceptDataLoss) };
}
