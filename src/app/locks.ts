import { randomUUID } from 'node:crypto';
import type { LockRecord } from '../adapters/store/store.js';
import { isAlive } from '../adapters/targets/process/pids.js';
import { ExitCode, refused, ShipgateError } from '../core/errors.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';

export const DEPLOY_LEASE_MS = 10 * 60_000;

export interface LockHandle {
  lock: LockRecord;
  /**
   * The fence every mutating step passes: extends the lease if this lock is still the one on
   * record, throws LockLostError if it was broken or taken over (a store failure throws as is).
   */
  renew(): Promise<void>;
  /** Releases the lock if it is still ours. Never throws: a lock that cannot be released goes stale when this process exits. */
  release(): Promise<void>;
}

/** The deployment's lock was released by force or taken over: its work must stop at once. */
export class LockLostError extends ShipgateError {
  constructor(env: string) {
    super(ExitCode.failed, `lock lost: the lock on ${env} was released by force or taken over`, {
      hint: `This deployment stopped at its next step and is recorded as aborted. See \`shipgate lock status\` and \`shipgate audit --env ${env}\`, then check the environment with \`shipgate status --env ${env}\`.`,
    });
    this.name = 'LockLostError';
  }
}

export type LockLiveness = 'held' | 'stale';

/**
 * Leases are real time (ctx.wallClock), not the domain clock: they guard real processes even when the demo
 * runs its clock faster. A lock taken by a running command names its process; a lock taken
 * by a person (`lock
 * acquire`) has pid 0 and lives until its lease ends or someone releases it.
 */
export function lockLiveness(lock: LockRecord, now: Date, host: string): LockLiveness {
  // A lease that cannot be read proves nothing: the lock is shown as stale (with why) and can be
  // broken with a reason, rather than blocking every deploy forever.
  if (!leaseReadable(lock)) return 'stale';
  if (new Date(lock.leaseUntil).getTime() <= now.getTime()) return 'stale';
  if (lock.pid !== 0 && lock.host === host && !isAlive(lock.pid)) return 'stale';
  return 'held';
}

export function leaseReadable(lock: LockRecord): boolean {
  return typeof lock.leaseUntil === 'string' && Number.isFinite(new Date(lock.leaseUntil).getTime());
}

export function describeLock(lock: LockRecord): string {
  const lease = leaseReadable(lock) ? `lease until ${lock.leaseUntil}` : `its lease is unreadable (${JSON.stringify(lock.leaseUntil)})`;
  return `${lock.actor} (${lock.reason}) since ${lock.acquiredAt}, ${lease}`;
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
      if (!(await ctx.store.renewLock(env, lock.token, new Date(ctx.wallClock.now().getTime() + leaseMs).toISOString()))) throw new LockLostError(env);
    },
    release: async () => {
      // A full disk may refuse the release for a moment; after a few tries the lock is left to go
      // stale (its pid is gone once this process exits), and the next rollback or resume takes it over.
      for (let attempt = 1; ; attempt++) {
        try {
          await ctx.store.releaseLock(env, lock.token);
          return;
        } catch (err) {
          if (attempt >= 3) {
            ctx.progress.warn(`could not release the lock on ${env} (${(err as Error).message}); it is stale once this process exits: \`shipgate rollback ${env} --reason ...\` or \`shipgate deploy ${env} --resume\` takes it over`);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
        }
      }
    },
  };
}
