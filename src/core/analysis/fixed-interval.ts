/**
 * Pure simulators of the fixed-interval analysis that Flagger and Argo Rollouts run, fed the
 * same per-second counts as the sequential test, so the benchmark compares like with like.
 * Sources and the exact rules are in docs/analysis.md ("Comparison policies").
 */

export interface FixedIntervalPolicy {
  /** Seconds between checks; a check sees the counts of the interval that just ended. */
  intervalSeconds: number;
  /** Failed checks, counted in total and not only in a row, that trigger the rollback. */
  failuresToRollback: number;
  /** A check fails when x/n over its interval is above this. */
  threshold: number;
}

export interface FixedIntervalState {
  /** Seconds stepped so far. */
  second: number;
  /** Counts of the interval under way. */
  n: number;
  x: number;
  checks: number;
  failures: number;
  rolledBackAt: number | undefined;
}

/** Flagger's default analysis: `interval` 60s (its documented default), `threshold` 5 (its examples). */
export const FLAGGER_DEFAULT = Object.freeze({ intervalSeconds: 60, threshold: 5 });
/** Argo Rollouts' documented background-analysis example: `interval: 5m`, `failureLimit: 3`. */
export const ARGO_EXAMPLE = Object.freeze({ intervalSeconds: 300, failureLimit: 3 });

/**
 * Flagger rolls back once the failed-check count reaches `threshold`; its docs give the time to
 * roll back as interval × threshold. The counter is not reset by a passing check.
 */
export function flaggerPolicy(metricThreshold: number, o: { intervalSeconds?: number; threshold?: number } = {}): FixedIntervalPolicy {
  return checked({ intervalSeconds: o.intervalSeconds ?? FLAGGER_DEFAULT.intervalSeconds, failuresToRollback: o.threshold ?? FLAGGER_DEFAULT.threshold, threshold: metricThreshold });
}

/**
 * Argo fails the analysis when the failed measurements exceed `failureLimit` (its field
 * reference: "the maximum number of failed run an analysis is allowed"; its controller:
 * `failed > failureLimit`), so the rollback comes with failure number failureLimit + 1.
 */
export function argoPolicy(metricThreshold: number, o: { intervalSeconds?: number; failureLimit?: number } = {}): FixedIntervalPolicy {
  return checked({ intervalSeconds: o.intervalSeconds ?? ARGO_EXAMPLE.intervalSeconds, failuresToRollback: (o.failureLimit ?? ARGO_EXAMPLE.failureLimit) + 1, threshold: metricThreshold });
}

export function initialFixedIntervalState(): FixedIntervalState {
  return { second: 0, n: 0, x: 0, checks: 0, failures: 0, rolledBackAt: undefined };
}

/**
 * One second of traffic. Returns the second of the rollback once it has happened (latched).
 * An interval without requests fails its check, as Flagger does when its query finds no values.
 */
export function fixedIntervalStep(policy: FixedIntervalPolicy, s: FixedIntervalState, n: number, x: number): { state: FixedIntervalState; rolledBackAt: number | undefined } {
  if (!(Number.isFinite(n) && Number.isFinite(x) && n >= 0 && x >= 0 && x <= n)) {
    throw new RangeError(`fixedIntervalStep needs 0 <= x <= n, got n=${n}, x=${x}`);
  }
  if (s.rolledBackAt !== undefined) return { state: s, rolledBackAt: s.rolledBackAt };
  const second = s.second + 1;
  const wn = s.n + n;
  const wx = s.x + x;
  if (second % policy.intervalSeconds !== 0) {
    // A literal of one fixed shape, not a spread: this runs once per simulated second.
    return { state: { second, n: wn, x: wx, checks: s.checks, failures: s.failures, rolledBackAt: undefined }, rolledBackAt: undefined };
  }
  const failed = wn === 0 || wx / wn > policy.threshold;
  const failures = s.failures + (failed ? 1 : 0);
  const rolledBackAt = failures >= policy.failuresToRollback ? second : undefined;
  return { state: { second, n: 0, x: 0, checks: s.checks + 1, failures, rolledBackAt }, rolledBackAt };
}

/** A stateful wrapper for simulations: `step(n, x)` per second, the rollback second or undefined. */
export function fixedIntervalDetector(policy: FixedIntervalPolicy): { step(n: number, x: number): number | undefined; readonly state: FixedIntervalState } {
  checked(policy);
  let state = initialFixedIntervalState();
  return {
    step(n: number, x: number) {
      const r = fixedIntervalStep(policy, state, n, x);
      state = r.state;
      return r.rolledBackAt;
    },
    get state() {
      return state;
    },
  };
}

function checked(p: FixedIntervalPolicy): FixedIntervalPolicy {
  if (!(Number.isInteger(p.intervalSeconds) && p.intervalSeconds >= 1)) throw new RangeError(`intervalSeconds must be a whole number >= 1, got ${p.intervalSeconds}`);
  if (!(Number.isInteger(p.failuresToRollback) && p.failuresToRollback >= 1)) throw new RangeError(`failuresToRollback must be a whole number >= 1, got ${p.failuresToRollback}`);
  if (!(p.threshold >= 0 && p.threshold <= 1)) throw new RangeError(`threshold is a rate in [0, 1], got ${p.threshold}`);
  return p;
}
