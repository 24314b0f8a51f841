import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ALPHA,
  DEFAULT_BETA,
  errorRateParams,
  expectedSamplesToDetect,
  indifferenceRate,
  initialSprtState,
  latencyShiftParams,
  sprtStep,
  sprtThresholds,
  type SprtParams,
  type SprtState,
} from '../src/core/analysis/sprt.js';

// The worked example of docs/analysis.md: p0 = 1%, p1 = 5%, alpha = 0.001, beta = 0.01.
//   A = ln((1 - 0.01) / 0.001) = ln(990)              =  6.897705
//   B = ln(0.01 / (1 - 0.001)) = ln(0.01001001)       = -4.604170
//   one error   adds ln(0.05 / 0.01)   = ln(5)        =  1.609438
//   one success adds ln(0.95 / 0.99)   = ln(0.959596) = -0.041243
const P: SprtParams = { p0: 0.01, p1: 0.05, alpha: 0.001, beta: 0.01, minSamples: 20 };
const EMPTY: SprtState = { llr: 0, n: 0, x: 0, ticks: 0 };

describe('binomial SPRT, CUSUM form', () => {
  it('has the thresholds of the worked example', () => {
    const { upper, lower } = sprtThresholds(P);
    expect(upper).toBeCloseTo(6.897705, 6);
    expect(lower).toBeCloseTo(-4.60417, 5);
  });

  it('calls a regression after one tick of 10 errors in 100 requests', () => {
    // 10 · 1.609438 + 90 · (-0.041243) = 16.094379 - 3.711866 = 12.382513 >= 6.897705
    const step = sprtStep(P, EMPTY, 100, 10);
    expect(step.verdict).toBe('regression');
    expect(step.llr).toBeCloseTo(12.382513, 5);
    expect(step.state).toMatchObject({ n: 100, x: 10, ticks: 1 });
  });

  it('clamps the statistic at 0 and accepts H0 once Wald sum reaches B', () => {
    // 1 · 1.609438 + 99 · (-0.041243) = -2.473615: the CUSUM restarts at 0, Wald's sum is -2.47 > B.
    const first = sprtStep(P, EMPTY, 100, 1);
    expect(first.verdict).toBe('continue');
    expect(first.llr).toBe(0);
    expect(first.state.wald).toBeCloseTo(-2.473615, 5);
    // A second such tick: Wald's sum -4.947230 <= B = -4.604170 accepts H0, and its walk starts over.
    const second = sprtStep(P, first.state, 100, 1);
    expect(second.verdict).toBe('healthy');
    expect(second.state).toMatchObject({ llr: 0, wald: 0, n: 200, x: 2, ticks: 2 });
  });

  it('keeps watching after accepting H0: a later regression still alarms from 0', () => {
    let s = EMPTY;
    for (let i = 0; i < 100; i++) s = sprtStep(P, s, 100, 1).state; // 10,000 healthy requests
    expect(s.llr).toBe(0);
    // Only the 12.38 of the bad tick counts, not hours of banked credit.
    expect(sprtStep(P, s, 100, 10).verdict).toBe('regression');
  });

  it('decides nothing before minSamples requests, then decides on what it has', () => {
    // 10 errors in 10 requests: 10 · 1.609438 = 16.094379 >= A, but 10 < 20 requests.
    const early = sprtStep(P, EMPTY, 10, 10);
    expect(early.verdict).toBe('inconclusive');
    expect(early.llr).toBeCloseTo(16.094379, 5);
    // 10 clean requests: 16.094379 - 10 · 0.041243 = 15.681950 >= A, and now 20 requests.
    const next = sprtStep(P, early.state, 10, 0);
    expect(next.verdict).toBe('regression');
    expect(next.llr).toBeCloseTo(15.68195, 5);
  });

  it('treats a tick without traffic as no evidence: state unchanged, inconclusive', () => {
    const s = sprtStep(P, EMPTY, 100, 2).state;
    const quiet = sprtStep(P, s, 0, 0);
    expect(quiet.verdict).toBe('inconclusive');
    expect(quiet.state).toBe(s);
    expect(sprtStep(P, EMPTY, 0, 0)).toEqual({ state: EMPTY, verdict: 'inconclusive', llr: 0 });
  });

  it('latches a regression across later ticks, quiet or clean', () => {
    const bad = sprtStep(P, EMPTY, 100, 10).state;
    expect(sprtStep(P, bad, 1000, 0)).toEqual({ state: bad, verdict: 'regression', llr: bad.llr });
    expect(sprtStep(P, bad, 0, 0).verdict).toBe('regression');
  });

  it('stores as JSON and resumes exactly where it stopped', () => {
    let s = initialSprtState();
    for (const [n, x] of [[40, 1], [55, 2], [0, 0], [70, 3]] as const) s = sprtStep(P, s, n, x).state;
    const resumed = JSON.parse(JSON.stringify(s)) as SprtState;
    expect(resumed).toEqual(s);
    expect(sprtStep(P, resumed, 80, 6)).toEqual(sprtStep(P, s, 80, 6));
  });

  it('resumes a state stored without the Wald sum as if it were 0', () => {
    expect(sprtStep(P, { llr: 1, n: 50, x: 1, ticks: 3 }, 100, 1).state.wald).toBeCloseTo(-2.473615, 5);
  });

  it('refuses counts that cannot be and parameters that test nothing', () => {
    expect(() => sprtStep(P, EMPTY, 10, 11)).toThrow(RangeError);
    expect(() => sprtStep(P, EMPTY, -1, 0)).toThrow(RangeError);
    expect(() => sprtStep(P, EMPTY, Number.NaN, 0)).toThrow(RangeError);
    expect(() => sprtThresholds({ ...P, p1: 0.01 })).toThrow(RangeError);
    expect(() => sprtThresholds({ ...P, alpha: 0.5, beta: 0.5 })).toThrow(RangeError);
  });
});

