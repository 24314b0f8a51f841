import type { CheckSpec } from '../../config/schema.js';
import type { Bucket } from '../../adapters/metrics/series.js';
import { bucketQuantile, countAbove, counterDelta, diffBuckets } from '../../adapters/metrics/series.js';
import { errorRateParams, latencyShiftParams, sprtStep, sprtThresholds, type SprtState } from './sprt.js';

/**
 * One evaluation of one check: pass, fail or inconclusive (Argo's vocabulary: a measurement is
 * never guessed). Pure: readings come in, a new persisted state and a result go out.
 */
export type Verdict = 'pass' | 'fail' | 'inconclusive';
export type Role = 'soak' | 'monitor';

export type Reading =
  | { kind: 'counts'; total: number; errors: number }
  | { kind: 'buckets'; buckets: Bucket[] }
  | { kind: 'value'; value: string | number | boolean }
  | { kind: 'no-data'; reason: string };

export interface CheckBaseline {
  errorRate?: number;
  requests?: number;
  quantile?: number;
  /** Upper bound of the histogram bucket that holds the baseline quantile. */
  boundSeconds?: number;
  /** The previous release's cumulative histogram: the latency test is derived from its shape. */
  buckets?: Bucket[];
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
  baseline?: number | undefined;
  requests?: number;
  errors?: number;
  llr?: number;
  upper?: number;
  lower?: number;
  p0?: number;
  p1?: number;
}

export interface CheckState {
  name: string;
  start?: Reading;
  prev?: Reading;
  sprt?: SprtState;
  consecutiveFails: number;
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
}

export interface EvaluationContext {
  role: Role;
  at: string;
  baseline?: CheckBaseline | undefined;
  alpha: number;
  beta: number;
  minRequests: number;
}

/** Slowdowns up to this much are tolerated by the latency test (seed: under 20% monitor and defer). */
export const LATENCY_TOLERATED = 0.2;

/** The share test for a latency shift, from the baseline histogram's shape (docs/analysis.md); undefined when the histogram cannot tell +20% from the rollback level. */
function latencyTest(spec: Extract<CheckSpec, { type: 'latency' }>, buckets: Bucket[], ctx: EvaluationContext) {
  try {
    return latencyShiftParams({ buckets, quantile: spec.quantile, tolerated: LATENCY_TOLERATED, rollback: spec.rollbackIncrease, alpha: ctx.alpha, beta: ctx.beta, minSamples: ctx.minRequests });
  } catch {
    return undefined;
  }
}
const HISTORY_LIMIT = 200;

export function initialCheckState(name: string): CheckState {
  return { name, consecutiveFails: 0, healthySeen: false, history: [] };
}

export function evaluateCheck(spec: CheckSpec, previous: CheckState | undefined, reading: Reading, ctx: EvaluationContext): { state: CheckState; result: CheckResult } {
  const state: CheckState = structuredClone(previous ?? initialCheckState(spec.name));
  const result = evaluate(spec, state, reading, ctx);
  appendHistory(state.history, result.verdict, ctx.at);
  return { state, result };
}

function evaluate(spec: CheckSpec, state: CheckState, reading: Reading, ctx: EvaluationContext): CheckResult {
  const base = { name: spec.name, type: spec.type };
  if (reading.kind === 'no-data') return { ...base, verdict: 'inconclusive', reason: `no data: ${reading.reason}` };
  switch (spec.type) {
    case 'error-rate':
      if (reading.kind !== 'counts') return { ...base, verdict: 'inconclusive', reason: 'reading is not a request count' };
      return errorRate(spec, state, reading, ctx);
    case 'latency':
      if (reading.kind !== 'buckets') return { ...base, verdict: 'inconclusive', reason: 'reading is not a histogram' };
      return latency(spec, state, reading, ctx);
    default:
      if (reading.kind !== 'value') return { ...base, verdict: 'inconclusive', reason: 'reading is not a value' };
      return stateCheck(spec, state, reading.value);
  }
}

