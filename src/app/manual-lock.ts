import { parseDuration } from '../core/duration.js';
import { badInput, refused } from '../core/errors.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import { acquireEnvLock, describeLock, leadingGeneration, lockLiveness } from './locks.js';

export async function lockStatus(ctx: AppContext) {
  const now = ctx.wallClock.now();
  const locks = await ctx.store.listLocks();
  const leaderGeneration = locks.some((l) => l.generation !== null && l.generation !== undefined) ? (await ctx.store.controllers.getLeader())?.generation : undefined;
  return Object.keys(ctx.config.environments).map((env) => {
    const lock = locks.find((l) => l.env === env);
    return { env, locked: Boolean(lock), stale: lock ? lockLiveness(lock, now, ctx.host, leaderGeneration) === 'stale' : false, lock: lock ?? null };
  });
}

/** A person's hold on an environment (e.g. during an incident): blocks deploys until released. */
export async function acquireManualLock(ctx: AppContext, env: string, reason: string | undefined, lease: string) {
  ctx.environment(env);
  if (!reason?.trim()) throw badInput('a lock needs a reason', { where: '--reason', hint: 'Say why, e.g. --reason "incident 42: investigating fills"' });
  const leaseMs = parseDuration(lease);
  if (leaseMs === undefined || leaseMs <= 0) throw badInput(`--lease ${JSON.stringify(lease)} is not a duration`, { where: '--lease', hint: 'Use e.g. 30m, 2h or 1d.' });
  const handle = await acquireEnvLock(ctx, env, reason, { manual: true, leaseMs });
  await record(ctx, { action: 'lock.acquire', outcome: 'ok', env, reason, detail: { leaseUntil: handle.lock.leaseUntil } });
  return handle.lock;
}

export async function releaseManualLock(ctx: AppContext, env: string, opts: { force?: boolean; reason?: string }) {
  ctx.environment(env);
  if (opts.force && !opts.reason?.trim()) throw badInput('--force needs --reason', { where: '--reason', hint: 'Say why the lock is broken, e.g. --reason "holder crashed"' });
  const holder = await ctx.store.getLock(env);
  if (!holder) return { released: false, holder: null };
  const stale = lockLiveness(holder, ctx.wallClock.now(), ctx.host, await leadingGeneration(ctx, holder)) === 'stale';
  const mine = holder.pid === 0 && holder.actor === ctx.actor;
  if (!mine && !opts.force) {
    throw refused(`${env} is locked by ${describeLock(holder)}${stale ? ' (stale)' : ''}; only its holder may release it`, {
      hint: `Break it with \`shipgate lock release ${env} --force --reason "..."\`; that is recorded in the audit log.`,
    });
  }
  // Without --force only the lock that was read is released, never one taken since.
  const released = opts.force ? Boolean(await ctx.store.forceReleaseLock(env)) : await ctx.store.releaseLock(env, holder.token);
  if (!released) return { released: false, holder };
  await record(ctx, { action: opts.force ? 'lock.break' : 'lock.release', outcome: 'ok', env, reason: opts.reason ?? null, detail: { holder: holder.owner, heldFor: holder.reason, stale } });
  return { released: true, holder };
}
