/** Pure judgement of one health observation against what was deployed. */
export interface HealthJudgement {
  healthy: boolean;
  reason: string;
}

export function judgeHealth(
  obs: { status: number | undefined; version: string | undefined; error: string | undefined },
  expectedVersion: string | undefined,
): HealthJudgement {
  if (obs.status === undefined) return { healthy: false, reason: obs.error ?? 'no answer' };
  if (obs.status !== 200) return { healthy: false, reason: `HTTP ${obs.status}` };
  if (expectedVersion !== undefined && obs.version !== undefined && obs.version !== expectedVersion) {
    return { healthy: false, reason: `reports version ${obs.version}, expected ${expectedVersion}` };
  }
  return { healthy: true, reason: obs.version ? `HTTP 200, version ${obs.version}` : 'HTTP 200' };
}
