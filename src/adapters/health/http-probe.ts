export interface HealthObservation {
  url: string;
  /** HTTP status, or undefined when no answer came. */
  status: number | undefined;
  /** The `version` field of a JSON body, when the service reports one. */
  version: string | undefined;
  error: string | undefined;
  latencyMs: number;
}

export type HealthProbe = (url: string, timeoutMs: number) => Promise<HealthObservation>;

export const httpHealthProbe: HealthProbe = async (url, timeoutMs) => {
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    const body = await res.text();
    let version: string | undefined;
    try {
      const parsed = JSON.parse(body) as { version?: unknown };
      if (typeof parsed?.version === 'string') version = parsed.version;
    } catch {
      /* a plain-text health answer is fine; it just reports no version */
    }
    return { url, status: res.status, version, error: undefined, latencyMs: performance.now() - started };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const name = (err as Error).name;
    const error = name === 'TimeoutError' ? `no answer within ${timeoutMs}ms` : cause ?? (err as Error).message;
    return { url, status: undefined, version: undefined, error, latencyMs: performance.now() - started };
  }
};
