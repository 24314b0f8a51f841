/**
 * The notifier port: one outgoing channel (a Slack incoming webhook, a generic JSON webhook)
 * that is told about deploys, soaks, promotions, rollbacks and incidents.
 *
 * Delivery is best effort and must never disturb the operation it reports on, so `send`
 * never throws: it returns what happened. Webhook URLs are secrets (a Slack URL is the
 * credential), so nothing here ever puts a URL, or any text that could contain one, into a
 * result, an error or a log line.
 */
import { formatMs, withRetries, type RetryDeps, type RetryPolicy } from '../time/retry.js';

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

// The retry policy is shared with the broker adapters (time/retry.ts); the defaults are ours.
export type { RetryDeps, RetryPolicy } from '../time/retry.js';

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 4,
  deadlineMs: 30_000,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  requestTimeoutMs: 10_000,
};

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
  const target = parseWebhookUrl(url);
  if (!target) return { ok: false, attempts: 0, error: 'the URL is not a valid http(s) URL' };
  let payload: string;
  try {
    payload = JSON.stringify(body);
  } catch {
    return { ok: false, attempts: 0, error: 'the event could not be encoded as JSON' };
  }

  const result = await withRetries<number>(
    policy,
    async (timeoutMs) => {
      const outcome = await attempt(target, payload, options.headers ?? {}, timeoutMs, options.signal);
      if (outcome.kind === 'delivered') return { kind: 'done', value: outcome.status };
      const status = outcome.status !== undefined ? { status: outcome.status } : {};
      if (outcome.kind === 'final') return { kind: 'final', reason: outcome.error, ...status };
      return { kind: 'retry', reason: outcome.error, ...status, ...(outcome.retryAfterMs !== undefined ? { waitMs: outcome.retryAfterMs } : {}) };
    },
    { ...(options.deps ? { deps: options.deps } : {}), ...(options.signal ? { signal: options.signal } : {}) },
  );
  if (result.kind === 'done') return { ok: true, attempts: result.attempts, status: result.value };
  const failure = { ok: false, attempts: result.attempts, ...(result.status !== undefined ? { status: result.status } : {}) };
  switch (result.why) {
    case 'final':
      return { ...failure, error: result.reason };
    case 'abandoned':
      return { ...failure, error: `abandoned: ${result.reason}` };
    case 'deadline':
      return { ...failure, error: `${result.reason}; gave up: the next attempt would be after the ${formatMs(policy.deadlineMs)} deadline` };
    case 'exhausted':
      return { ...failure, error: `${result.reason}; gave up after ${result.attempts} attempt${result.attempts === 1 ? '' : 's'}` };
  }
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
