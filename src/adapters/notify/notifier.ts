/**
 * The notifier port: one outgoing channel (a Slack incoming webhook, a generic JSON webhook)
 * that is told about deploys, soaks, promotions, rollbacks and incidents.
 *
 * Delivery is best effort and must never disturb the operation it reports on, so `send`
 * never throws: it returns what happened. Webhook URLs are secrets (a Slack URL is the
 * credential), so nothing here ever puts a URL, or any text that could contain one, into a
 * result, an error or a log line.
 */
import { abortableSleep } from '../time/sleep.js';

export const NOTIFY_EVENTS = [
  'deploy.started',
  'deploy.succeeded',
  'deploy.failed',
  'soak.passed',
  'soak.failed',
  'monitor.blind',
  'monitor.inconclusive',
  'promotion.refused',
  'approval.requested',
  'rollback.started',
  'rollback.finished',
  'incident.opened',
  'killswitch.engaged',
  'release.announced',
] as const;
export type NotifyEventName = (typeof NOTIFY_EVENTS)[number];

/** What a notifier is told; a generic webhook receives exactly this object as JSON. */
export interface NotifyEvent {
  event: NotifyEventName;
  env: string;
  version?: string;
  actor: string;
  reason?: string;
  /** ISO-8601 time of the event. */
  at: string;
  detail?: Record<string, unknown>;
}

export type NotifierType = 'slack' | 'webhook' | 'grafana';

export interface DeliveryResult {
  ok: boolean;
  /** Requests made (1 when the first one was answered 2xx). */
  attempts: number;
  /** HTTP status of the last answer, when there was one. */
  status?: number;
  /** Why delivery failed; built from status codes and error codes only, never a URL. */
  error?: string;
}

export interface Notifier {
  readonly type: NotifierType;
  /** Delivers one event with retries. Never rejects. */
  send(event: NotifyEvent, signal?: AbortSignal): Promise<DeliveryResult>;
}

export interface RetryPolicy {
  /** Requests at most, the first included. */
  attempts: number;
  /** Total time budget for all attempts and waits, from the first request. */
  deadlineMs: number;
  /** Backoff before the 2nd attempt; doubles each time, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Timeout of one request (also capped by what is left of the deadline). */
  requestTimeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  deadlineMs: 30_000,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  requestTimeoutMs: 10_000,
};

/** Seams for tests: the waits and the jitter. */
export interface RetryDeps {
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/**
 * POSTs `body` as JSON to `url`, retrying network errors, timeouts, 429 (after its Retry-After
 * when given) and 5xx with exponential backoff and jitter, until `policy.attempts` requests or
 * `policy.deadlineMs` are used up. Other answers (2xx excepted) are final: a 4xx will not get
 * better by asking again. Redirects are not followed (the payload goes only where configured).
 */
export async function postJson(
  url: string,
  body: unknown,
  options: { headers?: Record<string, string>; policy?: Partial<RetryPolicy>; signal?: AbortSignal; deps?: RetryDeps } = {},
): Promise<DeliveryResult> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const sleep = options.deps?.sleep ?? abortableSleep;
  const random = options.deps?.random ?? Math.random;
  const now = options.deps?.now ?? Date.now;
  const signal = options.signal;

  const target = parseWebhookUrl(url);
  if (!target) return { ok: false, attempts: 0, error: 'the URL is not a valid http(s) URL' };
  let payload: string;
  try {
    payload = JSON.stringify(body);
  } catch {
    return { ok: false, attempts: 0, error: 'the event could not be encoded as JSON' };
  }

  const started = now();
  const maxAttempts = Math.max(1, Math.floor(policy.attempts));
  let attempts = 0;
  let last: DeliveryResult = { ok: false, attempts: 0, error: 'not attempted' };

  while (attempts < maxAttempts) {
    if (signal?.aborted) return { ...last, ok: false, attempts, error: `abandoned: ${last.error ?? 'not attempted'}` };
    const remaining = policy.deadlineMs - (now() - started);
    if (remaining <= 0) break;
    attempts++;
    const outcome = await attempt(target, payload, options.headers ?? {}, Math.min(policy.requestTimeoutMs, remaining), signal);
    if (outcome.kind === 'delivered') return { ok: true, attempts, status: outcome.status };
    last = { ok: false, attempts, error: outcome.error, ...(outcome.status !== undefined ? { status: outcome.status } : {}) };
    if (outcome.kind === 'final') return last;
    if (attempts >= maxAttempts) break;

    const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempts - 1));
    // "Equal jitter": at least half the backoff, so retries from many processes spread out
    // without ever coming back immediately.
    let wait = backoff / 2 + random() * (backoff / 2);
    if (outcome.retryAfterMs !== undefined) wait = Math.max(wait, outcome.retryAfterMs);
    const left = policy.deadlineMs - (now() - started);
    if (wait >= left) {
      return { ...last, error: `${last.error}; gave up: the next attempt would be after the ${formatMs(policy.deadlineMs)} deadline` };
    }
    await sleep(wait, signal);
  }
  if (signal?.aborted) return { ...last, attempts, error: `abandoned: ${last.error}` };
  return { ...last, attempts, error: `${last.error}; gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}` };
}

type AttemptOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; status?: number; error: string; retryAfterMs?: number }
  | { kind: 'final'; status?: number; error: string };

async function attempt(url: URL, payload: string, headers: Record<string, string>, timeoutMs: number, outer: AbortSignal | undefined): Promise<AttemptOutcome> {
  const timeout = AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs)));
  const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'shipgate', ...headers },
      body: payload,
      redirect: 'manual',
      signal,
    });
  } catch (err) {
    if (outer?.aborted) return { kind: 'final', error: 'abandoned before an answer arrived' };
    if (timeout.aborted) return { kind: 'retry', error: `no answer within ${formatMs(timeoutMs)}` };
    return { kind: 'retry', error: `network error (${errorCode(err)})` };
  }
  // The body is not needed (Slack answers "ok"); drain it so the connection can be reused.
  await res.arrayBuffer().catch(() => undefined);
  const status = res.status;
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now());
    return { kind: 'retry', status, error: 'rate limited (HTTP 429)', ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (status >= 500) return { kind: 'retry', status, error: `HTTP ${status}` };
  if (status >= 300 && status < 400) return { kind: 'final', status, error: `HTTP ${status}: redirects are not followed` };
  return { kind: 'final', status, error: `HTTP ${status}: rejected, not retried` };
}

function parseWebhookUrl(url: string): URL | undefined {
  try {
    const parsed = new URL(url.trim());
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A short, URL-free description of a fetch failure. undici puts the failing URL into some
 * messages ("Failed to parse URL from ..."), so only error codes and names are used.
 */
function errorCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return err instanceof Error && /^[A-Za-z]+$/.test(err.name) ? err.name : 'unknown';
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${Math.round(ms / 100) / 10}s`;
}
