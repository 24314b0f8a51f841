import { randomUUID } from 'node:crypto';
import type { LockRecord } from '../adapters/store/store.js';
import { isAlive } from '../adapters/targets/process/pids.js';
import { refused } from '../core/errors.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';

export const DEPLOY_LEASE_MS = 10 * 60_000;

export interface LockHandle {
  lock: LockRecord;
  renew(): Promise<void>;
  release(): Promise<void>;
}

export type LockLiveness = 'held' | 'stale';

/**
 * Leases are real time (ctx.wallClock), not the domain clock: they guard real processes even when the demo
 * runs its clock faster. A lock taken by a running command names its process; a lock taken
 * by a person (`lock
 * acquire`) has pid 0 and lives until its lease ends or someone releases it.
 */
export function lockLiveness(lock: LockRecord, now: Date, host: string): LockLiveness {
  if (new Date(lock.leaseUntil).getTime() <= now.getTime()) return 'stale';
  if (lock.pid !== 0 && lock.host === host && !isAlive(lock.pid)) return 'stale';
  return 'held';
}

export function describeLock(lock: LockRecord): string {
  return `${lock.actor} (${lock.reason}) since ${lock.acquiredAt}, lease until ${lock.leaseUntil}`;
}

export async function acquireEnvLock(
  ctx: AppContext,
  env: string,
  reason: string,
  options: { takeOverStale?: boolean; leaseMs?: number; manual?: boolean } = {},
): Promise<LockHandle> {
  const leaseMs = options.leaseMs ?? DEPLOY_LEASE_MS;
  const now = ctx.wallClock.now();
  const lock: LockRecord = {
    env,
    owner: options.manual ? ctx.actor : `${ctx.actor}@${ctx.host}:${ctx.pid}`,
    actor: ctx.actor,
    reason,
    token: randomUUID(),
    acquiredAt: now.toISOString(),
    leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
    host: ctx.host,
    pid: options.manual ? 0 : ctx.pid,
  };
  const attempt = await ctx.store.tryAcquireLock(lock);
  if (!attempt.acquired) {
    const holder = attempt.holder;
    const stale = lockLiveness(holder, now, ctx.host) === 'stale';
    if (!(stale && options.takeOverStale && (await ctx.store.takeOverLock(holder.token, lock)))) {
      throw refused(`${env} is locked by ${describeLock(holder)}${stale ? '; the holder is gone (stale lock)' : ''}`, {
        hint: stale
          ? `Finish the interrupted work with \`shipgate deploy ${env} --resume\` or \`shipgate rollback ${env} --reason ...\`, or break the lock with \`shipgate lock release ${env} --force --reason "..."\`.`
          : `Wait for it to finish, or ask ${holder.actor}. Check with \`shipgate lock status\`.`,
        data: { lock: holder, stale },
      });
    }
    await record(ctx, { action: 'lock.takeover', outcome: 'ok', env, reason: `took over stale lock of ${holder.owner} (${holder.reason})` });
  }
  return {
    lock,
    renew: async () => {
      // A lock broken by someone (`lock release --force`) or taken over must stop this work.
      if (!(await ctx.store.renewLock(env, lock.token, new Date(ctx.wallClock.now().getTime() + leaseMs).toISOString()))) {
        throw refused(`lost the lock on ${env}: it was released by force or taken over`, { hint: `See \`shipgate lock status\` and \`shipgate audit --env ${env}\`.` });
      }
    },
    release: async () => {
      await ctx.store.releaseLock(env, lock.token);
    },
  };
}
