/**
 * Sequential test on Bernoulli counts (errors among requests, or requests slower than the
 * baseline's p95 bucket bound), in Page's CUSUM form so it can watch a release for hours.
 * The statistics, the defaults and the evidence for them are in docs/analysis.md; the
 * benchmark that calibrates them is bench/detection.bench.mjs.
 *
 * Pure and serializable: the caller passes per-tick deltas in and stores the returned state.
 */

export interface SprtParams {
  /** H0: the healthy rate. */
  p0: number;
  /** H1: the rate that must roll back (p1 > p0). */
  p1: number;
  /**
   * Wald's type I error of one test run. In the restarted (CUSUM) form it bounds false alarms per
   * tick instead: at a true rate <= p0, T ticks that carried traffic alarm with probability at most
   * T·alpha/(1 - beta), whatever the request rate (docs/analysis.md).
   */
  alpha: number;
  /** Wald's type II error at p1. */
  beta: number;
  /** Requests needed in total before any verdict other than 'inconclusive'. */
  minSamples: number;
}

export interface SprtState {
  /** Page's CUSUM statistic max(0, S + llr); latched once it reaches the upper threshold. */
  llr: number;
  /** Wald's unclamped sum since H0 was last accepted; only feeds the 'healthy' verdict. Absent means 0. */
  wald?: number;
  /** Requests seen. */
  n: number;
  /** Errors (or slow requests) seen. */
  x: number;
  /** Ticks that carried traffic. */
  ticks: number;
}

export type SprtVerdict = 'regression' | 'healthy' | 'continue' | 'inconclusive';

export interface SprtStepResult {
  state: SprtState;
  verdict: SprtVerdict;
  /** The CUSUM statistic after this tick, the number compared with the upper threshold. */
  llr: number;
}

/**
 * Per tick, not per run (see SprtParams.alpha): a 30-minute watch at 1 s ticks bounds its false
 * rollbacks at 1.8 in a million per test. The margin pays for what the bound does not cover,
 * rates that wander above p0: there the benchmark finds 1e-6 too loose (docs/analysis.md).
 */
export const DEFAULT_ALPHA = 1e-9;
export const DEFAULT_BETA = 0.01;
export const DEFAULT_MIN_SAMPLES = 20;
/** Seed: a healthy error rate is below 1%. */
export const DEFAULT_ERROR_TARGET = 0.01;
/** Seed: an error rate above 5% rolls back. */
export const DEFAULT_ERROR_LIMIT = 0.05;
/** p0 never goes below this, or a single error would weigh ln(p1/p0) without bound. */
export const ERROR_RATE_FLOOR = 0.001;
/** p0 of the latency test never goes below this, for the same reason as ERROR_RATE_FLOOR. */
export const LATENCY_SHARE_FLOOR = 0.001;
/** Seed: a latency degradation below 20% only warns; H0 of the latency test is "+20%". */
export const DEFAULT_LATENCY_TOLERATED = 0.2;
/** Seed: latency 50% over the baseline rolls back; H1 of the latency test is "+50%". */
export const DEFAULT_LATENCY_ROLLBACK = 0.5;

const EMPTY: SprtState = Object.freeze({ llr: 0, n: 0, x: 0, ticks: 0 });

export function initialSprtState(): SprtState {
  return { ...EMPTY };
}

/** A = ln((1 - beta) / alpha) rejects H0 (regression); B = ln(beta / (1 - alpha)) accepts it. */
export function sprtThresholds(p: SprtParams): { upper: number; lower: number } {
  validateParams(p);
  return { upper: Math.log((1 - p.beta) / p.alpha), lower: Math.log(p.beta / (1 - p.alpha)) };
}

/** The log-likelihood ratio one error and one success add. */
export function llrIncrements(p: SprtParams): { error: number; success: number } {
  return { error: Math.log(p.p1 / p.p0), success: Math.log((1 - p.p1) / (1 - p.p0)) };
}

/** The rate at which the log-likelihood ratio drifts neither up nor down: above it the test alarms eventually. */
export function indifferenceRate(p: SprtParams): number {
  validateParams(p);
  const { error, success } = llrIncrements(p);
  return -success / (error - success);
}

/**
 * One evaluation tick: n requests and x errors since the previous tick.
 * A tick without traffic is no evidence either way: the state is returned unchanged, 'inconclusive'.
 */
