import type { CheckSpec } from '../../config/schema.js';
import { latencyBaselineProblem, repairBaseline } from './baseline.js';
import { bucketQuantile, countAbove, diffBuckets, type Bucket } from './histogram.js';
import { latencyShiftParams, sprtStep, sprtThresholds, type LatencyTest, type SprtState } from './sprt.js';
import type { CheckBaseline, CheckResult, CheckState, EvaluationContext, Evidence } from './types.js';

type LatencySpec = Extract<CheckSpec, { type: 'latency' }>;

/** Slowdowns up to this much are tolerated by the rollback test (seed: under 20% monitor and defer). */
export const LATENCY_TOLERATED = 0.2;

const ms = (s: number | undefined) => (s === undefined ? 'n/a' : `${(s * 1000).toFixed(1)}ms`);
const signedPct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(0)}%`;
const fresh = (): SprtState => ({ llr: 0, n: 0, x: 0, ticks: 0 });

/** A share test for a latency shift, from the baseline histogram's shape (docs/analysis.md), or why there is none. */
function shiftTest(buckets: Bucket[], quantile: number, tolerated: number, rollback: number, ctx: EvaluationContext): LatencyTest | string {
  try {
    return latencyShiftParams({ buckets, quantile, tolerated, rollback, alpha: ctx.alpha, beta: ctx.beta, minSamples: ctx.minRequests });
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Three rules (docs/analysis.md): `max` bounds the quantile absolutely (fails a soak, warns in a
 * monitor); `maxIncrease` over the baseline fails a soak (sequential test, and the whole soak's
 * quantile at its end) and warns in a monitor ("monitor and defer"); `rollbackIncrease` is the
 * production trigger. Without a usable baseline the relative rules are inconclusive, and say why.
 */
export function latency(spec: LatencySpec, state: CheckState, reading: { kind: 'buckets'; buckets: Bucket[] }, ctx: EvaluationContext): CheckResult {
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
  if (requests < ctx.minRequests || quantile === undefined) {
    return { ...base, verdict: 'inconclusive', value: quantile, reason: `too little traffic so far (${requests} < ${ctx.minRequests} requests)` };
  }
  const maxSeconds = spec.max === undefined ? undefined : spec.max / 1000;
  const overMax = maxSeconds !== undefined && quantile > maxSeconds ? `${label} ${ms(quantile)} exceeds ${ms(maxSeconds)} (max)` : undefined;
  const evidence: Evidence = { value: quantile, requests, ...(maxSeconds !== undefined ? { threshold: maxSeconds } : {}) };
  if (overMax && ctx.role === 'soak') return { ...base, verdict: 'fail', value: quantile, evidence: { ...evidence, gate: 'max' }, reason: overMax };

  if (!ctx.baseline) {
    // The first release of an environment has nothing before it: only the absolute bound applies.
    state.healthySeen = true;
    return { ...base, verdict: 'pass', value: quantile, evidence, reason: `${label} ${ms(quantile)} over ${requests} requests${maxSeconds !== undefined ? ` (max ${ms(maxSeconds)})` : ''}; no previous release here, so only max applies`, ...(overMax ? { warning: overMax } : {}) };
  }
  const b = repairBaseline(ctx.baseline);
  const problem = latencyBaselineProblem(b);
  if (problem) return { ...base, verdict: 'inconclusive', value: quantile, evidence, reason: `${label} ${ms(quantile)} over ${requests} requests, but the baseline is unusable: ${problem}`, ...(overMax ? { warning: overMax } : {}) };
  return relative(spec, state, ctx, b as Required<Pick<CheckBaseline, 'quantile' | 'buckets'>> & CheckBaseline, { quantile, requests, label, delta: diffBuckets(reading.buckets, prev.buckets), evidence, overMax });
}

interface Measured {
  quantile: number;
  requests: number;
  label: string;
  delta: Bucket[];
  evidence: Evidence;
  overMax: string | undefined;
}

function relative(spec: LatencySpec, state: CheckState, ctx: EvaluationContext, b: Required<Pick<CheckBaseline, 'quantile' | 'buckets'>> & CheckBaseline, m: Measured): CheckResult {
  const base = { name: spec.name, type: spec.type } as const;
  const { quantile, label } = m;
  const increase = quantile / b.quantile - 1;
  const evidence: Evidence = { ...m.evidence, baseline: b.quantile, baselineRequests: b.requests, increase };
  const versus = `${label} ${ms(quantile)} over ${m.requests} requests vs baseline ${ms(b.quantile)} over ${b.requests} requests (${signedPct(increase)})`;
  const warnings = m.overMax ? [m.overMax] : [];

  // Production trigger: H0 at the tolerated +20%, H1 at rollbackIncrease.
  const rollbackTest = shiftTest(b.buckets, spec.quantile, LATENCY_TOLERATED, spec.rollbackIncrease, ctx);
  let rollbackFail: CheckResult | undefined;
  if (typeof rollbackTest !== 'string') {
    const { above, total } = countAbove(m.delta, rollbackTest.boundSeconds);
    const step = sprtStep(rollbackTest.params, state.sprt ?? fresh(), total, above);
    state.sprt = step.state;
    const { upper, lower } = sprtThresholds(rollbackTest.params);
    Object.assign(evidence, { llr: step.llr, wald: step.state.wald ?? 0, upper, lower, p0: rollbackTest.params.p0, p1: rollbackTest.params.p1, threshold: rollbackTest.boundSeconds });
    if (step.verdict === 'regression') {
      rollbackFail = { ...base, verdict: 'fail', value: quantile, evidence: { ...evidence, gate: 'rollbackIncrease' }, reason: `${versus}: the share of requests slower than ${ms(rollbackTest.boundSeconds)} is where a +${(spec.rollbackIncrease * 100).toFixed(0)}% slowdown puts it (${(rollbackTest.params.p1 * 100).toFixed(1)}%), not where +${LATENCY_TOLERATED * 100}% would (${(rollbackTest.params.p0 * 100).toFixed(1)}%) (rollbackIncrease)` };
      if (ctx.role === 'monitor') return rollbackFail;
    }
    if (step.verdict === 'healthy') state.healthySeen = true;
  }

  // The gate: H0 at the baseline, H1 at maxIncrease over it. In a soak it is the rule that fails
  // the release; a slowdown already past rollbackIncrease is past it too, and named as such.
  const gateTest = shiftTest(b.buckets, spec.quantile, 0, spec.maxIncrease, ctx);
  const overGate = increase > spec.maxIncrease ? `${versus}, more than the ${(spec.maxIncrease * 100).toFixed(0)}% allowed (maxIncrease)` : undefined;
  if (typeof gateTest !== 'string') {
    const { above, total } = countAbove(m.delta, gateTest.boundSeconds);
    const step = sprtStep(gateTest.params, state.gateSprt ?? fresh(), total, above);
    state.gateSprt = step.state;
    const gateEvidence = { ...evidence, gate: 'maxIncrease', llr: step.llr, p0: gateTest.params.p0, p1: gateTest.params.p1, upper: sprtThresholds(gateTest.params).upper, threshold: gateTest.boundSeconds };
    const message = `${versus}: the share of requests slower than ${ms(gateTest.boundSeconds)} is where a +${(spec.maxIncrease * 100).toFixed(0)}% slowdown puts it (${(gateTest.params.p1 * 100).toFixed(1)}% vs the baseline's ${(gateTest.params.p0 * 100).toFixed(1)}%, log-likelihood ratio ${step.llr.toFixed(2)}) (maxIncrease)`;
    if (step.verdict === 'regression') {
      if (ctx.role === 'soak') return { ...base, verdict: 'fail', value: quantile, evidence: gateEvidence, reason: message };
      warnings.push(`${message}${increase < LATENCY_TOLERATED ? '; under 20%: monitor and defer' : ''}`);
    } else if (rollbackFail) return soakRollbackFail(spec, rollbackFail, versus);
  } else if (rollbackFail) return soakRollbackFail(spec, rollbackFail, versus);
  if (overGate && ctx.role === 'monitor' && !warnings.some((w) => w.includes('(maxIncrease)'))) warnings.push(`${overGate}${increase < LATENCY_TOLERATED ? '; under 20%: monitor and defer' : '; degraded'}`);

  if (typeof rollbackTest === 'string' && ctx.role === 'monitor') {
    // Without the rollback test a monitor cannot decide on rollbackIncrease: it says so, rather than passing.
    return { ...base, verdict: 'inconclusive', value: quantile, evidence, reason: `${versus}; rollbackIncrease cannot be tested on this baseline: ${rollbackTest}`, ...(warnings.length ? { warning: warnings.join('; ') } : {}) };
  }
  state.healthySeen ||= typeof rollbackTest === 'string';
  return {
    ...base, verdict: 'pass', value: quantile, evidence, reason: versus,
    ...(warnings.length ? { warning: warnings.join('; ') } : {}),
    ...(overGate && ctx.role === 'soak' ? { failsAtEnd: overGate } : {}),
  };
}

/** In a soak a slowdown past rollbackIncrease fails too; when that is past maxIncrease, the gate is named. */
function soakRollbackFail(spec: LatencySpec, rollbackFail: CheckResult, versus: string): CheckResult {
  if (spec.rollbackIncrease < spec.maxIncrease) return rollbackFail;
  return { ...rollbackFail, evidence: { ...rollbackFail.evidence, gate: 'maxIncrease' }, reason: `${versus}: past rollbackIncrease ${(spec.rollbackIncrease * 100).toFixed(0)}% and so past the ${(spec.maxIncrease * 100).toFixed(0)}% allowed (maxIncrease)` };
}
