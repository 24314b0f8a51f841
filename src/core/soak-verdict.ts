import type { CheckResult } from './analysis/types.js';
import { formatDuration } from './duration.js';

/** The soak's running account, kept between evaluations (a restarted controller resumes it). */
export interface SoakAccount {
  requiredMs: number;
  maxInconclusive: number;
  evaluatedMs: number;
  /** Time in which some check was inconclusive or erred, or nobody watched. */
  inconclusiveMs: number;
  lastEvaluatedAt: string | null;
}

export interface SoakStepInput {
  startedAt: string;
  now: Date;
  account: SoakAccount;
  results: CheckResult[];
  /** True when the controller was away long enough that nobody watched since the last evaluation. */
  unobserved: boolean;
}

export interface SoakStep {
  account: SoakAccount;
  state: 'running' | 'passed' | 'failed';
  reason: string | null;
  failedCheck: string | null;
  elapsedMs: number;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/**
 * One soak evaluation, pure. Any failed check fails the soak at once (a gate, or a source that
 * failed `consecutiveErrors` times in a row); after the required duration it passes only with
 * enough conclusive time and no rule over the whole soak broken (`failsAtEnd`).
 */
export function soakStep(input: SoakStepInput): SoakStep {
  const account = { ...input.account };
  const nowMs = input.now.getTime();
  const first = account.lastEvaluatedAt === null;
  // The first evaluation also accounts for the time since the soak started: nobody watched it.
  const gap = Math.max(0, nowMs - new Date(account.lastEvaluatedAt ?? input.startedAt).getTime());
  account.evaluatedMs += gap;
  if (first || input.unobserved || input.results.some((r) => r.verdict === 'inconclusive' || r.verdict === 'error' || (r.errors?.consecutive ?? 0) > 0)) account.inconclusiveMs += gap;
  account.lastEvaluatedAt = input.now.toISOString();
  const elapsedMs = nowMs - new Date(input.startedAt).getTime();

  const failed = input.results.find((r) => r.verdict === 'fail');
  if (failed) return { account, state: 'failed', failedCheck: failed.name, reason: `gate ${failed.name} failed: ${failed.reason}`, elapsedMs };
  if (elapsedMs < account.requiredMs) return { account, state: 'running', failedCheck: null, reason: null, elapsedMs };

  const share = account.evaluatedMs > 0 ? account.inconclusiveMs / account.evaluatedMs : 1;
  if (share > account.maxInconclusive) {
    const unseen = input.results.filter((r) => r.verdict === 'inconclusive' || r.verdict === 'error').map((r) => `${r.name}: ${r.reason}`);
    return { account, state: 'failed', failedCheck: null, reason: `inconclusive for ${pct(share)} of the soak (at most ${pct(account.maxInconclusive)} allowed)${unseen.length ? `; now ${unseen.join('; ')}` : ''}`, elapsedMs };
  }
  const atEnd = input.results.find((r) => r.failsAtEnd);
  if (atEnd) return { account, state: 'failed', failedCheck: atEnd.name, reason: `gate ${atEnd.name} over the whole soak: ${atEnd.failsAtEnd}`, elapsedMs };
  return { account, state: 'passed', failedCheck: null, reason: `passed after ${formatDuration(elapsedMs)} (required ${formatDuration(account.requiredMs)}), inconclusive ${pct(share)}`, elapsedMs };
}