export function sprtStep(p: SprtParams, s: SprtState, n: number, x: number): SprtStepResult {
  const { upper, lower } = sprtThresholds(p);
  if (!(Number.isFinite(n) && Number.isFinite(x) && n >= 0 && x >= 0 && x <= n)) {
    throw new RangeError(`sprtStep needs 0 <= x <= n, got n=${n}, x=${x}`);
  }
  // Latched so that a regression, once decided, survives a resume and later quiet ticks.
  if (s.llr >= upper && s.n >= p.minSamples) return { state: s, verdict: 'regression', llr: s.llr };
  if (n === 0) return { state: s, verdict: 'inconclusive', llr: s.llr };

  const inc = llrIncrements(p);
  const delta = x * inc.error + (n - x) * inc.success;
  // Page's restart at 0 rather than at B: the walk toward A starts afresh after any healthy
  // stretch, so hours of good traffic do not bank credit that a regression must first burn.
  const llr = Math.max(0, s.llr + delta);
  let wald = (s.wald ?? 0) + delta;
  const total = s.n + n;
  let verdict: SprtVerdict;
  if (total < p.minSamples) verdict = 'inconclusive';
  else if (llr >= upper) verdict = 'regression';
  else if (wald <= lower) {
    verdict = 'healthy';
    wald = 0;
  } else verdict = 'continue';
  return { state: { llr, wald, n: total, x: s.x + x, ticks: s.ticks + 1 }, verdict, llr };
}

/**
 * Wald's approximation of the observations needed to alarm when the true rate is trueP:
 * E[N] = (L·B + (1 − L)·A) / μ with μ the expected llr per observation. The CUSUM form never
 * accepts H0 (a crossing of B restarts the walk), so L = 0 and E[N] ≈ A / μ, ignoring the
 * overshoot past A (which lengthens it by at most one tick's llr) and the clamp at 0 (which only
 * shortens it). Infinity when μ <= 0: the test then alarms only by chance.
 */
export function expectedSamplesToDetect(p: SprtParams, trueP: number): number {
  const { upper } = sprtThresholds(p);
  if (!(trueP >= 0 && trueP <= 1)) throw new RangeError(`trueP must be in [0, 1], got ${trueP}`);
  const inc = llrIncrements(p);
  const drift = trueP * inc.error + (1 - trueP) * inc.success;
  return drift > 0 ? upper / drift : Infinity;
}

export interface TestOptions {
  alpha?: number;
  beta?: number;
  minSamples?: number;
}

/**
 * Error-rate test: H1 is the rollback limit; H0 is the healthy target, raised to the
 * pre-deploy baseline when the old release already erred more, so a release no worse than its
 * predecessor is not blamed. Not lowered to a quieter baseline: a baseline of 0.1% would put the
 * indifference rate near 1.3% and roll back releases far inside the 5% rule.
 */
export function errorRateParams(o: TestOptions & { baselineRate?: number | undefined; target?: number; limit?: number } = {}): SprtParams {
  const target = o.target ?? DEFAULT_ERROR_TARGET;
  const limit = o.limit ?? DEFAULT_ERROR_LIMIT;
  const p0 = Math.max(ERROR_RATE_FLOOR, target, o.baselineRate ?? 0);
  if (!(p0 < limit)) {
    throw new RangeError(`the healthy error rate ${p0} (target or baseline) is not below the rollback limit ${limit}: no test can tell a regression`);
  }
  return withDefaults({ p0, p1: limit }, o);
}

/** One bucket of a cumulative (Prometheus-style) histogram, +Inf last: requests that took at most `le` seconds. */
export interface CumulativeBucket {
  le: number;
  count: number;
}

export interface LatencyTest {
  params: SprtParams;
  /** Count the new release's requests slower than this (the baseline quantile's bucket edge). */
  boundSeconds: number;
  /** The baseline's own share above the bound, for reports. */
  baselineShare: number;
}

/**
 * Latency test on the share of requests slower than the baseline's p95 bucket edge b. Scaling
 * every latency by (1 + d) makes that share the baseline's share above b / (1 + d), so
 * H0 = share at the tolerated +20% and H1 = share at the +50% that rolls back, both read off the
 * baseline histogram. H0 sits at the tolerated degradation, not at the baseline, because the
 * restarted test's false-alarm guarantee holds only at rates up to p0 (docs/analysis.md).
 */
