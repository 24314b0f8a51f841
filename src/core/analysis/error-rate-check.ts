import type { CheckSpec } from '../../config/schema.js';
import { errorRateBaselineProblem } from './baseline.js';
import { counterDelta } from './histogram.js';
import { ERROR_RATE_FLOOR, errorRateParams, sprtStep, sprtThresholds, type SprtParams, type SprtState } from './sprt.js';
import type { CheckResult, CheckState, EvaluationContext, Evidence } from './types.js';

type ErrorRateSpec = Extract<CheckSpec, { type: 'error-rate' }>;
const pct = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v * 100).toFixed(2)}%`);
const fresh = (): SprtState => ({ llr: 0, n: 0, x: 0, ticks: 0 });

/**
 * The baseline-relative gate: H0 the previous release's rate, H1 that rate × (1 + maxIncrease).
 * Undefined when there is nothing to test (no maxIncrease, no usable baseline, or H1 not below the
 * absolute limit, which the rollback test already covers).
 */
function gateParams(spec: ErrorRateSpec, baselineRate: number | undefined, ctx: EvaluationContext): SprtParams | undefined {
  if (spec.maxIncrease === undefined || baselineRate === undefined) return undefined;
  const p0 = Math.max(ERROR_RATE_FLOOR, baselineRate);
  const p1 = baselineRate * (1 + spec.maxIncrease);
  if (!(p1 > p0 && p1 < spec.limit)) return undefined;
  return { p0, p1, alpha: ctx.alpha, beta: ctx.beta, minSamples: ctx.minRequests };
}

export function errorRate(spec: ErrorRateSpec, state: CheckState, reading: { kind: 'counts'; total: number; errors: number }, ctx: EvaluationContext): CheckResult {
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

  const b = ctx.baseline;
  const baselineProblem = b ? errorRateBaselineProblem(b) : undefined;
  const baselineRate = b && !baselineProblem ? b.errorRate : undefined;
  // The baseline raises the healthy level when the old release already erred more than the
  // target (a release no worse than its predecessor is not blamed for it), never above half the limit.
  const params = errorRateParams({ target: spec.target, limit: spec.limit, baselineRate: baselineRate !== undefined ? Math.min(baselineRate, spec.limit / 2) : undefined, alpha: ctx.alpha, beta: ctx.beta, minSamples: ctx.minRequests });
  const step = sprtStep(params, state.sprt ?? fresh(), n, x);
  state.sprt = step.state;
  const { upper, lower } = sprtThresholds(params);
  const evidence: Evidence = { value: rate, threshold: spec.limit, baseline: baselineRate, baselineRequests: b?.requests, requests, errors, llr: step.state.llr, wald: step.state.wald ?? 0, upper, lower, p0: params.p0, p1: spec.limit };

  if (step.verdict === 'regression') {
    return { ...base, verdict: 'fail', value: rate, evidence: { ...evidence, llr: step.llr, gate: 'limit' }, reason: `error rate ${pct(rate)} over ${requests} requests: the sequential test favours >= ${pct(spec.limit)} over ${pct(params.p0)} (log-likelihood ratio ${step.llr.toFixed(2)} >= ${upper.toFixed(2)})` };
  }
  if (step.verdict === 'healthy') state.healthySeen = true;

  const relative = relativeGate(spec, state, ctx, baselineRate, n, x, rate, requests);
  if (relative.fail) return { ...base, verdict: 'fail', value: rate, evidence: { ...evidence, ...relative.evidence }, reason: relative.fail };
  if (spec.maxIncrease !== undefined && baselineProblem && ctx.role === 'soak') {
    return { ...base, verdict: 'inconclusive', value: rate, evidence, reason: `error rate ${pct(rate)} over ${requests} requests, but maxIncrease cannot be judged: baseline unusable: ${baselineProblem}` };
  }
  const endRules = requests < ctx.minRequests ? [] : [rate !== undefined && rate > spec.target ? `error rate ${pct(rate)} over ${requests} requests is above its ${pct(spec.target)} target` : undefined, relative.atEnd].filter(Boolean);
  if (step.verdict === 'inconclusive' || requests < ctx.minRequests) {
    return { ...base, verdict: 'inconclusive', value: rate, evidence, reason: n === 0 ? 'no traffic since the last reading' : `too little traffic so far (${requests} < ${ctx.minRequests} requests)`, ...(endRules.length ? { failsAtEnd: endRules.join('; ') } : {}) };
  }
  const warnings = [rate !== undefined && rate > spec.target ? `error rate ${pct(rate)} is above the ${pct(spec.target)} target` : undefined, relative.warning].filter(Boolean);
  return {
    ...base, verdict: 'pass', value: rate, evidence: { ...evidence, ...relative.evidence },
    reason: `error rate ${pct(rate)} over ${requests} requests${baselineRate !== undefined ? ` (baseline ${pct(baselineRate)} over ${b!.requests} requests)` : ''}`,
    ...(warnings.length ? { warning: warnings.join('; ') } : {}),
    ...(endRules.length ? { failsAtEnd: endRules.join('; ') } : {}),
  };
}

/** maxIncrease over the baseline's rate: a gate in a soak, a warning in a monitor. */
function relativeGate(spec: ErrorRateSpec, state: CheckState, ctx: EvaluationContext, baselineRate: number | undefined, n: number, x: number, rate: number | undefined, requests: number): { fail?: string; warning?: string; atEnd?: string; evidence?: Evidence } {
  if (spec.maxIncrease === undefined || baselineRate === undefined || rate === undefined) return {};
  const bound = baselineRate * (1 + spec.maxIncrease);
  const increase = baselineRate > 0 ? rate / baselineRate - 1 : undefined;
  const over = `error rate ${pct(rate)} over ${requests} requests is above the baseline ${pct(baselineRate)} × ${(1 + spec.maxIncrease).toFixed(2)} = ${pct(bound)} (maxIncrease)`;
  const params = gateParams(spec, baselineRate, ctx);
  let evidence: Evidence = { increase, gate: 'maxIncrease' };
  if (params) {
    const step = sprtStep(params, state.gateSprt ?? fresh(), n, x);
    state.gateSprt = step.state;
    // Under gate* keys: llr, lower and upper stay the limit test's on every reading (a chart draws one
    // statistic against its bounds); only the reading the gate fails carries the gate's test as llr.
    const gate = { llr: step.llr, p0: params.p0, p1: params.p1, upper: sprtThresholds(params).upper };
    evidence = { ...evidence, gateLlr: gate.llr, gateP0: gate.p0, gateP1: gate.p1, gateUpper: gate.upper };
    if (step.verdict === 'regression') {
      const message = `${over}: the sequential test favours ${pct(params.p1)} over ${pct(params.p0)} (log-likelihood ratio ${step.llr.toFixed(2)})`;
      return ctx.role === 'soak' ? { fail: message, evidence: { ...evidence, ...gate } } : { warning: message, evidence };
    }
  }
  // Over the whole soak the rule is also read literally; a small baseline rate is floored so a
  // handful of errors on a quiet baseline is not a regression.
  const exceeded = rate > Math.max(bound, ERROR_RATE_FLOOR) && requests >= ctx.minRequests;
  return exceeded ? { atEnd: over, ...(ctx.role === 'monitor' ? { warning: over } : {}), evidence } : { evidence };
}
