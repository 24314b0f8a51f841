/**
 * The HTTP plumbing both broker adapters share: one JSON request with bounded retries.
 *
 * Retried: 429 (after Retry-After, else X-RateLimit-Reset, else exponential backoff with jitter),
 * 5xx, timeouts and network errors, until `attempts` requests or `deadlineMs` are used up. A
 * request that is not idempotent (closing positions places orders) is retried only when the
 * broker certainly did not act on it: a 429, or a connection that was never made. Any other
 * 4xx is an answer, for the adapter to interpret. Redirects are never followed, so credential
 * headers go only where configured. Reasons name the method and path, never the host or a header.
 */
import { parseRetryAfter } from '../notify/notifier.js';
import { formatMs, withRetries, type RetryDeps, type RetryPolicy } from '../time/retry.js';

/** The same retry shape as notifications use; only the defaults differ. */
export type BrokerRetryPolicy = RetryPolicy;

export const DEFAULT_BROKER_RETRY: BrokerRetryPolicy = {
  attempts: 5,
  deadlineMs: 30_000,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  requestTimeoutMs: 10_000,
};

/** Seams for tests: the waits, the jitter and the time. */
export type BrokerHttpDeps = RetryDeps;

export interface BrokerHttpOptions {
  retry?: Partial<BrokerRetryPolicy>;
  deps?: BrokerHttpDeps;
  signal?: AbortSignal;
}

export interface BrokerRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path below the base URL, starting with "/". */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  body?: unknown;
  /** Safe to send twice (reads, cancels). */
  idempotent: boolean;
}

export type BrokerHttpResult =
  /** The broker answered, finally: 2xx, or a 4xx that retrying will not change. */
  | { kind: 'answer'; status: number; body: unknown; attempts: number }
  /** No usable answer within the policy. */
  | { kind: 'failed'; reason: string; status?: number; attempts: number };

/** Connection errors after which the request was certainly never sent. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** Longest wait taken from an X-RateLimit-Reset header (guards against a skewed clock). */
const MAX_RESET_WAIT_MS = 60_000;

export async function brokerRequest(baseUrl: string, request: BrokerRequest, options: BrokerHttpOptions = {}): Promise<BrokerHttpResult> {
  const policy = { ...DEFAULT_BROKER_RETRY, ...options.retry };
  const label = `${request.method} ${request.path}`;
  const url = buildUrl(baseUrl, request);
  if (!url) return { kind: 'failed', reason: `${label}: the broker URL is not a valid http(s) URL`, attempts: 0 };

  const result = await withRetries<{ status: number; body: unknown }>(
    policy,
    async (timeoutMs) => {
      const outcome = await attempt(url, request, timeoutMs, options.signal);
      return outcome.kind === 'answer' ? { kind: 'done', value: { status: outcome.status, body: outcome.body } } : outcome;
    },
    { ...(options.deps ? { deps: options.deps } : {}), ...(options.signal ? { signal: options.signal } : {}) },
  );
  if (result.kind === 'done') return { kind: 'answer', ...result.value, attempts: result.attempts };
  const failed = (reason: string): BrokerHttpResult => ({ kind: 'failed', reason, attempts: result.attempts, ...status(result) });
  switch (result.why) {
    case 'final':
      return failed(`${label}: ${result.reason}`);
    case 'abandoned':
      return failed(`${label}: abandoned (${result.reason})`);
    case 'deadline':
      return failed(`${label}: ${result.reason}; gave up after ${plural(result.attempts, 'attempt')}: the next one would be after the ${formatMs(policy.deadlineMs)} deadline`);
    case 'exhausted':
      return failed(`${label}: ${result.reason}; gave up after ${plural(result.attempts, 'attempt')}`);
  }
}

type AttemptOutcome =
  | { kind: 'answer'; status: number; body: unknown }
  | { kind: 'retry'; reason: string; status?: number; waitMs?: number }
  | { kind: 'final'; reason: string; status?: number };

