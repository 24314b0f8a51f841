import type { StrayRunning } from '../adapters/targets/target.js';
import { resolveServices, environmentSpec } from '../config/resolve.js';
import { observedServices } from './analysis/observed.js';
import type { WatchRecord } from '../adapters/store/store.js';
import type { MonitorData } from './analysis/watch-data.js';
import type { AppContext } from './context.js';
import { currentVersion, deploymentLiveness, lastGoodVersion, latestDeployment, unprovenBecause } from './history.js';
import { lockLiveness } from './locks.js';
import { checkHealthOnce } from './verify-health.js';

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

export async function environmentStatus(ctx: AppContext, env: string): Promise<EnvironmentStatus> {
  const spec = environmentSpec(ctx.config, env);
  const current = (await currentVersion(ctx.store, env)) ?? null;
  const previous = (await lastGoodVersion(ctx.store, env, current ?? undefined)) ?? null;
  const previousUnproven = previous ? ((await unprovenBecause(ctx.store, env, previous)) ?? null) : null;
  const latest = await latestDeployment(ctx.store, env);
  const steps = latest ? await ctx.store.listSteps(latest.id) : [];
  const lock = await ctx.store.getLock(env);
  const services = resolveServices(ctx.config, env);
  const target = ctx.target(env);
  const processes = await target.ps(env);
  const strays = (await target.strays?.(env)) ?? [];
  // Checked where the target says each service answers (swarm: a node running its task).
  const observed = target.reachable ? await observedServices(ctx, env) : { services };
  const health = await checkHealthOnce(observed.services, undefined, spec.health.requestTimeout, { probe: ctx.probe });
  const monitor = ((await ctx.store.listWatches({ env, kind: 'monitor', state: 'running', limit: 1 })) as WatchRecord<MonitorData>[])[0];

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
    lock: lock ? { actor: lock.actor, reason: lock.reason, since: lock.acquiredAt, leaseUntil: lock.leaseUntil, stale: lockLiveness(lock, ctx.wallClock.now(), ctx.host) === 'stale' } : null,
    monitor: monitor ? { id: monitor.id, version: monitor.version, phase: monitor.data.phase, blind: monitor.data.blind ? { since: monitor.data.blind.since, reason: monitor.data.blind.reason } : null } : null,
    services: services.map((s) => {
      const proc = processes.find((p) => p.service === s.name);
      const h = health.services.find((x) => x.service === s.name)!;
      return { service: s.name, process: proc ? proc.state : 'unknown', pid: proc?.pid, healthy: h.healthy, health: h.reason, version: h.version ?? proc?.version };
    }),
    strays: strays.map((x) => ({ pid: x.pid, command: x.command, service: x.service, version: x.version })),
  };
}
