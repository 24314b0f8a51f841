import { getText } from '../http/get-text.js';

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
  const answer = await getText(url, timeoutMs, { accept: 'application/json' });
  const latencyMs = performance.now() - started;
  if (answer.kind !== 'answer') return { url, status: undefined, version: undefined, error: answer.kind === 'timeout' ? `no answer within ${timeoutMs}ms` : answer.reason, latencyMs };
  let body: unknown;
  let version: string | undefined;
  try {
    body = JSON.parse(answer.text) as unknown;
    const v = (body as { version?: unknown } | null)?.version;
    if (typeof v === 'string') version = v;
  } catch {
    /* a plain-text health answer is fine; it just reports no fields */
  }
  return { url, status: answer.status, version, body, error: undefined, latencyMs };
};
