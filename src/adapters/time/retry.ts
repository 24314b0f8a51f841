/**
 * The one retry policy for requests to other systems (notification webhooks, broker APIs):
 * at most `attempts` tries within `deadlineMs`, exponential backoff with equal jitter between
 * them, never sooner than the other side asked (Retry-After), and never a wait that would end
 * past the deadline. Each caller decides what an answer means (`attempt`) and words the outcome.
 */
import { abortableSleep } from './sleep.js';

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

/** Seams for tests: the waits, the jitter and the time. */
export interface RetryDeps {
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** What one attempt came to. */
export type AttemptResult<T> =
  | { kind: 'done'; value: T }
  /** Worth trying again, not before `waitMs` when the other side said so. */
  | { kind: 'retry'; reason: string; status?: number; waitMs?: number }
  /** Asking again will not change the answer. */
  | { kind: 'final'; reason: string; status?: number };

export type RetryResult<T> =
  | { kind: 'done'; value: T; attempts: number }
  | {
      kind: 'stopped';
      /**
       * final: an attempt said so; abandoned: the signal aborted; exhausted: no attempt or no
       * time left; deadline: the next wait would have ended past the deadline.
       */
      why: 'final' | 'abandoned' | 'exhausted' | 'deadline';
      /** The last attempt's reason ('not attempted' when there was none). */
      reason: string;
      status?: number;
      attempts: number;
    };

/** The wait before attempt `attempts + 1`: exponential, capped, with "equal jitter" (at least half of it). */
export function backoffMs(policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, attempts: number, random: () => number): number {
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempts - 1));
  // At least half the backoff, so retries from many processes spread out without ever coming back immediately.
  return backoff / 2 + random() * (backoff / 2);
}

export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (timeoutMs: number) => Promise<AttemptResult<T>>,
  options: { deps?: RetryDeps; signal?: AbortSignal } = {},
): Promise<RetryResult<T>> {
  const sleep = options.deps?.sleep ?? abortableSleep;
  const random = options.deps?.random ?? Math.random;
  const now = options.deps?.now ?? Date.now;
  const signal = options.signal;
  const started = now();
  const maxAttempts = Math.max(1, Math.floor(policy.attempts));
  let attempts = 0;
  let last: { reason: string; status?: number } = { reason: 'not attempted' };
  const stopped = (why: 'final' | 'abandoned' | 'exhausted' | 'deadline', o: { reason: string; status?: number }): RetryResult<T> => ({
    kind: 'stopped',
    why,
    reason: o.reason,
    ...(o.status !== undefined ? { status: o.status } : {}),
    attempts,
  });

  while (attempts < maxAttempts) {
    if (signal?.aborted) return stopped('abandoned', last);
    const remaining = policy.deadlineMs - (now() - started);
    if (remaining <= 0) break;
    attempts++;
    const outcome = await attempt(Math.min(policy.requestTimeoutMs, remaining));
    if (outcome.kind === 'done') return { kind: 'done', value: outcome.value, attempts };
    last = { reason: outcome.reason, ...(outcome.status !== undefined ? { status: outcome.status } : {}) };
    if (outcome.kind === 'final') return stopped('final', last);
    if (attempts >= maxAttempts) break;
    let wait = backoffMs(policy, attempts, random);
    if (outcome.waitMs !== undefined) wait = Math.max(wait, outcome.waitMs);
    if (wait >= policy.deadlineMs - (now() - started)) return stopped('deadline', last);
    await sleep(wait, signal);
  }
  return stopped(signal?.aborted ? 'abandoned' : 'exhausted', last);
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${Math.round(ms / 100) / 10}s`;
}
