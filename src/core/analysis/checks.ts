import type { CheckSpec } from '../../config/schema.js';
import { errorRate } from './error-rate-check.js';
import { latency } from './latency-check.js';
import { DEFAULT_CONSECUTIVE_ERRORS, type CheckResult, type CheckState, type EvaluationContext, type Reading, type Verdict, type VerdictRun } from './types.js';

export * from './types.js';
export { errorRateBaseline, latencyBaseline } from './baseline.js';
export { LATENCY_TOLERATED } from './latency-check.js';

/**
 * One evaluation of one check. Pure: readings come in, a new persisted state and a result go out.
 * A failed source is an error (counted; in a soak `consecutiveErrors` of them in a row fail the
 * check), never a number.
 */
const HISTORY_LIMIT = 200;

export function initialCheckState(name: string): CheckState {
  return { name, consecutiveFails: 0, consecutiveErrors: 0, errorCount: 0, healthySeen: false, history: [] };
}

export function evaluateCheck(spec: CheckSpec, previous: CheckState | undefined, reading: Reading, ctx: EvaluationContext): { state: CheckState; result: CheckResult } {
  const state: CheckState = structuredClone(previous ?? initialCheckState(spec.name));
  const result = reading.kind === 'error' ? sourceError(spec, state, reading.reason, ctx) : { ...evaluate(spec, state, reading, ctx), errors: { consecutive: (state.consecutiveErrors = 0), total: state.errorCount ?? 0 } };
  appendHistory(state.history, result.verdict, ctx.at);
  return { state, result };
}

function sourceError(spec: CheckSpec, state: CheckState, reason: string, ctx: EvaluationContext): CheckResult {
  const inARow = (state.consecutiveErrors = (state.consecutiveErrors ?? 0) + 1);
  const total = (state.errorCount = (state.errorCount ?? 0) + 1);
  const limit = ctx.consecutiveErrors ?? DEFAULT_CONSECUTIVE_ERRORS;
  const base = { name: spec.name, type: spec.type, errors: { consecutive: inARow, total } };
  if (ctx.role === 'soak' && inARow >= limit) {
    return { ...base, verdict: 'fail', evidence: { gate: 'consecutiveErrors', threshold: limit, value: inARow }, reason: `the source failed ${inARow} times in a row (consecutiveErrors ${limit}): ${reason}` };
  }
  return { ...base, verdict: 'error', reason: `source error (${inARow} in a row, ${total} in all): ${reason}` };
}

function evaluate(spec: CheckSpec, state: CheckState, reading: Exclude<Reading, { kind: 'error' }>, ctx: EvaluationContext): CheckResult {
  const base = { name: spec.name, type: spec.type };
  if (spec.type === 'promql' && reading.kind === 'no-data' && reading.empty) return emptyResult(spec, state, reading.reason);
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

/** What an empty PromQL result means is the check's to say (`empty:`); by default it is no evidence. */
function emptyResult(spec: Extract<CheckSpec, { type: 'promql' }>, state: CheckState, reason: string): CheckResult {
  const base = { name: spec.name, type: spec.type } as const;
  const empty = spec.empty ?? 'inconclusive';
  if (typeof empty === 'number') return stateCheck(spec, state, empty, ` (empty result read as ${empty})`);
  if (empty === 'pass') {
    state.consecutiveFails = 0;
    state.healthySeen = true;
    return { ...base, verdict: 'pass', evidence: { gate: 'empty' }, reason: `query ${spec.query} matched no series (empty: pass)` };
  }
  if (empty === 'fail') return { ...base, verdict: 'fail', evidence: { gate: 'empty' }, reason: `query ${spec.query} matched no series (empty: fail)` };
  return { ...base, verdict: 'inconclusive', reason: `no data: ${reason} (empty: inconclusive)` };
}

function stateCheck(spec: Extract<CheckSpec, { type: 'gauge' | 'http-json' | 'redis' | 'promql' }>, state: CheckState, value: string | number | boolean, note = ''): CheckResult {
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
    return { ...base, verdict: 'pass', value, evidence: { value, threshold }, reason: `${describeTarget(spec)} is ${JSON.stringify(value)}${note}` };
  }
  state.consecutiveFails += 1;
  const reason = `${describeTarget(spec)} ${problems.join('; ')}${note}`;
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
