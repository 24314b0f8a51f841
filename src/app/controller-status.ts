import type { AppContext } from './context.js';
import { leaderLiveness } from './leadership.js';

export interface ControllerStatus {
  /** The controller holding a live lease; null when none does (none runs, or the leader's lease ran out and no standby took it yet). */
  leader: null | { owner: string; host: string; pid: number; generation: number; since: string; leaseUntil: string };
  /** Controllers waiting to take over, by their heartbeats. */
  standbys: { id: string; host: string; pid: number; seenAt: string }[];
  /** Heartbeats not refreshed for three leases: controllers that died without saying so (how many, and which). */
  silent: number;
  silentControllers: { id: string; host: string; pid: number; role: 'leader' | 'standby'; seenAt: string }[];
}

export async function controllerStatus(ctx: AppContext): Promise<ControllerStatus> {
  const now = ctx.wallClock.now();
  const [leader, members] = await Promise.all([ctx.store.controllers.getLeader(), ctx.store.controllers.list()]);
  const fresh = members.filter((m) => now.getTime() - new Date(m.seenAt).getTime() <= 3 * m.leaseMs);
  const live = leader ? leaderLiveness(leader, now, ctx.host) === 'held' : false;
  const isLeader = (m: { host: string; pid: number }) => live && leader !== undefined && m.pid === leader.pid && m.host === leader.host;
  return {
    // A lease that ran out (or was given up on a clean stop) leads nothing: no leader until a standby takes it.
    leader: leader && live ? { owner: leader.owner, host: leader.host, pid: leader.pid, generation: leader.generation, since: leader.acquiredAt, leaseUntil: leader.leaseUntil } : null,
    standbys: fresh.filter((m) => m.role === 'standby' && !isLeader(m)).map((m) => ({ id: m.id, host: m.host, pid: m.pid, seenAt: m.seenAt })),
    silent: members.length - fresh.length,
    silentControllers: members.filter((m) => !fresh.includes(m)).map((m) => ({ id: m.id, host: m.host, pid: m.pid, role: m.role, seenAt: m.seenAt })),
  };
}