describe('expected sample number (Wald, L = 0 in the restarted form)', () => {
  it('matches A / μ computed by hand', () => {
    // At 10% errors: μ = 0.10 · 1.609438 + 0.90 · (-0.041243) = 0.123825; E[N] = 6.897705 / 0.123825 = 55.705
    expect(expectedSamplesToDetect(P, 0.1)).toBeCloseTo(55.705, 2);
    // At p1 = 5%: μ = 0.05 · 1.609438 + 0.95 · (-0.041243) = 0.041291; E[N] = 167.051
    expect(expectedSamplesToDetect(P, 0.05)).toBeCloseTo(167.051, 2);
  });

  it('is Infinity where the log-likelihood ratio does not drift up', () => {
    // At p0: μ = 0.01 · 1.609438 + 0.99 · (-0.041243) = -0.024736
    expect(expectedSamplesToDetect(P, 0.01)).toBe(Infinity);
    // The indifference rate -s / (e - s) = 0.041243 / 1.650681 = 0.024985 is the boundary.
    expect(indifferenceRate(P)).toBeCloseTo(0.024985, 6);
    expect(expectedSamplesToDetect(P, 0.0249)).toBe(Infinity);
    expect(expectedSamplesToDetect(P, 0.0251)).toBeLessThan(Infinity);
  });
});

describe('parameters from configuration and baselines', () => {
  it('defaults: 1% vs 5%, A = ln(0.99 / 1e-9) = 20.713', () => {
    const p = errorRateParams();
    expect(p).toEqual({ p0: 0.01, p1: 0.05, alpha: DEFAULT_ALPHA, beta: DEFAULT_BETA, minSamples: 20 });
    expect(sprtThresholds(p).upper).toBeCloseTo(20.713216, 5);
  });

  it('raises p0 to a worse baseline, never lowers it below the target, refuses a baseline at the limit', () => {
    expect(errorRateParams({ baselineRate: 0.02 }).p0).toBe(0.02);
    expect(errorRateParams({ baselineRate: 0.0005 }).p0).toBe(0.01);
    expect(errorRateParams({ target: 0, baselineRate: 0 }).p0).toBe(0.001);
    expect(() => errorRateParams({ baselineRate: 0.06 })).toThrow(RangeError);
  });

  it('reads the latency hypotheses off the baseline histogram', () => {
    // Survival at the edges: S(0.1) = 0.4, S(0.25) = 0.04, S(0.5) = 0.005. The p95 edge is 0.25 s (S <= 0.05).
    const buckets = [
      { le: 0.1, count: 600 },
      { le: 0.25, count: 960 },
      { le: 0.5, count: 995 },
      { le: Infinity, count: 1000 },
    ];
    const t = latencyShiftParams({ buckets });
    expect(t.boundSeconds).toBe(0.25);
    expect(t.baselineShare).toBeCloseTo(0.04, 10);
    // H0, +20%: S(0.25 / 1.2 = 0.208333) = 0.4 · 0.1^((0.208333 - 0.1) / 0.15) = 0.4 · 0.1^0.722222 = 0.075829
    expect(t.params.p0).toBeCloseTo(0.075829, 5);
    // H1, +50%: S(0.25 / 1.5 = 0.166667) = 0.4 · 0.1^0.444444 = 0.143753
    expect(t.params.p1).toBeCloseTo(0.143753, 5);
    expect(t.params.alpha).toBe(DEFAULT_ALPHA);
  });

  it('refuses histograms it cannot read', () => {
    expect(() => latencyShiftParams({ buckets: [{ le: 0.1, count: 5 }] })).toThrow(/\+Inf/);
    expect(() => latencyShiftParams({ buckets: [{ le: 0.1, count: 5 }, { le: 0.2, count: 4 }, { le: Infinity, count: 6 }] })).toThrow(/cumulative/);
    expect(() => latencyShiftParams({ buckets: [{ le: 0.1, count: 50 }, { le: Infinity, count: 100 }] })).toThrow(/beyond the last finite bucket/);
    expect(() => latencyShiftParams({ buckets: [{ le: Infinity, count: 0 }] })).toThrow(/no requests/);
  });
});