function errorRate(spec: Extract<CheckSpec, { type: 'error-rate' }>, state: CheckState, reading: { kind: 'counts'; total: number; errors: number }, ctx: EvaluationContext): CheckResult {
  const base = { name: spec.name, type: spec.type } as const;
  const prev = state.prev?.kind === 'counts' ? state.prev : undefined;
  state.prev = reading;
  if (!prev || state.start?.kind !== 'counts') {
    state.start = reading;
    return { ...base, verdict: 'inconclusive', reason: 'first reading: counting from here' };
  }
  const n = counterDelta(reading.total, prev.total);
  const x = Math.min(n, counterDelta(reading.errors, prev.errors));
  const requests = counterDelta(reading.total, state.start.total);
  const errors = Math.min(requests, counterDelta(reading.errors, state.start.errors));
  const rate = requests > 0 ? errors / requests : undefined;

  // The baseline raises the healthy level when the old release already erred more than the
  // target (a release no worse than its predecessor is not blamed for it), never above half the limit.
  const baselineRate = ctx.baseline?.errorRate;
  const params = errorRateParams({ target: spec.target, limit: spec.limit, baselineRate: baselineRate !== undefined ? Math.min(baselineRate, spec.limit / 2) : undefined, alpha: ctx.alpha, beta: ctx.beta, minSamples: ctx.minRequests });
  const p0 = params.p0;
  const step = sprtStep(params, state.sprt ?? { llr: 0, n: 0, x: 0, ticks: 0 }, n, x);
  state.sprt = step.state;
  const { upper, lower } = sprtThresholds(params);
  const evidence: Evidence = { value: rate, threshold: spec.limit, baseline: baselineRate, requests, errors, llr: step.state.llr, upper, lower, p0, p1: spec.limit };
  const pct = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v * 100).toFixed(2)}%`);

  if (step.verdict === 'regression') {
    return { ...base, verdict: 'fail', value: rate, evidence: { ...evidence, llr: step.llr }, reason: `error rate ${pct(rate)} over ${requests} requests: the sequential test favours >= ${pct(spec.limit)} over ${pct(p0)} (log-likelihood ratio ${step.llr.toFixed(2)} >= ${upper.toFixed(2)})` };
  }
  if (step.verdict === 'healthy') state.healthySeen = true;
  if (step.verdict === 'inconclusive' || requests < ctx.minRequests) {
    return { ...base, verdict: 'inconclusive', value: rate, evidence, reason: n === 0 ? 'no traffic since the last reading' : `too little traffic so far (${requests} < ${ctx.minRequests} requests)` };
  }
  const warning = rate !== undefined && rate > spec.target ? `error rate ${pct(rate)} is above the ${pct(spec.target)} target` : undefined;
  return { ...base, verdict: 'pass', value: rate, evidence, reason: `error rate ${pct(rate)} over ${requests} requests`, ...(warning ? { warning } : {}) };
}

function latency(spec: Extract<CheckSpec, { type: 'latency' }>, state: CheckState, reading: { kind: 'buckets'; buckets: Bucket[] }, ctx: EvaluationContext): CheckResult {
  const base = { name: spec.name, type: spec.type } as const;
  const prev = state.prev?.kind === 'buckets' ? state.prev : undefined;
  state.prev = reading;
  if (!prev || state.start?.kind !== 'buckets') {
    state.start = reading;
    return { ...base, verdict: 'inconclusive', reason: 'first reading: counting from here' };
  }
  const sinceStart = diffBuckets(reading.buckets, state.start.buckets);
  const requests = sinceStart.at(-1)?.count ?? 0;
  const quantile = bucketQuantile(spec.quantile, sinceStart);
  const label = `p${Math.round(spec.quantile * 100)}`;
  const ms = (s: number | undefined) => (s === undefined ? 'n/a' : `${(s * 1000).toFixed(1)}ms`);
  if (requests < ctx.minRequests || quantile === undefined) {
    return { ...base, verdict: 'inconclusive', value: quantile, reason: `too little traffic so far (${requests} < ${ctx.minRequests} requests)` };
  }
  const maxSeconds = spec.max === undefined ? undefined : spec.max / 1000;
  const evidence: Evidence = { value: quantile, requests, baseline: ctx.baseline?.quantile };

  const b = ctx.baseline;
  const test = b?.buckets && b.quantile !== undefined ? latencyTest(spec, b.buckets, ctx) : undefined;
  if (b?.quantile !== undefined && test) {
    const delta = diffBuckets(reading.buckets, prev.buckets);
    const { above, total } = countAbove(delta, test.boundSeconds);
    const params = test.params;
    const p0 = params.p0;
    const step = sprtStep(params, state.sprt ?? { llr: 0, n: 0, x: 0, ticks: 0 }, total, above);
    state.sprt = step.state;
    const { upper, lower } = sprtThresholds(params);
    Object.assign(evidence, { llr: step.state.llr, upper, lower, p0, p1: params.p1, threshold: test.boundSeconds });
    const increase = quantile / b.quantile - 1;
    if (step.verdict === 'regression') {
      return { ...base, verdict: 'fail', value: quantile, evidence: { ...evidence, llr: step.llr }, reason: `${label} ${ms(quantile)} vs baseline ${ms(b.quantile)} (+${(increase * 100).toFixed(0)}%): the share of requests slower than ${ms(test.boundSeconds)} is where a +${(spec.rollbackIncrease * 100).toFixed(0)}% slowdown puts it (${(params.p1 * 100).toFixed(1)}%), not where +20% would (${(p0 * 100).toFixed(1)}%)` };
    }
    if (step.verdict === 'healthy') state.healthySeen = true;
    if (maxSeconds !== undefined && quantile > maxSeconds && ctx.role === 'soak') {
      return { ...base, verdict: 'fail', value: quantile, evidence: { ...evidence, threshold: maxSeconds }, reason: `${label} ${ms(quantile)} exceeds ${ms(maxSeconds)}` };
    }
    const warning = increase > spec.maxIncrease ? `${label} ${ms(quantile)} is ${(increase * 100).toFixed(0)}% over the baseline ${ms(b.quantile)} (${increase < 0.2 ? 'under 20%: monitor and defer' : 'degraded'})` : undefined;
    return { ...base, verdict: 'pass', value: quantile, evidence, reason: `${label} ${ms(quantile)} (baseline ${ms(b.quantile)})`, ...(warning ? { warning } : {}) };
  }

  if (maxSeconds !== undefined && quantile > maxSeconds) {
    if (ctx.role === 'soak') return { ...base, verdict: 'fail', value: quantile, evidence: { ...evidence, threshold: maxSeconds }, reason: `${label} ${ms(quantile)} exceeds ${ms(maxSeconds)}` };
    return { ...base, verdict: 'pass', value: quantile, evidence, reason: `${label} ${ms(quantile)}`, warning: `${label} ${ms(quantile)} exceeds ${ms(maxSeconds)}` };
  }
  state.healthySeen = true;
  return { ...base, verdict: 'pass', value: quantile, evidence, reason: `${label} ${ms(quantile)}${maxSeconds !== undefined ? ` (bound ${ms(maxSeconds)})` : ''}; no baseline to compare with` };
}

function stateCheck(spec: Extract<CheckSpec, { type: 'gauge' | 'http-json' | 'redis' | 'promql' }>, state: CheckState, value: string | number | boolean): CheckResult {
  const base = { name: spec.name, type: spec.type } as const;
  const problems: string[] = [];
  if (spec.equals !== undefined && String(value) !== String(spec.equals)) problems.push(`is ${JSON.stringify(value)}, expected ${JSON.stringify(spec.equals)}`);
  const num = typeof value === 'number' ? value : Number(value);
  if (spec.max !== undefined && !(num <= spec.max)) problems.push(`is ${value}, above the maximum ${spec.max}`);
  if (spec.min !== undefined && !(num >= spec.min)) problems.push(`is ${value}, below the minimum ${spec.min}`);
  const threshold = spec.equals ?? spec.max ?? spec.min;
  if (problems.length === 0) {
    state.consecutiveFails = 0;
    state.healthySeen = true;
    return { ...base, verdict: 'pass', value, evidence: { value, threshold }, reason: `${describeTarget(spec)} is ${JSON.stringify(value)}` };
  }
  state.consecutiveFails += 1;
  const reason = `${describeTarget(spec)} ${problems.join('; ')}`;
  if (state.consecutiveFails >= spec.consecutive) return { ...base, verdict: 'fail', value, evidence: { value, threshold }, reason };
  return { ...base, verdict: 'inconclusive', value, evidence: { value, threshold }, reason: `${reason} (${state.consecutiveFails} of ${spec.consecutive} readings)` };
}

function describeTarget(spec: Extract<CheckSpec, { type: 'gauge' | 'http-json' | 'redis' | 'promql' }>): string {
  switch (spec.type) {
    case 'gauge':
      return `gauge ${spec.metric}${spec.select ? `{${spec.select}}` : ''}`;
    case 'http-json':
      return `${spec.url} field ${spec.path}`;
    case 'redis':
      return `redis key ${spec.key}`;
    case 'promql':
      return `query ${spec.query}`;
  }
}

function appendHistory(history: VerdictRun[], verdict: Verdict, at: string): void {
  const last = history.at(-1);
  if (last && last.verdict === verdict) {
    last.to = at;
    last.count += 1;
    return;
  }
  history.push({ verdict, from: at, to: at, count: 1 });
  if (history.length > HISTORY_LIMIT) history.splice(0, history.length - HISTORY_LIMIT);
}

/** The baseline for a latency check from a cumulative histogram of the previous release. */
export function latencyBaseline(buckets: Bucket[], quantile: number, minRequests: number): CheckBaseline | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  const q = bucketQuantile(quantile, buckets);
  if (total < minRequests || q === undefined) return undefined;
  const bound = buckets.find((b) => b.le >= q && Number.isFinite(b.le))?.le;
  return { quantile: q, requests: total, buckets, ...(bound !== undefined ? { boundSeconds: bound } : {}) };
}

export function errorRateBaseline(counts: { total: number; errors: number }, minRequests: number): CheckBaseline | undefined {
  if (counts.total < minRequests) return undefined;
  return { errorRate: counts.errors / counts.total, requests: counts.total };
}
