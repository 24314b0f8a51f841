// Where an environment's services are read: their configured URLs, or where the target says they
// answer. A swarm has no routing mesh here: each health URL goes to a node running one of the
// service's tasks and the metrics of every task are scraped on its node (target.reachable).
import type { HealthProbe } from '../../adapters/health/http-probe.js';
import type { Target } from '../../adapters/targets/target.js';
import type { ResolvedService } from '../../config/resolve.js';
import { checkHealthOnce, type HealthReport } from '../verify-health.js';

export interface ObservedServices {
  services: ResolvedService[];
  /** The target could not say where its services run: nothing read through them is evidence. */
  error?: string;
}

/** `configured`: the environment's services as resolved once for the command (ctx.environment). */
export async function observedServices(ctx: { target(env: string): Target }, env: string, configured: ResolvedService[]): Promise<ObservedServices> {
  const target = ctx.target(env);
  if (!target.reachable) return { services: configured };
  try {
    return { services: await target.reachable(env, configured) };
  } catch (err) {
    return { services: configured, error: `cannot find where the services of ${env} run: ${(err as Error).message.split('\n')[0]}` };
  }
}

/**
 * Why the metrics cannot all be read where they run: the target could not say, or placed a service
 * with a metrics URL nowhere (no task running). Its configured loopback URL would read nothing, or
 * another process's numbers: the reading is an error, never a smaller sum.
 */
export function metricsUnreadable(observed: ObservedServices): string | undefined {
  if (observed.error) return observed.error;
  const missing = observed.services.filter((s) => s.metricsUrl && s.placement?.missing);
  return missing.length ? `cannot read the metrics of ${missing.map((s) => `${s.name} where it runs: ${s.placement!.missing}`).join('; ')}` : undefined;
}

/**
 * One look at every service's health where it runs. A service its target placed nowhere is
 * unhealthy with why (its configured URL is not where it runs); nothing located: all of them.
 */
export async function observedHealth(observed: ObservedServices, version: string | undefined, requestTimeout: number, deps: { probe: HealthProbe }): Promise<HealthReport> {
  const unplaced = (s: ResolvedService) => Boolean(observed.error) || Boolean(s.placement?.missing && s.healthUrl);
  const probed = await checkHealthOnce(observed.services.filter((s) => !unplaced(s)), version, requestTimeout, deps);
  const services = observed.services.map((s) => {
    const reason = unplaced(s) ? (observed.error ?? `${s.name} is not running where its target places it: ${s.placement!.missing}`) : undefined;
    return reason ? { service: s.name, url: s.healthUrl, healthy: false, reason, status: undefined, version: undefined, attempts: 0 } : probed.services.find((p) => p.service === s.name)!;
  });
  return { ...probed, healthy: services.every((s) => s.healthy), services };
}
