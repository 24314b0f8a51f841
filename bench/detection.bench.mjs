// Detection delay and false rollbacks of shipgate's sequential test against Flagger's default
// analysis and Argo Rollouts' documented example, on the same simulated per-second traffic.
// The model and the reasons for each constant are in docs/analysis.md ("Benchmark").
// Runs against dist/ (`npm run build`); `node bench/run.mjs detection` runs only this one.
import os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const RATES = [10, 50, 200];
const WINDOW_SECONDS = 30 * 60; // the "short" monitoring phase: error rate and latency vs baseline
const LONG_WINDOW_SECONDS = 4 * 3600; // the end of the medium phase, and of monitoring
const BASELINE_SECONDS = 30 * 60; // pre-deploy traffic that p0 is measured on
const HEALTHY_RUNS = 1000;
const REGRESSION_RUNS = 200;
const WARN_ONLY_RUNS = 500;
const SEED = 0x5eed;

// Traffic model. Error probability and latency wander with load: an AR(1) walk with a one-minute
// memory, clamped to +-1 and scaled to +-30% (errors) and +-5% (median latency), so healthy
// stretches at 1.3% errors last minutes, not one second.
const ERROR_RATE = 0.01;
const ERROR_WOBBLE = 0.3;
const LATENCY_WOBBLE = 0.05;
const WOBBLE_RHO = Math.exp(-1 / 60);
// A service whose median is 80 ms with sigma 0.5 has its p95 at 182 ms, so the baseline p95
// bucket of the Prometheus client's default buckets is (0.1, 0.25] and the test counts
// requests slower than 250 ms.
const LATENCY_MEDIAN = 0.08;
const LATENCY_SIGMA = 0.5;
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const SCENARIOS = [
  { id: 'healthy', label: 'healthy (1% errors +-30%, latency +-5%)', errorRate: ERROR_RATE, latencyFactor: 1, runs: HEALTHY_RUNS, seconds: LONG_WINDOW_SECONDS, healthy: true },
  { id: 'errors-5', label: 'errors 1% -> 5%', errorRate: 0.05, latencyFactor: 1, runs: REGRESSION_RUNS, seconds: LONG_WINDOW_SECONDS },
  { id: 'errors-10', label: 'errors 1% -> 10%', errorRate: 0.1, latencyFactor: 1, runs: REGRESSION_RUNS, seconds: LONG_WINDOW_SECONDS },
  { id: 'errors-2', label: 'errors 1% -> 2% (grey zone: above the 1% target, below the 5% limit)', errorRate: 0.02, latencyFactor: 1, runs: REGRESSION_RUNS, seconds: LONG_WINDOW_SECONDS, reportRollbacks: true },
  { id: 'latency-50', label: 'latency +50%', errorRate: ERROR_RATE, latencyFactor: 1.5, runs: REGRESSION_RUNS, seconds: LONG_WINDOW_SECONDS },
  { id: 'latency-20', label: 'latency +20% (warn only)', errorRate: ERROR_RATE, latencyFactor: 1.2, runs: REGRESSION_RUNS, seconds: LONG_WINDOW_SECONDS, reportRollbacks: true },
  { id: 'latency-10', label: 'latency +10% (warn only)', errorRate: ERROR_RATE, latencyFactor: 1.1, runs: WARN_ONLY_RUNS, seconds: LONG_WINDOW_SECONDS, reportRollbacks: true },
];

async function loadCore() {
  try {
    const sprt = await import(new URL('../dist/core/analysis/sprt.js', import.meta.url).href);
    const fixed = await import(new URL('../dist/core/analysis/fixed-interval.js', import.meta.url).href);
    return { sprt, fixed };
  } catch (err) {
    throw new Error(`dist/core/analysis is missing or stale; run \`npm run build\` first (${err.message})`);
  }
}