export function latencyShiftParams(o: TestOptions & { buckets: readonly CumulativeBucket[]; quantile?: number; tolerated?: number; rollback?: number }): LatencyTest {
  const quantile = o.quantile ?? 0.95;
  const tolerated = o.tolerated ?? DEFAULT_LATENCY_TOLERATED;
  const rollback = o.rollback ?? DEFAULT_LATENCY_ROLLBACK;
  if (!(quantile > 0 && quantile < 1)) throw new RangeError(`quantile must be in (0, 1), got ${quantile}`);
  if (!(tolerated >= 0 && rollback > tolerated)) throw new RangeError(`need 0 <= tolerated < rollback, got ${tolerated}, ${rollback}`);
  const survival = survivalFunction(o.buckets);
  const edge = o.buckets.find((b) => Number.isFinite(b.le) && survival(b.le) <= 1 - quantile);
  if (!edge) throw new RangeError(`the baseline p${Math.round(quantile * 100)} lies beyond the last finite bucket: no edge to count above`);
  const p0 = Math.max(LATENCY_SHARE_FLOOR, survival(edge.le / (1 + tolerated)));
  const p1 = Math.min(0.99, survival(edge.le / (1 + rollback)));
  if (!(p0 < p1)) {
    throw new RangeError(`the baseline histogram puts no requests between ${edge.le / (1 + rollback)}s and ${edge.le / (1 + tolerated)}s: +${rollback * 100}% cannot be told from +${tolerated * 100}% at the ${edge.le}s edge`);
  }
  return { params: withDefaults({ p0, p1 }, o), boundSeconds: edge.le, baselineShare: survival(edge.le) };
}

/**
 * The baseline's share of requests slower than t, between bucket edges. Log-linear in t
 * (an exponential tail inside each bucket), not linear as histogram_quantile assumes: a tail
 * bucket such as (0.1 s, 0.25 s] holds most of its requests near its lower edge, and the
 * linear reading overstates the share above 0.21 s about 3.5 times for the benchmark's latency.
 */
function survivalFunction(buckets: readonly CumulativeBucket[]): (t: number) => number {
  const last = buckets.at(-1);
  if (!last || last.le !== Infinity) throw new RangeError('the baseline histogram needs its +Inf bucket: the total comes from it');
  if (!(last.count > 0)) throw new RangeError('the baseline histogram has no requests');
  for (let i = 1; i < buckets.length; i++) {
    if (!(buckets[i]!.le > buckets[i - 1]!.le && buckets[i]!.count >= buckets[i - 1]!.count)) throw new RangeError('the baseline histogram must be cumulative, sorted by le');
  }
  const total = last.count;
  return (t) => {
    let lo = 0;
    let sLo = 1;
    for (const b of buckets) {
      const sHi = 1 - b.count / total;
      if (t <= b.le) {
        if (!Number.isFinite(b.le)) return sLo;
        const f = (t - lo) / (b.le - lo);
        return sHi > 0 && sLo > 0 ? sLo * Math.pow(sHi / sLo, f) : sLo + f * (sHi - sLo);
      }
      lo = b.le;
      sLo = sHi;
    }
    return sLo;
  };
}

function withDefaults(h: { p0: number; p1: number }, o: TestOptions): SprtParams {
  const params = { ...h, alpha: o.alpha ?? DEFAULT_ALPHA, beta: o.beta ?? DEFAULT_BETA, minSamples: o.minSamples ?? DEFAULT_MIN_SAMPLES };
  validateParams(params);
  return params;
}

function validateParams(p: SprtParams): void {
  if (!(p.p0 > 0 && p.p0 < p.p1 && p.p1 < 1)) throw new RangeError(`the test needs 0 < p0 < p1 < 1, got p0=${p.p0}, p1=${p.p1}`);
  if (!(p.alpha > 0 && p.beta > 0 && p.alpha + p.beta < 1)) throw new RangeError(`the test needs alpha, beta > 0 and alpha + beta < 1, got ${p.alpha}, ${p.beta}`);
  if (!(p.minSamples >= 0)) throw new RangeError(`minSamples must be >= 0, got ${p.minSamples}`);
}
