import { hasService } from '../config/resolve.js';
import { badInput } from '../core/errors.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import { observedHealth } from './analysis/observed.js';
import { verifyHealth, type ServiceHealth } from './verify-health.js';

export interface HealthCheckResult {
  env: string;
  healthy: boolean;
  services: ServiceHealth[];
  /** Services restarted because they were unhealthy (restartUnhealthy only). */
  restarted: string[];
  /** Processes of the environment running without a record. */
  strays: { pid: number; command: string; service: string | undefined }[];
}

/**
 * `shipgate health ENV [--restart-unhealthy]` and the API's GET /api/health and POST /api/health/restart:
 * every service's health URL once; with restartUnhealthy, each unhealthy one restarted (audited as
 * service.restart) and given the full health timeout to come back, as in a deploy.
 */
export async function environmentHealth(ctx: AppContext, env: string, opts: { restartUnhealthy?: boolean | undefined } = {}): Promise<HealthCheckResult> {
  const { spec, services: configured } = ctx.environment(env);
  const target = ctx.target(env);
  const services = target.reachable ? await target.reachable(env, configured) : configured;
  // A swarm service with no running task is unhealthy with why, not probed at its configured 127.0.0.1 URL.
  let report = await observedHealth({ services }, undefined, spec.health.requestTimeout, { probe: ctx.probe });
  const restarted: string[] = [];
  if (opts.restartUnhealthy) {
    for (const s of report.services.filter((x) => !x.healthy)) {
      await ctx.progress.task(`restart ${s.service}`, () => ctx.target(env).restart(env, s.service));
      await record(ctx, { action: 'service.restart', outcome: 'ok', env, reason: `unhealthy: ${s.reason}`, detail: { service: s.service } });
      restarted.push(s.service);
    }
    // A restarted swarm task may run on another node, so where each service answers is asked again.
    const now = restarted.length && target.reachable ? await target.reachable(env, configured) : services;
    if (restarted.length) report = await verifyHealth(now, undefined, spec.health, { probe: ctx.probe });
  }
  const strays = ((await ctx.target(env).strays?.(env)) ?? []).map((x) => ({ pid: x.pid, command: x.command, service: x.service }));
  return { env, healthy: report.healthy, services: report.services, restarted, strays };
}

/** `shipgate logs ENV [SERVICE]` and GET /api/logs: the last `tail` lines of one service's log, or of every service. */
export async function environmentLogs(ctx: AppContext, env: string, service: string | undefined, tail: number, field = '[service]') {
  ctx.environment(env);
  if (service && !hasService(ctx.config, service)) {
    throw badInput(`unknown service "${service}"`, { where: field, hint: `Use one of: ${Object.keys(ctx.config.services).join(', ')}.` });
  }
  return ctx.target(env).logs(env, service, tail);
}
