import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../src/config/load.js';
import type { CheckSpec } from '../src/config/schema.js';
import { evaluateCheck, latencyBaseline, type CheckState, type EvaluationContext, type Reading } from '../src/core/analysis/checks.js';

function checks(): CheckSpec[] {
  const { config, problems } = checkConfigText(
    `version: 1
services: { a: { command: [x] } }
environments:
  prod:
    analysis:
      checks:
        - { name: errors, type: error-rate, target: 1%, limit: 5% }
        - { name: p95, type: latency, max: 500ms }
        - { name: breaker, type: redis, key: 'cb:state', equals: OPEN, consecutive: 2 }
        - { name: drift, type: gauge, metric: reconciliation_drift, max: 0 }
`,
    'shipgate.yml',
  );
  expect(problems).toEqual([]);
  return config!.environments.prod!.analysis!.checks;
}

const ctx = (over: Partial<EvaluationContext> = {}): EvaluationContext => ({ role: 'monitor', at: '2026-11-22T00:00:00Z', alpha: 0.001, beta: 0.01, minRequests: 20, ...over });

function run(spec: CheckSpec, readings: Reading[], c = ctx()) {
  let state: CheckState | undefined;
  const results = readings.map((r) => {
    const out = evaluateCheck(spec, state, r, c);
    state = out.state;
    return out.result;
  });
  return { results, state: state! };
}

describe('rate checks', () => {
  const errors = () => checks()[0]!;

  it('no data is inconclusive, never a pass and never zero', () => {
    const { results } = run(errors(), [{ kind: 'no-data', reason: 'ECONNREFUSED' }, { kind: 'no-data', reason: 'ECONNREFUSED' }]);
    expect(results.map((r) => r.verdict)).toEqual(['inconclusive', 'inconclusive']);
    expect(results[1]!.reason).toContain('ECONNREFUSED');
    expect(results[1]!.value).toBeUndefined();
  });

  it('zero traffic stays inconclusive however long it lasts', () => {
    const flat = Array.from({ length: 50 }, () => ({ kind: 'counts', total: 100, errors: 0 }) as Reading);
    const { results, state } = run(errors(), flat);
    expect(new Set(results.map((r) => r.verdict))).toEqual(new Set(['inconclusive']));
    expect(state.healthySeen).toBe(false);
  });

  it('fails a 10% error rate within a couple of readings, with the evidence', () => {
    // p0 = 1%, p1 = 5%: each error adds ln 5 = 1.609, each success ln(0.95/0.99) = -0.0412;
    // 50 requests with 5 errors add 5*1.609 - 45*0.0412 = 6.19, below A = ln(0.99/0.001) = 6.90;
    // another such 50 pushes the sum past A.
    const { results } = run(errors(), [
      { kind: 'counts', total: 0, errors: 0 },
      { kind: 'counts', total: 50, errors: 5 },
      { kind: 'counts', total: 100, errors: 10 },
    ]);
    expect(results.map((r) => r.verdict)).toEqual(['inconclusive', 'pass', 'fail']);
    expect(results[2]!.evidence).toMatchObject({ requests: 100, errors: 10, p0: 0.01, p1: 0.05 });
    expect(results[2]!.evidence!.llr!).toBeGreaterThanOrEqual(results[2]!.evidence!.upper!);
  });

  it('with maxIncrease, every reading carries the limit test\'s llr against its bounds, and the gate\'s test beside it (one statistic for the chart)', () => {
    const gated = { ...errors(), maxIncrease: 0.5 } as CheckSpec;
    const readings: Reading[] = Array.from({ length: 12 }, (_, i) => ({ kind: 'counts', total: i * 200, errors: i * 3 }));
    const c = ctx({ role: 'soak', baseline: { errorRate: 0.012, requests: 5000 } });
    const plain = run(errors(), readings, c).results;
    const withGate = run(gated, readings, c).results;
    expect(withGate.slice(1).map((r) => r.verdict)).toEqual(plain.slice(1).map(() => 'pass'));
    for (let i = 1; i < readings.length; i++) {
      const [p, g] = [plain[i]!.evidence!, withGate[i]!.evidence!];
      expect({ llr: g.llr, wald: g.wald, lower: g.lower, upper: g.upper, p0: g.p0, p1: g.p1 }).toEqual({ llr: p.llr, wald: p.wald, lower: p.lower, upper: p.upper, p0: p.p0, p1: p.p1 });
      expect(p.wald).toEqual(expect.any(Number));
      expect(g).toMatchObject({ gate: 'maxIncrease', gateLlr: expect.any(Number), gateP0: 0.012, gateP1: expect.closeTo(0.018, 9), gateUpper: p.upper });
    }
  });

  it('a healthy release passes and is eventually called healthy', () => {
    const readings: Reading[] = Array.from({ length: 20 }, (_, i) => ({ kind: 'counts', total: i * 50, errors: 0 }));
    const { results, state } = run(errors(), readings);
    expect(results.at(-1)!.verdict).toBe('pass');
    expect(results.some((r) => r.verdict === 'fail')).toBe(false);
    expect(state.healthySeen).toBe(true);
  });

  it('a counter reset (process restart) is not read as negative traffic', () => {
    const { results } = run(errors(), [
      { kind: 'counts', total: 1000, errors: 0 },
      { kind: 'counts', total: 1050, errors: 0 },
      { kind: 'counts', total: 30, errors: 0 },
    ]);
    expect(results[2]!.verdict).not.toBe('fail');
  });
});

