import { FencedError } from '../adapters/store/fenced-store.js';
import type { ControllerRecord, LeaderRecord } from '../adapters/store/store.js';
import { isAlive } from '../adapters/targets/process/pids.js';
import { abortableSleep } from '../adapters/time/sleep.js';
import { refused } from '../core/errors.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';

/**
 * Several controllers on one store: one leads (a lease row renewed every third of the lease, with a
 * generation that grows on every takeover), the others stand by, polling every quarter lease, and
 * take over once the lease has passed (or at once when the leader was a process of this host that
 * is gone). The leader acts only through a store fenced at its generation (ctx.store.fenced): a
 * leader paused past its lease and resumed has every write refused, notices, and stands by again.
 */
export type LeadershipEvent =
  | { kind: 'standby'; leader: LeaderRecord }
  | { kind: 'lead'; generation: number; previous: LeaderRecord | undefined }
  | { kind: 'lost'; generation: number; current: LeaderRecord | undefined; reason: string };

export interface LeadershipOptions {
  leaseMs: number;
  signal: AbortSignal;
  /** serve: wait as a standby while another leads; watch: refuse. */
  standby: boolean;
  say(event: LeadershipEvent): void;
  /** The controller loop, given the fenced context; `lost` aborts when the lease is lost. Returning ends the membership. */
  lead(ctx: AppContext, lost: AbortSignal): Promise<void>;
}

export type LeaderLiveness = 'held' | 'stale';

/** Leases are real time. A leader of this host whose process is gone is stale at once. */
export function leaderLiveness(leader: LeaderRecord, now: Date, host: string): LeaderLiveness {
  const until = new Date(leader.leaseUntil).getTime();
  if (!Number.isFinite(until) || until <= now.getTime()) return 'stale';
  if (leader.host === host && leader.pid !== 0 && !isAlive(leader.pid)) return 'stale';
  return 'held';
}

export function controllerId(ctx: Pick<AppContext, 'actor' | 'host' | 'pid'>): string {
  return `${ctx.actor}@${ctx.host}:${ctx.pid}`;
}

/** One attempt to lead: the new lease, or the leader that holds it. */
export async function tryLead(ctx: AppContext, leaseMs: number): Promise<{ leader: LeaderRecord; previous: LeaderRecord | undefined } | { holder: LeaderRecord }> {
  const now = ctx.wallClock.now();
  const current = await ctx.store.controllers.getLeader();
  if (current && leaderLiveness(current, now, ctx.host) === 'held') return { holder: current };
  const claim = { owner: controllerId(ctx), host: ctx.host, pid: ctx.pid, acquiredAt: now.toISOString(), leaseUntil: new Date(now.getTime() + leaseMs).toISOString() };
  const leader = await ctx.store.controllers.claimLeader(current, claim);
  if (leader) return { leader, previous: current };
  // Another standby won the race, or the leader renewed in between.
  const holder = await ctx.store.controllers.getLeader();
  return holder ? { holder } : tryLead(ctx, leaseMs);
}

export async function runControllerMember(ctx: AppContext, options: LeadershipOptions): Promise<void> {
  const { leaseMs, signal } = options;
  const member: ControllerRecord = { id: controllerId(ctx), host: ctx.host, pid: ctx.pid, role: 'standby', generation: null, startedAt: ctx.wallClock.now().toISOString(), seenAt: '', leaseMs };
  const beat = (role: ControllerRecord['role'], generation: number | null) => ctx.store.controllers.heartbeat({ ...member, role, generation, seenAt: ctx.wallClock.now().toISOString() });
  let lastHolder: string | undefined;
  try {
    while (!signal.aborted) {
      const attempt = await tryLead(ctx, leaseMs);
      if ('holder' in attempt) {
        if (!options.standby) {
          throw refused(`a controller already runs on this store: ${attempt.holder.owner} (generation ${attempt.holder.generation}, lease until ${attempt.holder.leaseUntil})`, {
            hint: `Stop it first (kill ${attempt.holder.pid} on ${attempt.holder.host}), or let it do the work: \`shipgate serve\` on another host stands by instead.`,
          });
        }
        const key = `${attempt.holder.generation}`;
        if (key !== lastHolder) options.say({ kind: 'standby', leader: attempt.holder });
        lastHolder = key;
        await beat('standby', null);
        await abortableSleep(leaseMs / 4, signal);
        continue;
      }
      lastHolder = undefined;
      const done = await leadOnce(ctx, options, attempt.leader, attempt.previous, beat);
      if (done) return;
    }
  } finally {
    await ctx.store.controllers.remove(member.id).catch(() => undefined);
  }
}

