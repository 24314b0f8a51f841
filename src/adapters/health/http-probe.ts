export interface HealthObservation {
  url: string;
  /** HTTP status, or undefined when no answer came. */
  status: number | undefined;
  /** The `version` field of a JSON body, when the service reports one. */
  version: string | undefined;
  /** The answer parsed as JSON (for the contract's status and version fields); undefined when not JSON. */
  body?: unknown;
  error: string | undefined;
  latencyMs: number;
}

export type HealthProbe = (url: string, timeoutMs: number) => Promise<HealthObservation>;

export const httpHealthProbe: HealthProbe = async (url, timeoutMs) => {
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    const text = await res.text();
    let body: unknown;
    let version: string | undefined;
    try {
      body = JSON.parse(text) as unknown;
      const v = (body as { version?: unknown } | null)?.version;
      if (typeof v === 'string') version = v;
    } catch {
      /* a plain-text health answer is fine; it just reports no fields */
    }
    return { url, status: res.status, version, body, error: undefined, latencyMs: performance.now() - started };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const name = (err as Error).name;
    const error = name === 'TimeoutError' ? `no answer within ${timeoutMs}ms` : cause ?? (err as Error).message;
    return { url, status: undefined, version: undefined, error, latencyMs: performance.now() - started };
  }
};