describe('latency checks', () => {
  const p95 = () => checks()[1]!;
  const buckets = (counts: number[]) => [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, Infinity].map((le, i) => ({ le, count: counts[i]! }));

  it('derives the baseline bucket bound from the previous release', () => {
    const b = latencyBaseline(buckets([10, 50, 90, 96, 100, 100, 100, 100, 100]), 0.95, 20)!;
    expect(b.boundSeconds).toBe(0.05);
    expect(b.quantile).toBeCloseTo(0.025 + (0.05 - 0.025) * (95 - 90) / (96 - 90), 10);
  });

  it('fails when far more requests are slower than the baseline p95 bucket than a +20% slowdown would put there', () => {
    const baseline = latencyBaseline(buckets([100, 500, 900, 960, 1000, 1000, 1000, 1000, 1000]), 0.95, 20)!;
    const { results } = run(p95(), [
      { kind: 'buckets', buckets: buckets([0, 0, 0, 0, 0, 0, 0, 0, 0]) },
      { kind: 'buckets', buckets: buckets([0, 10, 40, 60, 100, 100, 100, 100, 100]) },
      { kind: 'buckets', buckets: buckets([0, 20, 80, 120, 200, 200, 200, 200, 200]) },
    ], ctx({ baseline }));
    expect(results.at(-1)!.verdict).toBe('fail');
    expect(results.at(-1)!.reason).toContain('baseline');
  });

  it('in a soak, a quantile above the absolute bound fails; in a monitor it warns', () => {
    const slow: Reading[] = [
      { kind: 'buckets', buckets: buckets([0, 0, 0, 0, 0, 0, 0, 0, 0]) },
      { kind: 'buckets', buckets: buckets([0, 0, 0, 0, 0, 0, 10, 100, 100]) },
    ];
    expect(run(p95(), slow, ctx({ role: 'soak' })).results[1]!.verdict).toBe('fail');
    const monitor = run(p95(), slow, ctx({ role: 'monitor' })).results[1]!;
    expect(monitor.verdict).toBe('pass');
    expect(monitor.warning).toContain('exceeds');
  });
});

describe('state checks', () => {
  it('the breaker must read OPEN twice in a row to fail when consecutive is 2', () => {
    const breaker = checks()[2]!;
    const { results } = run(breaker, [
      { kind: 'value', value: 'OPEN' },
      { kind: 'value', value: 'TRIPPED' },
      { kind: 'value', value: 'TRIPPED' },
      { kind: 'no-data', reason: 'key cb:state does not exist' },
    ]);
    expect(results.map((r) => r.verdict)).toEqual(['pass', 'inconclusive', 'fail', 'inconclusive']);
    expect(results[2]!.reason).toBe('redis key cb:state is "TRIPPED", expected "OPEN"');
  });

  it('a gauge above its maximum fails', () => {
    const drift = checks()[3]!;
    const { results } = run(drift, [{ kind: 'value', value: 0 }, { kind: 'value', value: 3 }]);
    expect(results.map((r) => r.verdict)).toEqual(['pass', 'fail']);
  });
});