/** Leads until stopped (true) or until the lease is lost (false: stand by again). */
async function leadOnce(
  ctx: AppContext,
  options: LeadershipOptions,
  leader: LeaderRecord,
  previous: LeaderRecord | undefined,
  beat: (role: ControllerRecord['role'], generation: number | null) => Promise<void>,
): Promise<boolean> {
  const { leaseMs, signal } = options;
  const generation = leader.generation;
  // The idle-in-transaction limit ends a transaction this process left open when it was stopped,
  // so it cannot hold the leader row (and block the takeover) past a third of the lease.
  const fenced: AppContext = { ...ctx, leaderGeneration: generation, store: ctx.store.fenced(generation, { idleTimeoutMs: leaseMs / 3 }) };
  const lost = new AbortController();
  let lostReason = '';
  const lose = (reason: string) => {
    lostReason ||= reason;
    lost.abort();
  };
  const onStop = () => lost.abort();
  signal.addEventListener('abort', onStop, { once: true });
  let leaseUntil = new Date(leader.leaseUntil).getTime();
  let renewing = false;
  const renew = async () => {
    if (renewing || lost.signal.aborted) return;
    renewing = true;
    try {
      const next = ctx.wallClock.now().getTime() + leaseMs;
      if (await ctx.store.controllers.renewLeader(generation, new Date(next).toISOString())) {
        leaseUntil = next;
        await beat('leader', generation);
      } else lose('another controller took the lease');
    } catch (err) {
      // The store may be back before the lease ends; after that this controller cannot know it leads.
      if (ctx.wallClock.now().getTime() >= leaseUntil) lose(`the lease could not be renewed before it ended: ${(err as Error).message}`);
    } finally {
      renewing = false;
    }
  };
  let inflight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inflight = renew();
  }, leaseMs / 3);
  try {
    await beat('leader', generation);
    await record(fenced, {
      action: 'controller.lead', outcome: 'ok',
      reason: previous ? `took over from ${previous.owner} (generation ${previous.generation}, lease until ${previous.leaseUntil})` : 'first leader of this store',
      detail: { pid: ctx.pid, host: ctx.host, generation, previousPid: previous?.pid ?? null, previousHost: previous?.host ?? null, previousGeneration: previous?.generation ?? null },
    });
    options.say({ kind: 'lead', generation, previous });
    await options.lead(fenced, lost.signal);
  } catch (err) {
    if (!(err instanceof FencedError)) throw err;
    // A refused write says more than a failed renewal that may have come first.
    lostReason = err.message;
    lost.abort();
  } finally {
    clearInterval(timer);
    signal.removeEventListener('abort', onStop);
    // A renewal still running would write its heartbeat after the resignation below.
    await inflight;
  }
  if (!lostReason) {
    // Stopped, or the loop finished (watch): give the lease up so a standby need not wait it out.
    await ctx.store.controllers.resignLeader(generation, ctx.wallClock.now().toISOString()).catch(() => undefined);
    return true;
  }
  const current = await ctx.store.controllers.getLeader();
  await record(ctx, { action: 'controller.fenced', outcome: 'standby', reason: lostReason, detail: { pid: ctx.pid, generation, currentGeneration: current?.generation ?? null, currentPid: current?.pid ?? null } });
  options.say({ kind: 'lost', generation, current, reason: lostReason });
  return false;
}
