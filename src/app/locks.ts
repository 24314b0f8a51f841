import { randomUUID } from 'node:crypto';
import type { DeploymentRecord, LockRecord } from '../adapters/store/store.js';
import { isAlive } from '../adapters/targets/process/pids.js';
import { ExitCode, refused, ShipgateError } from '../core/errors.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import { deploymentLiveness } from './history.js';

export const DEPLOY_LEASE_MS = 10 * 60_000;

export interface LockHandle {
  lock: LockRecord;
  /** The stale lock this one replaced, if it was taken over. */
  tookOver?: LockRecord;
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
export function lockLiveness(lock: LockRecord, now: Date, host: string, leaderGeneration?: number): LockLiveness {
  // A lease that cannot be read proves nothing: the lock is shown as stale (with why) and can be
  // broken with a reason, rather than blocking every deploy forever.
  if (!leaseReadable(lock)) return 'stale';
  if (new Date(lock.leaseUntil).getTime() <= now.getTime()) return 'stale';
  if (lock.pid !== 0 && lock.host === host && !isAlive(lock.pid)) return 'stale';
  if (supersededLeader(lock, leaderGeneration)) return 'stale';
  return 'held';
}

/**
 * A lock a controller took as leader, when a newer generation leads: its holder's store writes are
 * refused (fenced), so it cannot finish or even renew; on another host its process cannot be seen.
 */
export function supersededLeader(lock: LockRecord, leaderGeneration: number | undefined): boolean {
  return lock.generation !== null && lock.generation !== undefined && leaderGeneration !== undefined && leaderGeneration > lock.generation;
}

/** The generation leading now, read only when the lock was a controller's (a command's lock never needs it). */
export async function leadingGeneration(ctx: AppContext, lock: LockRecord | undefined): Promise<number | undefined> {
  if (lock?.generation === null || lock?.generation === undefined) return undefined;
  return (await ctx.store.controllers.getLeader())?.generation;
}

export function leaseReadable(lock: LockRecord): boolean {
  return typeof lock.leaseUntil === 'string' && Number.isFinite(new Date(lock.leaseUntil).getTime());
}

export function describeLock(lock: LockRecord, leaderGeneration?: number): string {
  const lease = leaseReadable(lock) ? `lease until ${lock.leaseUntil}` : `its lease is unreadable (${JSON.stringify(lock.leaseUntil)})`;
  const leader = lock.generation === null || lock.generation === undefined ? '' : supersededLeader(lock, leaderGeneration) ? `, taken by the controller of generation ${lock.generation}, which no longer leads (generation ${leaderGeneration} does)` : `, taken by the controller of generation ${lock.generation}`;
  return `${lock.actor} (${lock.reason}) since ${lock.acquiredAt}, ${lease}${leader}`;
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
    generation: options.manual ? null : (ctx.leaderGeneration ?? null),
  };
  const attempt = await ctx.store.tryAcquireLock(lock);
  let tookOver: LockRecord | undefined;
  if (!attempt.acquired) {
    const holder = attempt.holder;
    const leaderGeneration = await leadingGeneration(ctx, holder);
    const stale = lockLiveness(holder, now, ctx.host, leaderGeneration) === 'stale';
    if (!(stale && options.takeOverStale && (await ctx.store.takeOverLock(holder.token, lock)))) {
      throw refused(`${env} is locked by ${describeLock(holder, leaderGeneration)}${stale ? '; the holder is gone (stale lock)' : ''}`, {
        hint: stale
          ? `Finish the interrupted work with \`shipgate deploy ${env} --resume\` or \`shipgate rollback ${env} --reason ...\`, or break the lock with \`shipgate lock release ${env} --force --reason "..."\`.`
          : `Wait for it to finish, or ask ${holder.actor}. Check with \`shipgate lock status\`.`,
        data: { lock: holder, stale },
      });
    }
    const why = supersededLeader(holder, leaderGeneration) ? `; its controller (generation ${holder.generation}) no longer leads` : '';
    tookOver = holder;
    await record(ctx, { action: 'lock.takeover', outcome: 'ok', env, reason: `took over stale lock of ${holder.owner} (${holder.reason})${why}` });
  }
  return {
    lock,
    ...(tookOver ? { tookOver } : {}),
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

/**
 * Whether `d` was interrupted. On this host its process tells; on another host it cannot be seen,
 * so its lock does: a deployment whose holder's lock went stale (lease over, or its controller no
 * longer leads) is interrupted. `held` is the lock this process holds, if it took that lock over.
 */
export async function interrupted(ctx: AppContext, d: DeploymentRecord, held?: LockHandle): Promise<boolean> {
  const liveness = deploymentLiveness(d, ctx.host);
  if (liveness !== 'running' || d.host === ctx.host) return liveness === 'interrupted';
  const holder = held ? held.tookOver : await ctx.store.getLock(d.env);
  if (!holder || holder.host !== d.host || holder.pid !== d.pid) return false;
  return held !== undefined || lockLiveness(holder, ctx.wallClock.now(), ctx.host, await leadingGeneration(ctx, holder)) === 'stale';
}
