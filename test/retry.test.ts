// The one retry policy (src/adapters/time/retry.ts) that notifications and broker requests share:
// attempts, deadline, backoff with jitter, Retry-After, abort. Time and jitter are injected.
import { describe, expect, it } from 'vitest';
import { backoffMs, withRetries, type AttemptResult, type RetryPolicy } from '../src/adapters/time/retry.js';

const policy: RetryPolicy = { attempts: 4, deadlineMs: 10_000, baseDelayMs: 100, maxDelayMs: 400, requestTimeoutMs: 3_000 };

function script(results: AttemptResult<string>[]) {
  let now = 0;
  const waits: number[] = [];
  const timeouts: number[] = [];
  const deps = { now: () => now, random: () => 0.5, sleep: async (ms: number) => void (waits.push(ms), (now += ms)) };
  const attempt = async (timeoutMs: number) => {
    timeouts.push(timeoutMs);
    now += 1_000;
    return results.shift() ?? { kind: 'retry', reason: 'HTTP 503', status: 503 };
  };
  return { deps, attempt, waits, timeouts };
}

describe('retry policy', () => {
  it('backs off exponentially with equal jitter, capped at maxDelayMs', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(policy, n, () => 0))).toEqual([50, 100, 200, 200]);
    expect([1, 2, 3, 4].map((n) => backoffMs(policy, n, () => 1))).toEqual([100, 200, 400, 400]);
  });

  it('retries until an answer, waiting the backoff or longer when the other side asks', async () => {
    const s = script([{ kind: 'retry', reason: 'HTTP 500', status: 500 }, { kind: 'retry', reason: 'rate limited', status: 429, waitMs: 2_000 }, { kind: 'done', value: 'ok' }]);
    expect(await withRetries({ ...policy, requestTimeoutMs: 8_000 }, s.attempt, { deps: s.deps })).toEqual({ kind: 'done', value: 'ok', attempts: 3 });
    expect(s.waits).toEqual([75, 2_000]);
    // Each request's timeout is capped by what is left of the deadline (10 s - 1 s - 75 ms - 1 s - 2 s).
    expect(s.timeouts).toEqual([8_000, 8_000, 5_925]);
  });

  it('stops at a final answer, after the last attempt, before a wait past the deadline, and when aborted', async () => {
    const final = script([{ kind: 'final', reason: 'HTTP 400', status: 400 }]);
    expect(await withRetries(policy, final.attempt, { deps: final.deps })).toEqual({ kind: 'stopped', why: 'final', reason: 'HTTP 400', status: 400, attempts: 1 });
    const exhausted = script([]);
    expect(await withRetries({ ...policy, deadlineMs: 60_000 }, exhausted.attempt, { deps: exhausted.deps })).toEqual({ kind: 'stopped', why: 'exhausted', reason: 'HTTP 503', status: 503, attempts: 4 });
    const late = script([{ kind: 'retry', reason: 'rate limited', status: 429, waitMs: 30_000 }]);
    expect(await withRetries(policy, late.attempt, { deps: late.deps })).toEqual({ kind: 'stopped', why: 'deadline', reason: 'rate limited', status: 429, attempts: 1 });
    expect(late.waits).toEqual([]);
    const abort = new AbortController();
    abort.abort();
    const none = script([]);
    expect(await withRetries(policy, none.attempt, { deps: none.deps, signal: abort.signal })).toEqual({ kind: 'stopped', why: 'abandoned', reason: 'not attempted', attempts: 0 });
  });
});