// ---- seeded randomness ------------------------------------------------------------------

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashSeed(...parts) {
  let h = 2166136261;
  for (const p of parts) for (const c of String(p)) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

function normalPair(rand) {
  const u = 1 - rand();
  const r = Math.sqrt(-2 * Math.log(u));
  const th = 2 * Math.PI * rand();
  return [r * Math.cos(th), r * Math.sin(th)];
}

function logFactorial(k) {
  if (k < 2) return 0;
  if (k < 20) {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  const n = k + 1; // Stirling series for lgamma(n)
  return (n - 0.5) * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * n) - 1 / (360 * n ** 3);
}

// Poisson arrivals: inversion for small means, Hörmann's PTRS (transformed rejection) above.
function poissonSampler(lambda) {
  if (lambda < 30) {
    const e = Math.exp(-lambda);
    return (rand) => {
      let k = 0;
      let p = e;
      let c = p;
      const u = rand();
      while (u > c && k < 1000) {
        k++;
        p *= lambda / k;
        c += p;
      }
      return k;
    };
  }
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  return (rand) => {
    for (;;) {
      const U = rand() - 0.5;
      const V = rand();
      const us = 0.5 - Math.abs(U);
      const k = Math.floor(((2 * a) / us + b) * U + lambda + 0.43);
      if (us >= 0.07 && V <= vr) return k;
      if (k < 0 || (us < 0.013 && V > us)) continue;
      if (Math.log(V) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k;
    }
  };
}

// Binomial by inversion (the means here are small); a normal approximation only for the large
// baseline windows, where n·p·(1−p) is in the thousands.
function binomial(rand, n, p) {
  if (n === 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rand, n, 1 - p);
  const q = 1 - p;
  if (n * p * q > 50) {
    const [z] = normalPair(rand);
    return Math.min(n, Math.max(0, Math.round(n * p + Math.sqrt(n * p * q) * z)));
  }
  const r = p / q;
  let pmf = q ** n;
  let cdf = pmf;
  const u = rand();
  let k = 0;
  while (u > cdf && k < n) {
    pmf *= (r * (n - k)) / (k + 1);
    k++;
    cdf += pmf;
  }
  return k;
}

// Upper tail of the standard normal (W. J. Cody's rational erfc via Numerical Recipes' erfcc; relative error < 1.2e-7).
function normalTail(z) {
  const x = z / Math.SQRT2;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.5 * ax);
  const erfc = t * Math.exp(-ax * ax - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return 0.5 * (x >= 0 ? erfc : 2 - erfc);
}

// ---- the latency model ------------------------------------------------------------------

const P95_Z = 1.6448536269514722;
const baselineP95 = LATENCY_MEDIAN * Math.exp(P95_Z * LATENCY_SIGMA);
const BOUND = BUCKETS.find((b) => b >= baselineP95);
/** Share of requests slower than `seconds` when every latency is multiplied by `factor`. */
const slowerThan = (seconds, factor) => normalTail(Math.log(seconds / (LATENCY_MEDIAN * factor)) / LATENCY_SIGMA);
const shareAbove = (factor) => slowerThan(BOUND, factor);

/** The old release's cumulative histogram over the baseline window: a multinomial draw over the buckets. */
function baselineHistogram(rand, requests) {
  const buckets = [];
  let below = 0;
  let massBelow = 0;
  for (const le of [...BUCKETS, Infinity]) {
    const mass = le === Infinity ? 1 : 1 - slowerThan(le, 1);
    const remaining = 1 - massBelow;
    const inBucket = remaining > 0 ? binomial(rand, requests - below, Math.min(1, (mass - massBelow) / remaining)) : 0;
    below += inBucket;
    massBelow = mass;
    buckets.push({ le, count: below });
  }
  return buckets;
}

// ---- one run ------------------------------------------------------------------------------

function simulateRun(core, scenario, rps, runIndex) {
  const { sprt, fixed } = core;
  const rand = mulberry32(hashSeed(SEED, scenario.id, rps, runIndex));
  const arrivals = poissonSampler(rps);

  // p0 is measured on the old release before the deploy, as in production.
  const baselineN = Math.round(rps * BASELINE_SECONDS);
  const errParams = sprt.errorRateParams({ baselineRate: binomial(rand, baselineN, ERROR_RATE) / baselineN });
  const latency = sprt.latencyShiftParams({ buckets: baselineHistogram(rand, baselineN) });
  const latParams = latency.params;
  const bound = latency.boundSeconds;

  const policies = {
    flagger: [fixed.fixedIntervalDetector(fixed.flaggerPolicy(errParams.p1)), fixed.fixedIntervalDetector(fixed.flaggerPolicy(latParams.p1))],
    argo: [fixed.fixedIntervalDetector(fixed.argoPolicy(errParams.p1)), fixed.fixedIntervalDetector(fixed.argoPolicy(latParams.p1))],
  };
  let errState = sprt.initialSprtState();
  let latState = sprt.initialSprtState();
  const at = { shipgate: undefined, flagger: undefined, argo: undefined };

  let ue = normalPair(rand)[0];
  let ul = normalPair(rand)[0];
  const innov = Math.sqrt(1 - WOBBLE_RHO * WOBBLE_RHO);
  for (let t = 1; t <= scenario.seconds; t++) {
    const [ze, zl] = normalPair(rand);
    ue = WOBBLE_RHO * ue + innov * ze;
    ul = WOBBLE_RHO * ul + innov * zl;
    const pe = scenario.errorRate * (1 + ERROR_WOBBLE * Math.max(-1, Math.min(1, ue)));
    const ps = slowerThan(bound, scenario.latencyFactor * (1 + LATENCY_WOBBLE * Math.max(-1, Math.min(1, ul))));
    const n = arrivals(rand);
    const xe = binomial(rand, n, pe);
    const xl = binomial(rand, n, ps);

    if (at.shipgate === undefined) {
      const e = sprt.sprtStep(errParams, errState, n, xe);
      const l = sprt.sprtStep(latParams, latState, n, xl);
      errState = e.state;
      latState = l.state;
      if (e.verdict === 'regression' || l.verdict === 'regression') at.shipgate = t;
    }
    for (const name of ['flagger', 'argo']) {
      if (at[name] !== undefined) continue;
      const [err, lat] = policies[name];
      const a = err.step(n, xe);
      const b = lat.step(n, xl);
      if (a !== undefined || b !== undefined) at[name] = t;
    }
    if (at.shipgate !== undefined && at.flagger !== undefined && at.argo !== undefined) break;
  }
  return at;
}

function runJob(core, job) {
  const scenario = SCENARIOS.find((s) => s.id === job.scenario);
  const out = { shipgate: [], flagger: [], argo: [] };
  for (let i = job.from; i < job.to; i++) {
    const at = simulateRun(core, scenario, job.rps, i);
    for (const k of Object.keys(out)) out[k].push(at[k] ?? -1);
  }
  return { ...job, out };
}

// ---- workers ------------------------------------------------------------------------------

if (!isMainThread && workerData?.detectionBench) {
  const core = await loadCore();
  for (const job of workerData.jobs) parentPort.postMessage(runJob(core, job));
  parentPort.postMessage({ done: true });
}

async function runAll(jobs) {
  const workers = Math.max(1, Math.min(os.availableParallelism?.() ?? os.cpus().length, 8));
  const slices = Array.from({ length: workers }, () => []);
  jobs.forEach((j, i) => slices[i % workers].push(j));
  const results = [];
  await Promise.all(
    slices.filter((s) => s.length).map(
      (slice) =>
        new Promise((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), { workerData: { detectionBench: true, jobs: slice } });
          w.on('message', (m) => (m.done ? resolve() : results.push(m)));
          w.on('error', reject);
          w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bench worker exited with ${code}`))));
        }),
    ),
  );
  return results;
}

// ---- summary ------------------------------------------------------------------------------

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
function delays(values, horizon) {
  const sorted = values.map((v) => (v < 0 ? Infinity : v)).sort((a, b) => a - b);
  const fin = (v) => (Number.isFinite(v) ? v : null);
  return {
    medianSeconds: fin(quantile(sorted, 0.5)),
    p95Seconds: fin(quantile(sorted, 0.95)),
    detectedWithin: { seconds: horizon, share: sorted.filter(Number.isFinite).length / sorted.length },
  };
}
function rollbacks(values, window) {
  const count = values.filter((v) => v >= 0 && v <= window).length;
  return { count, rate: count / values.length };
}

export async function run() {
  const core = await loadCore();
  const { sprt } = core;
  const started = Date.now();

  const CHUNK = 50;
  const jobs = [];
  for (const s of SCENARIOS) for (const rps of RATES) for (let from = 0; from < s.runs; from += CHUNK) jobs.push({ scenario: s.id, rps, from, to: Math.min(s.runs, from + CHUNK) });
  // Longest jobs first, so two workers finish together.
  jobs.sort((a, b) => b.rps - a.rps);
  const done = await runAll(jobs);

  const merged = {};
  for (const r of done) {
    const key = `${r.scenario}@${r.rps}`;
    const m = (merged[key] ??= { shipgate: [], flagger: [], argo: [], parts: [] });
    m.parts.push(r);
  }
  for (const m of Object.values(merged)) {
    m.parts.sort((a, b) => a.from - b.from);
    for (const p of m.parts) for (const k of ['shipgate', 'flagger', 'argo']) m[k].push(...p.out[k]);
  }

  const nominalErr = sprt.errorRateParams();
  const exactHistogram = [...BUCKETS, Infinity].map((le) => ({ le, count: Math.round(1e9 * (le === Infinity ? 1 : 1 - slowerThan(le, 1))) }));
  const nominalLat = sprt.latencyShiftParams({ buckets: exactHistogram }).params;
  const results = {};
  for (const rps of RATES) {
    const row = {};
    for (const s of SCENARIOS) {
      const m = merged[`${s.id}@${rps}`];
      if (s.healthy || s.reportRollbacks) {
        const entry = { runs: m.shipgate.length };
        for (const k of ['shipgate', 'flagger', 'argo']) {
          entry[k] = { within30m: rollbacks(m[k], WINDOW_SECONDS), within4h: rollbacks(m[k], LONG_WINDOW_SECONDS) };
        }
        row[s.label] = entry;
        continue;
      }
      const params = s.id.startsWith('errors') ? nominalErr : nominalLat;
      const trueP = s.id.startsWith('errors') ? s.errorRate : shareAbove(s.latencyFactor);
      row[s.label] = {
        runs: m.shipgate.length,
        shipgate: delays(m.shipgate, s.seconds),
        flagger: delays(m.flagger, s.seconds),
        argo: delays(m.argo, s.seconds),
        sprtBoundSeconds: round(sprt.expectedSamplesToDetect(params, trueP) / rps, 2),
      };
    }
    results[`${rps} rps`] = row;
  }

  const e10 = results['50 rps']['errors 1% -> 10%'];
  const falseRollbacks = Object.fromEntries(RATES.map((rps) => [`${rps} rps`, results[`${rps} rps`][SCENARIOS[0].label].shipgate.within30m.rate <= 0.001]));
  const checks = {
    errors10At50rpsMedianWithin2xSprtBound: e10.shipgate.medianSeconds !== null && e10.shipgate.medianSeconds <= 2 * e10.sprtBoundSeconds,
    errors10At50rpsAtLeast50xFasterThanFlagger: e10.shipgate.medianSeconds !== null && e10.flagger.medianSeconds !== null && e10.flagger.medianSeconds / e10.shipgate.medianSeconds >= 50,
    atMost1FalseRollbackPer1000HealthyRuns30m: falseRollbacks,
    latency10RollsBackInAtMost1PercentOfRuns4h: Object.fromEntries(
      RATES.map((rps) => [`${rps} rps`, results[`${rps} rps`][SCENARIOS.find((s) => s.id === 'latency-10').label].shipgate.within4h.rate <= 0.01]),
    ),
  };

  return {
    model: {
      tickSeconds: 1,
      monitoringWindowSeconds: WINDOW_SECONDS,
      longWindowSeconds: LONG_WINDOW_SECONDS,
      note: 'healthy and warn-only runs last 4 h; false rollbacks are reported within the 30-minute short phase and within 4 h. Regression runs last until every policy rolled back, or 4 h.',
      rates: RATES,
      arrivals: 'Poisson per second',
      errors: { healthy: ERROR_RATE, wobble: `x(1 +- ${ERROR_WOBBLE}), AR(1) with a 60 s memory` },
      latency: {
        distribution: `lognormal, median ${LATENCY_MEDIAN * 1000} ms, sigma ${LATENCY_SIGMA}, median wobble +-${LATENCY_WOBBLE * 100}%`,
        baselineP95Seconds: round(baselineP95, 4),
        bucketBoundSeconds: BOUND,
        buckets: BUCKETS,
        shareAboveBound: Object.fromEntries([1, 1.1, 1.2, 1.5].map((f) => [`x${f}`, round(shareAbove(f), 5)])),
      },
      baselineSeconds: BASELINE_SECONDS,
      runs: { healthy: HEALTHY_RUNS, regression: REGRESSION_RUNS, latency10: WARN_ONLY_RUNS },
      seed: SEED,
    },
    policies: {
      shipgate: {
        alpha: sprt.DEFAULT_ALPHA,
        beta: sprt.DEFAULT_BETA,
        minSamples: sprt.DEFAULT_MIN_SAMPLES,
        upper: round(sprt.sprtThresholds(nominalErr).upper, 3),
        errors: { p0: 'max(1%, measured baseline)', p1: nominalErr.p1, indifferenceRate: round(sprt.indifferenceRate(nominalErr), 4) },
        latency: {
          p0: `baseline share above bound / (1 + ${sprt.DEFAULT_LATENCY_TOLERATED})`,
          p1: `baseline share above bound / (1 + ${sprt.DEFAULT_LATENCY_ROLLBACK})`,
          nominalP0: round(nominalLat.p0, 5),
          nominalP1: round(nominalLat.p1, 5),
          indifferenceRate: round(sprt.indifferenceRate(nominalLat), 5),
        },
      },
      flagger: 'interval 60 s, threshold 5 failed checks (rollback at the 5th); a check fails when the interval rate > p1',
      argo: 'interval 5 min, failureLimit 3 (rollback at the 4th failed measurement); a check fails when the interval rate > p1',
    },
    results,
    checks,
    simulatedSeconds: Math.round((Date.now() - started) / 1000),
  };
}

function round(v, d) {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}
