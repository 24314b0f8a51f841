import type { HealthPolicy } from '../config/schema.js';
import type { ResolvedService } from '../config/resolve.js';
import type { HealthProbe } from '../adapters/health/http-probe.js';
import { healthPollDelayMs, judgeHealth, type HealthContract } from '../core/health.js';
import { abortableSleep } from '../adapters/time/sleep.js';

export interface ServiceHealth {
  service: string;
  url: string | undefined;
  healthy: boolean;
  reason: string;
  status: number | undefined;
  version: string | undefined;
  attempts: number;
  /** False when nothing proved which release answered (health.version ignore, or not reported). */
  versionChecked?: boolean;
}

export interface HealthReport {
  healthy: boolean;
  services: ServiceHealth[];
  elapsedMs: number;
  /** What verification could not prove, said on every run (e.g. a version not checked). */
  notes?: string[];
}

/** Proof that what answered is what this deploy started; undefined when the target cannot tell. */
export type ListenerProof = (service: ResolvedService) => Promise<{ ok: boolean; reason: string } | undefined>;

export function healthContract(s: ResolvedService): HealthContract | undefined {
  return s.health ?? (s.healthUrl ? { url: s.healthUrl } : undefined);
}

/**
 * Polls every health URL until all are healthy or the timeout passes: soon after a start (50 ms,
 * doubling) and then each interval, so a service up in 300 ms is seen then, not a whole interval later. A service
 * without a health URL is reported healthy with that said plainly, never silently. Waits are
 * real time even when the domain clock runs faster (the demo's --speed): a process takes as
 * long to start whatever the clock says.
 */
export async function verifyHealth(
  services: ResolvedService[],
  expectedVersion: string | undefined,
  policy: Pick<HealthPolicy, 'timeout' | 'interval' | 'requestTimeout'>,
  deps: { probe: HealthProbe; onAttempt?: (report: HealthReport) => void; listener?: ListenerProof; signal?: AbortSignal },
): Promise<HealthReport> {
  const start = Date.now();
  const results = new Map<string, ServiceHealth>();
  for (const s of services) {
    results.set(s.name, { service: s.name, url: s.healthUrl, healthy: !s.healthUrl, reason: s.healthUrl ? 'not checked yet' : 'no health URL configured', status: undefined, version: undefined, attempts: 0 });
  }
  for (let round = 1; ; round++) {
    const pending = services.filter((s) => s.healthUrl && !results.get(s.name)!.healthy);
    await Promise.all(
      pending.map(async (s) => {
        const contract = healthContract(s)!;
        const obs = await deps.probe(contract.url, policy.requestTimeout);
        let j = judgeHealth(obs, expectedVersion, contract);
        // A healthy answer counts only when it came from the process this deploy started.
        const proof = j.healthy && deps.listener ? await deps.listener(s) : undefined;
        if (proof && !proof.ok) j = { ...j, healthy: false, reason: `answered, but not by this deploy: ${proof.reason}` };
        const prev = results.get(s.name)!;
        results.set(s.name, { ...prev, healthy: j.healthy, reason: j.reason, status: obs.status, version: j.version ?? obs.version, attempts: prev.attempts + 1, ...(j.versionChecked !== undefined ? { versionChecked: j.versionChecked } : {}) });
      }),
    );
    const elapsedMs = Date.now() - start;
    const all = [...results.values()];
    const notes = all.filter((r) => r.healthy && r.versionChecked === false && healthContract(services.find((s) => s.name === r.service)!)?.version === 'ignore').map((r) => `${r.service}: version not checked (health.version: ignore)`);
    const report: HealthReport = { healthy: all.every((r) => r.healthy), services: all, elapsedMs, ...(notes.length ? { notes } : {}) };
    deps.onAttempt?.(report);
    const delay = healthPollDelayMs(round, policy.interval);
    if (report.healthy || elapsedMs + delay > policy.timeout || deps.signal?.aborted) return report;
    await abortableSleep(delay, deps.signal);
  }
}

/** One look, no waiting: for `status` and `health`. */
export function checkHealthOnce(services: ResolvedService[], expectedVersion: string | undefined, requestTimeout: number, deps: { probe: HealthProbe }) {
  return verifyHealth(services, expectedVersion, { timeout: 0, interval: 0, requestTimeout }, deps);
}

/** The local port a service answers health on: its port, else the port of a loopback health URL. */
export function listeningPort(s: ResolvedService): number | undefined {
  if (s.port !== undefined) return s.port;
  try {
    const url = new URL(healthContract(s)?.url ?? '');
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return undefined;
    return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  } catch {
    return undefined;
  }
}
