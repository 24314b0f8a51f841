/**
 * The health contract with a service: where to ask, which JSON field says whether it is
 * healthy, and which field reports its release (or that it reports none).
 */
export interface HealthContract {
  url: string;
  /** A 200 whose `field` is not one of `healthy` is unhealthy (a service whose database is down). */
  status?: { field: string; healthy: readonly (string | number | boolean)[] } | undefined;
  /**
   * `{ field }`: the release must be reported there. 'ignore': the service reports none, and
   * verification says so. Absent: the `version` field, checked when the service reports it.
   */
  version?: { field: string } | 'ignore' | undefined;
}

/** The first re-poll after a start, in ms: a service is usually up within a fraction of a poll interval. */
export const FIRST_HEALTH_REPOLL_MS = 50;

/** The wait after poll round `round` (1, 2, …): 50 ms doubling, never more than the configured interval. */
export function healthPollDelayMs(round: number, intervalMs: number): number {
  return Math.min(intervalMs, FIRST_HEALTH_REPOLL_MS * 2 ** Math.min(round - 1, 20));
}

/** Pure judgement of one health observation against what was deployed. */
export interface HealthJudgement {
  healthy: boolean;
  reason: string;
  /** The release the service reported, when it reported one. */
  version?: string | undefined;
  /** False when nothing proved the release (version: ignore, or not reported). */
  versionChecked?: boolean;
}

export interface HealthAnswer {
  status: number | undefined;
  version: string | undefined;
  error: string | undefined;
  /** The answer parsed as JSON; undefined when it was not JSON. */
  body?: unknown;
}

/** `a.b.c` in a JSON object; strings and numbers only (a release or a status is a scalar). */
export function readField(body: unknown, field: string): string | undefined {
  let value: unknown = body;
  for (const part of field.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

export function judgeHealth(obs: HealthAnswer, expectedVersion: string | undefined, contract?: Pick<HealthContract, 'status' | 'version'>): HealthJudgement {
  if (obs.status === undefined) return { healthy: false, reason: obs.error ?? 'no answer' };
  if (obs.status !== 200) return { healthy: false, reason: `HTTP ${obs.status}` };
  const json = typeof obs.body === 'object' && obs.body !== null;
  if (contract?.status) {
    const { field, healthy } = contract.status;
    if (!json) return { healthy: false, reason: `HTTP 200, but the answer is not a JSON object, so its "${field}" cannot be read` };
    const value = readField(obs.body, field);
    if (value === undefined) return { healthy: false, reason: `HTTP 200, but the answer has no "${field}"` };
    // A configured `true` (YAML's natural spelling) matches JSON true, as the text "true" always did.
    if (!healthy.some((h) => String(h) === value)) return { healthy: false, reason: `${field} is "${value}" (healthy: ${healthy.join(', ')})` };
  }
  const statusNote = contract?.status ? `, ${contract.status.field} ${readField(obs.body, contract.status.field)}` : '';
  const versionSpec = contract?.version;
  if (versionSpec === 'ignore') {
    return { healthy: true, reason: `HTTP 200${statusNote}; version not checked (the service does not report its release: health.version ignore)`, versionChecked: false };
  }
  if (versionSpec) {
    const reported = json ? readField(obs.body, versionSpec.field) : undefined;
    if (expectedVersion !== undefined && reported === undefined) {
      return { healthy: false, reason: `HTTP 200, but the answer does not report its release in "${versionSpec.field}"` };
    }
    if (expectedVersion !== undefined && reported !== expectedVersion) {
      return { healthy: false, reason: `reports ${versionSpec.field} ${reported}, expected ${expectedVersion}`, version: reported };
    }
    return { healthy: true, reason: `HTTP 200${statusNote}${reported !== undefined ? `, ${versionSpec.field} ${reported}` : ''}`, version: reported, versionChecked: expectedVersion !== undefined };
  }
  const version = obs.version ?? (json ? readField(obs.body, 'version') : undefined);
  if (expectedVersion !== undefined && version !== undefined && version !== expectedVersion) {
    return { healthy: false, reason: `reports version ${version}, expected ${expectedVersion}`, version };
  }
  return { healthy: true, reason: version ? `HTTP 200${statusNote}, version ${version}` : `HTTP 200${statusNote}`, version, versionChecked: version !== undefined && expectedVersion !== undefined };
}
