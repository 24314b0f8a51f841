import type { HealthPolicy } from '../config/schema.js';
import type { ResolvedService } from '../config/resolve.js';
import type { HealthProbe } from '../adapters/health/http-probe.js';
import type { Clock } from '../core/clock.js';
import { judgeHealth } from '../core/health.js';

export interface ServiceHealth {
  service: string;
  url: string | undefined;
  healthy: boolean;
  reason: string;
  status: number | undefined;
  version: string | undefined;
  attempts: number;
}

export interface HealthReport {
  healthy: boolean;
  services: ServiceHealth[];
  elapsedMs: number;
}

/**
 * Polls every health URL each interval until all are healthy or the timeout passes. A service
 * without a health URL is reported healthy with that said plainly, never silently.
 */
export async function verifyHealth(
  services: ResolvedService[],
  expectedVersion: string | undefined,
  policy: Pick<HealthPolicy, 'timeout' | 'interval' | 'requestTimeout'>,
  deps: { clock: Clock; probe: HealthProbe; onAttempt?: (report: HealthReport) => void },
): Promise<HealthReport> {
  const start = deps.clock.now().getTime();
  const results = new Map<string, ServiceHealth>();
  for (const s of services) {
    results.set(s.name, { service: s.name, url: s.healthUrl, healthy: !s.healthUrl, reason: s.healthUrl ? 'not checked yet' : 'no health URL configured', status: undefined, version: undefined, attempts: 0 });
  }
  for (;;) {
    const pending = services.filter((s) => s.healthUrl && !results.get(s.name)!.healthy);
    await Promise.all(
      pending.map(async (s) => {
        const obs = await deps.probe(s.healthUrl!, policy.requestTimeout);
        const j = judgeHealth(obs, expectedVersion);
        const prev = results.get(s.name)!;
        results.set(s.name, { ...prev, healthy: j.healthy, reason: j.reason, status: obs.status, version: obs.version, attempts: prev.attempts + 1 });
      }),
    );
    const elapsedMs = deps.clock.now().getTime() - start;
    const report = { healthy: [...results.values()].every((r) => r.healthy), services: [...results.values()], elapsedMs };
    deps.onAttempt?.(report);
    if (report.healthy || elapsedMs + policy.interval > policy.timeout) return report;
    await deps.clock.sleep(policy.interval);
  }
}

/** One look, no waiting: for `status` and `health`. */
export function checkHealthOnce(services: ResolvedService[], expectedVersion: string | undefined, requestTimeout: number, deps: { clock: Clock; probe: HealthProbe }) {
  return verifyHealth(services, expectedVersion, { timeout: 0, interval: 0, requestTimeout }, deps);
}