async function attempt(url: URL, request: BrokerRequest, timeoutMs: number, outer: AbortSignal | undefined): Promise<AttemptOutcome> {
  const timeout = AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs)));
  const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'shipgate', ...request.headers };
  let payload: string | undefined;
  if (request.body !== undefined) {
    payload = JSON.stringify(request.body);
    headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(url, { method: request.method, headers, body: payload, redirect: 'manual', signal });
  } catch (err) {
    if (outer?.aborted) return { kind: 'final', reason: 'abandoned before an answer arrived' };
    if (timeout.aborted) {
      const reason = `no answer within ${formatMs(timeoutMs)}`;
      return request.idempotent ? { kind: 'retry', reason } : { kind: 'final', reason: `${reason}; not retried, the broker may have acted on it` };
    }
    const code = errorCode(err);
    const reason = `network error (${code})`;
    if (request.idempotent || NOT_SENT.has(code)) return { kind: 'retry', reason };
    return { kind: 'final', reason: `${reason}; not retried, the broker may have acted on it` };
  }

  let body: unknown;
  try {
    body = parseBody(await res.text());
  } catch (err) {
    const reason = `HTTP ${res.status}, then the answer was cut off (${errorCode(err)})`;
    return request.idempotent ? { kind: 'retry', reason, status: res.status } : { kind: 'final', reason, status: res.status };
  }
  const code = res.status;
  if (code >= 200 && code < 300) return { kind: 'answer', status: code, body };
  if (code === 429) {
    const retryAfter = parseRetryAfter(res.headers.get('retry-after'), Date.now());
    const reset = parseRateLimitReset(res.headers.get('x-ratelimit-reset'), Date.now());
    const waitMs = retryAfter ?? reset;
    return { kind: 'retry', reason: 'rate limited (HTTP 429)', status: code, ...(waitMs !== undefined ? { waitMs } : {}) };
  }
  if (code >= 500) {
    const reason = `HTTP ${code}${messageSuffix(body)}`;
    return request.idempotent ? { kind: 'retry', reason, status: code } : { kind: 'final', reason: `${reason}; not retried, the broker may have acted on it`, status: code };
  }
  if (code >= 300 && code < 400) return { kind: 'final', reason: `HTTP ${code}: redirects are not followed`, status: code };
  return { kind: 'answer', status: code, body };
}

function buildUrl(baseUrl: string, request: BrokerRequest): URL | undefined {
  let base: URL;
  try {
    base = new URL(baseUrl.trim());
  } catch {
    return undefined;
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') return undefined;
  const url = new URL(base.href);
  url.pathname = base.pathname.replace(/\/+$/, '') + request.path;
  url.search = '';
  url.hash = '';
  for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The broker's own explanation in an error body: Alpaca `{code, message}`, the paper broker `{error}`. */
export function bodyMessage(body: unknown): string | undefined {
  // Plain-text bodies only; an HTML error page from a proxy says nothing useful.
  if (typeof body === 'string') return body.trim() && !body.trimStart().startsWith('<') ? clip(body) : undefined;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    for (const key of ['message', 'error']) {
      const v = b[key];
      if (typeof v === 'string' && v.trim()) return clip(v);
    }
  }
  return undefined;
}

function messageSuffix(body: unknown): string {
  const m = bodyMessage(body);
  return m ? `: ${m}` : '';
}

function clip(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 197)}...` : t;
}

/** X-RateLimit-Reset (Alpaca): the epoch second at which the request counter resets. */
export function parseRateLimitReset(value: string | null, nowMs: number): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined;
  return Math.min(MAX_RESET_WAIT_MS, Math.max(0, Number(value.trim()) * 1000 - nowMs));
}

/** A short, URL-free description of a fetch failure (undici may put URLs in messages). */
function errorCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return err instanceof Error && /^[A-Za-z]+$/.test(err.name) ? err.name : 'unknown';
}

function status(o: { status?: number }): { status?: number } {
  return o.status !== undefined ? { status: o.status } : {};
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export { formatMs } from '../time/retry.js';
