import type { CheckSpec } from '../../config/schema.js';
import type { Bucket } from './histogram.js';
import type { SprtState } from './sprt.js';

/**
 * Argo Rollouts' four measurement outcomes: pass, fail, inconclusive (no data, too little traffic,
 * a label the metric lacks, an unusable baseline) and error (the source itself failed). None of
 * them is ever guessed, and neither inconclusive nor error is ever read as zero or healthy.
 */
export type Verdict = 'pass' | 'fail' | 'inconclusive' | 'error';
export type Role = 'soak' | 'monitor';

export type Reading =
  | { kind: 'counts'; total: number; errors: number }
  | { kind: 'buckets'; buckets: Bucket[] }
  | { kind: 'value'; value: string | number | boolean }
  /** The source answered, but not with a measurement; `empty` marks a query that matched no series. */
  | { kind: 'no-data'; reason: string; empty?: boolean }
  /** The source failed: timeout, refused, 5xx, unparseable answer, query error. */
  | { kind: 'error'; reason: string };

export interface CheckBaseline {
  errorRate?: number;
  requests?: number;
  quantile?: number;
  /** Upper bound of the histogram bucket that holds the baseline quantile. */
  boundSeconds?: number;
  /** The previous release's cumulative histogram: the latency test is derived from its shape. */
  buckets?: Bucket[];
  /** There was a previous release but its baseline could not be measured: why. */
  unavailable?: string;
}

export interface VerdictRun {
  verdict: Verdict;
  from: string;
  to: string;
  count: number;
}

export interface Evidence {
  value?: number | string | boolean | undefined;
  threshold?: number | string | boolean | undefined;
  /** The baseline's quantile (latency) or error rate. */
  baseline?: number | undefined;
  baselineRequests?: number | undefined;
  /** value / baseline - 1. */
  increase?: number | undefined;
  /** Which rule decided: max, maxIncrease, rollbackIncrease, target, limit, consecutiveErrors, empty. */
  gate?: string;
  requests?: number;
  errors?: number;
  /** The rollback test's CUSUM statistic (regression when it reaches upper). */
  llr?: number;
  /** Its unclamped Wald sum since H0 was last accepted (healthy when it reaches lower). */
  wald?: number;
  upper?: number;
  lower?: number;
  p0?: number;
  p1?: number;
  /** The maxIncrease gate's own sequential test, beside the rollback test's llr/p0/p1/upper. */
  gateLlr?: number;
  gateP0?: number;
  gateP1?: number;
  gateUpper?: number;
}

export interface CheckState {
  name: string;
  start?: Reading;
  prev?: Reading;
  /** The rollback test (error rate: target vs limit; latency: +20% vs rollbackIncrease). */
  sprt?: SprtState;
  /** The baseline-relative gate test (maxIncrease). */
  gateSprt?: SprtState;
  consecutiveFails: number;
  /** Source failures in a row, and in all. Absent in states stored before they were counted. */
  consecutiveErrors?: number;
  errorCount?: number;
  healthySeen: boolean;
  history: VerdictRun[];
}

export interface CheckResult {
  name: string;
  type: CheckSpec['type'];
  verdict: Verdict;
  reason: string;
  value?: number | string | boolean | undefined;
  evidence?: Evidence;
  /** A degradation worth telling about that does not fail the check (seed: "monitor and defer"). */
  warning?: string;
  /** Source failures of this check: in a row and since it started. */
  errors?: { consecutive: number; total: number };
  /** Why the check fails if the soak ended now (a rule over the whole soak, e.g. p95 vs baseline). */
  failsAtEnd?: string;
}

export interface EvaluationContext {
  role: Role;
  at: string;
  baseline?: CheckBaseline | undefined;
  alpha: number;
  beta: number;
  minRequests: number;
  /** Source failures in a row that fail the check in a soak (default 4). */
  consecutiveErrors?: number;
}

export const DEFAULT_CONSECUTIVE_ERRORS = 4;
