import { describe, expect, it } from 'vitest';
import {
  ARGO_EXAMPLE,
  FLAGGER_DEFAULT,
  argoPolicy,
  fixedIntervalDetector,
  fixedIntervalStep,
  flaggerPolicy,
  initialFixedIntervalState,
  type FixedIntervalPolicy,
} from '../src/core/analysis/fixed-interval.js';

/** Steps one detector through `seconds` of traffic; returns the first second it rolled back. */
function firstRollback(policy: FixedIntervalPolicy, seconds: number, traffic: (t: number) => [number, number]): number | undefined {
  const d = fixedIntervalDetector(policy);
  for (let t = 1; t <= seconds; t++) {
    const [n, x] = traffic(t);
    const at = d.step(n, x);
    if (at !== undefined) return at;
  }
  return undefined;
}

const BAD = (): [number, number] => [100, 10]; // 10% errors every second
const GOOD = (): [number, number] => [100, 1]; // 1%

describe('Flagger default analysis (interval 60s, threshold 5)', () => {
  it('rolls back a regression present from t = 0 at interval × threshold = 300 s, as its docs state', () => {
    expect(FLAGGER_DEFAULT).toEqual({ intervalSeconds: 60, threshold: 5 });
    expect(firstRollback(flaggerPolicy(0.05), 3600, BAD)).toBe(300);
  });

  it('counts failed checks in total, not in a row', () => {
    // Failing and passing minutes alternate: failures at minutes 1, 3, 5, 7, 9; the fifth comes at 540 s.
    const alternating = (t: number): [number, number] => (Math.floor((t - 1) / 60) % 2 === 0 ? [100, 10] : [100, 1]);
    expect(firstRollback(flaggerPolicy(0.05), 3600, alternating)).toBe(540);
  });

  it('fails a check only above the threshold, and fails one that saw no requests', () => {
    expect(firstRollback(flaggerPolicy(0.05), 3600, () => [100, 5])).toBeUndefined();
    expect(firstRollback(flaggerPolicy(0.05), 3600, GOOD)).toBeUndefined();
    expect(firstRollback(flaggerPolicy(0.05), 3600, () => [0, 0])).toBe(300);
  });
});

describe("Argo Rollouts' documented example (interval 5m, failureLimit 3)", () => {
  it('rolls back at the 4th failed measurement (failed > failureLimit): 4 × 300 s = 1200 s', () => {
    expect(ARGO_EXAMPLE).toEqual({ intervalSeconds: 300, failureLimit: 3 });
    expect(argoPolicy(0.05).failuresToRollback).toBe(4);
    expect(firstRollback(argoPolicy(0.05), 3600, BAD)).toBe(1200);
  });

  it('with failureLimit 0 fails at the first failed measurement', () => {
    expect(firstRollback(argoPolicy(0.05, { failureLimit: 0 }), 3600, BAD)).toBe(300);
  });
});

describe('the pure step', () => {
  it('latches the rollback second and stores as JSON', () => {
    const policy = flaggerPolicy(0.05, { intervalSeconds: 1, threshold: 1 });
    const first = fixedIntervalStep(policy, initialFixedIntervalState(), 10, 5);
    expect(first.rolledBackAt).toBe(1);
    const resumed = JSON.parse(JSON.stringify(first.state)) as typeof first.state;
    expect(fixedIntervalStep(policy, resumed, 10, 0).rolledBackAt).toBe(1);
  });

  it('refuses impossible counts and policies', () => {
    expect(() => fixedIntervalStep(flaggerPolicy(0.05), initialFixedIntervalState(), 1, 2)).toThrow(RangeError);
    expect(() => fixedIntervalDetector({ intervalSeconds: 0, failuresToRollback: 1, threshold: 0.05 })).toThrow(RangeError);
    expect(() => flaggerPolicy(5)).toThrow(RangeError);
  });
});
