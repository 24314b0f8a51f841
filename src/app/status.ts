import type { StrayRunning } from '../adapters/targets/target.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { observedHealth, observedServices } from './analysis/observed.js';
import type { LockRecord, WatchRecord } from '../adapters/store/store.js';
import type { MonitorData } from './analysis/watch-data.js';
import type { AppContext } from './context.js';
import { currentVersionIn, deploymentLiveness, lastGoodVersionIn, recentDeployments, unprovenBecause } from './history.js';
import { lockLiveness } from './locks.js';

export interface ServiceView {
  service: string;
  process: 'running' | 'stopped' | 'unknown';
  pid: number | undefined;
  healthy: boolean;
  health: string;
  version: string | undefined;
}

export interface EnvironmentStatus {
  env: string;
  currentVersion: string | null;
  /** What `rollback` without `--to` returns to: the newest verified release not marked bad. */
  previousGoodVersion: string | null;
  /** Set when that release is not proven good: its newest soak or monitor ended inconclusive or was cut short. */
  previousUnproven: string | null;
  deployment: null | {
    id: number;
    kind: string;
    version: string;
    state: string;
    startedAt: string;
    finishedAt: string | null;
    actor: string;
    error: string | null;
    lastStep: string | null;
  };
  lock: null | { actor: string; reason: string; since: string; leaseUntil: string; stale: boolean };
  /** The running production monitor, BLIND with its reason while its metrics source fails. */
  monitor: null | { id: number; version: string; phase: string; blind: null | { since: string; reason: string } };
  services: ServiceView[];
  /** Processes of this environment that are not on record; deploy, rollback and resume stop them. */
  strays: StrayRunning[];
}

/** One environment's status; see environmentStatuses. */
export async function environmentStatus(ctx: AppContext, env: string): Promise<EnvironmentStatus> {
  return (await environmentStatuses(ctx, [ctx.environment(env)]))[0]!;
}

/**
 * The status of each environment, read in a few queries: the locks and the running monitors of
 * all of them at once, each one's recent deployments once (current, previous good and latest
 * come from the same rows). Health that cannot be read shows as unhealthy with its reason.
 */
export async function environmentStatuses(ctx: AppContext, environments: ResolvedEnvironment[]): Promise<EnvironmentStatus[]> {
  const [locks, monitors] = await Promise.all([ctx.store.listLocks(), ctx.store.listWatches({ kind: 'monitor', state: 'running' }) as Promise<WatchRecord<MonitorData>[]>]);
  // A lock a controller took is stale once a newer generation leads: read the leader only then.
  const leaderGeneration = locks.some((l) => l.generation !== null && l.generation !== undefined) ? (await ctx.store.controllers.getLeader())?.generation : undefined;
  // Newest first: the first running monitor of an environment is the one a per-environment query returned.
  return Promise.all(environments.map((e) => statusOf(ctx, e, locks.find((l) => l.env === e.name), monitors.find((m) => m.env === e.name), leaderGeneration)));
}

async function statusOf(ctx: AppContext, environment: ResolvedEnvironment, lock: LockRecord | undefined, monitor: WatchRecord<MonitorData> | undefined, leaderGeneration: number | undefined): Promise<EnvironmentStatus> {
  const { name: env, spec, services } = environment;
  const recent = await recentDeployments(ctx.store, env);
  const current = currentVersionIn(recent) ?? null;
  const previous = (await lastGoodVersionIn(ctx.store, env, recent, current ?? undefined)) ?? null;
  const previousUnproven = previous ? ((await unprovenBecause(ctx.store, env, previous)) ?? null) : null;
  const latest = recent[0];
  const steps = latest ? await ctx.store.listSteps(latest.id) : [];
  const target = ctx.target(env);
  const processes = await target.ps(env);
  const strays = (await target.strays?.(env)) ?? [];
  // Checked where the target says each service answers (swarm: a node running its task).
  const observed = target.reachable ? await observedServices(ctx, env, services) : { services };
  const health = await observedHealth(observed, undefined, spec.health.requestTimeout, { probe: ctx.probe });

  return {
    env,
    currentVersion: current,
    previousGoodVersion: previous,
    previousUnproven,
    deployment: latest
      ? {
          id: latest.id,
          kind: latest.kind,
          version: latest.version,
          state: deploymentLiveness(latest, ctx.host) === 'interrupted' ? 'interrupted' : latest.state,
          startedAt: latest.startedAt,
          finishedAt: latest.finishedAt,
          actor: latest.actor,
          error: latest.error,
          lastStep: steps.at(-1) ? `${steps.at(-1)!.name} (${steps.at(-1)!.state})` : null,
        }
      : null,
    lock: lock ? { actor: lock.actor, reason: lock.reason, since: lock.acquiredAt, leaseUntil: lock.leaseUntil, stale: lockLiveness(lock, ctx.wallClock.now(), ctx.host, leaderGeneration) === 'stale' } : null,
    monitor: monitor ? { id: monitor.id, version: monitor.version, phase: monitor.data.phase, blind: monitor.data.blind ? { since: monitor.data.blind.since, reason: monitor.data.blind.reason } : null } : null,
    services: services.map((s) => {
      const proc = processes.find((p) => p.service === s.name);
      const h = health.services.find((x) => x.service === s.name)!;
      return { service: s.name, process: proc ? proc.state : 'unknown', pid: proc?.pid, healthy: h.healthy, health: h.reason, version: h.version ?? proc?.version };
    }),
    strays: strays.map((x) => ({ pid: x.pid, command: x.command, service: x.service, version: x.version })),
  };
}
