import type { HealthPolicy } from '../config/schema.js';
import type { ResolvedService } from '../config/resolve.js';
import type { HealthProbe } from '../adapters/health/http-probe.js';
import { judgeHealth } from '../core/health.js';
import { abortableSleep } from '../adapters/time/sleep.js';

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
 * without a health URL is reported healthy with that said plainly, never silently. Waits are
 * real time even when the domain clock runs faster (the demo's --speed): a process takes as
 * long to start whatever the clock says.
 */
export async function verifyHealth(
  services: ResolvedService[],
  expectedVersion: string | undefined,
  policy: Pick<HealthPolicy, 'timeout' | 'interval' | 'requestTimeout'>,
  deps: { probe: HealthProbe; onAttempt?: (report: HealthReport) => void; signal?: AbortSignal },
): Promise<HealthReport> {
  const start = Date.now();
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
    const elapsedMs = Date.now() - start;
    const report = { healthy: [...results.values()].every((r) => r.healthy), services: [...results.values()], elapsedMs };
    deps.onAttempt?.(report);
    if (report.healthy || elapsedMs + policy.interval > policy.timeout || deps.signal?.aborted) return report;
    await abortableSleep(policy.interval, deps.signal);
  }
}

/** One look, no waiting: for `status` and `health`. */
export function checkHealthOnce(services: ResolvedService[], expectedVersion: string | undefined, requestTimeout: number, deps: { probe: HealthProbe }) {
  return verifyHealth(services, expectedVersion, { timeout: 0, interval: 0, requestTimeout }, deps);
}
