import http from 'node:http';
import https from 'node:https';

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

/** Redirects a health URL may take (fetch's default was 20; a health check needs a few at most). */
const MAX_REDIRECTS = 5;

/**
 * One GET with node:http(s) and no keep-alive. Not `fetch`: Node's fetch takes ~0.3 s to load on
 * first use and its pooled socket keeps the process alive ~0.7 s after the answer, which every
 * `status`, deploy and rollback paid before exiting.
 */
function get(url: URL, deadline: number, redirectsLeft: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(new Error(`unsupported protocol ${url.protocol} (use http: or https:)`));
    const request = (url.protocol === 'https:' ? https : http).get(url, { agent: false, headers: { accept: 'application/json' } }, (res) => {
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (status >= 300 && status < 400 && location && redirectsLeft > 0) {
        res.resume();
        clearTimeout(timer);
        get(new URL(location, url), deadline, redirectsLeft - 1).then(resolve, reject);
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (clearTimeout(timer), resolve({ status, text: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', (err) => (clearTimeout(timer), reject(err)));
    });
    const timer = setTimeout(() => request.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), Math.max(0, deadline - Date.now()));
    request.on('error', (err) => (clearTimeout(timer), reject(err)));
  });
}

export const httpHealthProbe: HealthProbe = async (url, timeoutMs) => {
  const started = performance.now();
  try {
    const res = await get(new URL(url), Date.now() + timeoutMs, MAX_REDIRECTS);
    const text = res.text;
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
    // A system error reads best as its code (ECONNREFUSED); anything else (a bad URL) by its message.
    const code = (err as { code?: string }).code;
    const name = (err as Error).name;
    const error = name === 'TimeoutError' ? `no answer within ${timeoutMs}ms` : code && /^E[A-Z]+$/.test(code) ? code : (err as Error).message;
    return { url, status: undefined, version: undefined, error, latencyMs: performance.now() - started };
  }
};
