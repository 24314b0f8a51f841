import type { AppContext } from './context.js';
import { restoreBackup, type RestoreOptions, type RestoreResult } from './database.js';
import { acquireEnvLock } from './locks.js';

/**
 * `shipgate restore ENV --backup ID` and POST /api/restore: the restore under the environment's lock
 * (no deploy or rollback runs meanwhile), its lease renewed while a long restore runs.
 */
export async function restoreUnderLock(ctx: AppContext, env: string, backupId: number, options: Pick<RestoreOptions, 'acceptDataLoss' | 'reason'>): Promise<RestoreResult> {
  ctx.environment(env);
  const lock = await acquireEnvLock(ctx, env, `restore backup ${backupId}`);
  const renewal = setInterval(() => void lock.renew().catch(() => undefined), 60_000);
  try {
    return await restoreBackup(ctx, env, backupId, options);
  } finally {
    clearInterval(renewal);
    await lock.release();
  }
}
