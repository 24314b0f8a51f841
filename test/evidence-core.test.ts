// The analysis rules in core, driven by a fake clock: a 24 h soak, a 4 h monitor and a blind
// period run in milliseconds. Readings are synthetic on a stack shaped unlike the demo
// (app_requests_total{route,status}, app_request_latency_seconds with its own buckets).
import { describe, expect, it } from 'vitest';
import { checkConfigText } from '../src/config/load.js';
import type { AnalysisSpec, CheckSpec, MonitorPolicy } from '../src/config/schema.js';
import { evaluateCheck, latencyBaseline, errorRateBaseline, type CheckBaseline, type CheckResult, type CheckState, type Reading } from '../src/core/analysis/checks.js';
import type { Bucket } from '../src/core/analysis/histogram.js';
import type { Clock } from '../src/core/clock.js';
import { monitorStep, type MonitorMemory, type MonitorStep } from '../src/core/monitor-rules.js';
import { soakStep, type SoakAccount, type SoakStep } from '../src/core/soak-verdict.js';

const BOUNDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, Infinity];

function config(checks: string, monitor = '{}'): { analysis: AnalysisSpec; monitor: MonitorPolicy } {
  const { config: c, problems } = checkConfigText(
    `version: 1
services: { api: { command: [python3, app.py] } }
environments:
  prod:
    monitor: ${monitor}
    analysis:
      alpha: 1e-9
      checks:
${checks}
`,
    'shipgate.yml',
  );
  expect(problems).toEqual([]);
  const env = c!.environments.prod!;
  return { analysis: env.analysis!, monitor: env.monitor! };
}

const CHECKS = `        - { name: errors, type: error-rate, metric: app_requests_total, errors: 'status=~"5.."', maxIncrease: 50% }
        - { name: p95, type: latency, metric: app_request_latency_seconds, max: 2s, maxIncrease: 10%, rollbackIncrease: 50% }`;

function fakeClock(start = Date.parse('2026-12-01T14:00:00Z')): Clock & { advance(ms: number): void } {
  let t = start;
  return { now: () => new Date(t), sleep: async (ms) => void (t += ms), advance: (ms) => void (t += ms) };
}

/** A deterministic service: `rate` requests per tick, a share failing, latencies log-normal around `median` seconds. */
function service(opts: { rate: number; errorShare: number; median: number; seed?: number }) {
  let seed = opts.seed ?? 7;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let total = 0;
  let errors = 0;
  let errorCarry = 0;
  const counts = BOUNDS.map(() => 0);
  return {
    tick(scale = 1) {
      for (let i = 0; i < opts.rate; i++) {
        const latency = opts.median * scale * Math.exp(0.45 * normal());
        BOUNDS.forEach((le, b) => {
          if (latency <= le) counts[b]! += 1;
        });
      }
      total += opts.rate;
      errorCarry += opts.rate * opts.errorShare;
      errors += Math.floor(errorCarry);
      errorCarry -= Math.floor(errorCarry);
    },
    counts: (): Reading => ({ kind: 'counts', total, errors }),
    buckets: (): Reading => ({ kind: 'buckets', buckets: BOUNDS.map((le, i): Bucket => ({ le, count: counts[i]! })) }),
  };
}

/** The previous release, measured over its life, as measureBaseline would. */
function baselineOf(analysis: AnalysisSpec, svc: ReturnType<typeof service>): Record<string, CheckBaseline> {
  const counts = svc.counts() as { total: number; errors: number };
  const buckets = (svc.buckets() as { buckets: Bucket[] }).buckets;
  const p95 = analysis.checks.find((c) => c.type === 'latency') as Extract<CheckSpec, { type: 'latency' }>;
  return { errors: errorRateBaseline(counts, 20)!, p95: latencyBaseline(buckets, p95.quantile, 20)! };
}

function previousRelease(analysis: AnalysisSpec, median = 0.05, errorShare = 0.002) {
  const old = service({ rate: 50, errorShare, median, seed: 99 });
  for (let i = 0; i < 600; i++) old.tick();
  return baselineOf(analysis, old);
}

type Source = (check: CheckSpec, tick: number) => Reading;

function evaluateAll(analysis: AnalysisSpec, role: 'soak' | 'monitor', states: Record<string, CheckState>, baseline: Record<string, CheckBaseline>, read: Source, tick: number, at: string): CheckResult[] {
  return analysis.checks.map((check) => {
    const { state, result } = evaluateCheck(check, states[check.name], read(check, tick), { role, at, baseline: baseline[check.name], alpha: analysis.alpha, beta: analysis.beta, minRequests: analysis.minRequests, consecutiveErrors: analysis.consecutiveErrors });
    states[check.name] = state;
    return result;
  });
}

/** A whole soak at one evaluation per `intervalMs` of simulated time. */
function simulateSoak(analysis: AnalysisSpec, baseline: Record<string, CheckBaseline>, read: Source, requiredMs = 24 * 3_600_000, intervalMs = 60_000): SoakStep & { results: CheckResult[]; ticks: number } {
  const clock = fakeClock();
  const startedAt = clock.now().toISOString();
  let account: SoakAccount = { requiredMs, maxInconclusive: 0.1, evaluatedMs: 0, inconclusiveMs: 0, lastEvaluatedAt: null };
  const states: Record<string, CheckState> = {};
  for (let tick = 0; ; tick++) {
    const results = evaluateAll(analysis, 'soak', states, baseline, read, tick, clock.now().toISOString());
    const step = soakStep({ startedAt, now: clock.now(), account, results, unobserved: false });
    account = step.account;
    if (step.state !== 'running') return { ...step, results, ticks: tick + 1 };
    clock.advance(intervalMs);
  }
}

function fromService(svc: ReturnType<typeof service>, scale = 1): Source {
  let last = -1;
  return (check, tick) => {
    if (tick !== last) {
      svc.tick(scale);
      last = tick;
    }
    return check.type === 'error-rate' ? svc.counts() : svc.buckets();
  };
}

describe('soak verdicts over a simulated 24 h', () => {
  const { analysis } = config(CHECKS);

  it('passes a release like its predecessor after the full 24 h, with baseline and measured quantile in the evidence', () => {
    const baseline = previousRelease(analysis);
    const soak = simulateSoak(analysis, baseline, fromService(service({ rate: 50, errorShare: 0.002, median: 0.05 })));
    expect(soak.state, soak.reason ?? '').toBe('passed');
    expect(soak.ticks).toBe(24 * 60 + 1);
    expect(soak.elapsedMs).toBe(24 * 3_600_000);
    const p95 = soak.results.find((r) => r.name === 'p95')!;
    expect(p95.evidence).toMatchObject({ baseline: baseline.p95!.quantile, requests: expect.any(Number), baselineRequests: 30_000 });
    expect(p95.evidence!.value).toBeCloseTo(baseline.p95!.quantile!, 1);
  });

  it('fails on maxIncrease a release whose p95 is +60% over the baseline, naming the gate with both quantiles', () => {
    const baseline = previousRelease(analysis);
    const soak = simulateSoak(analysis, baseline, fromService(service({ rate: 50, errorShare: 0.002, median: 0.05 }), 1.6));
    expect(soak.state).toBe('failed');
    expect(soak.failedCheck).toBe('p95');
    // Long before the 24 h are up: the sequential test decides.
    expect(soak.elapsedMs).toBeLessThan(3_600_000);
    const p95 = soak.results.find((r) => r.name === 'p95')!;
    expect(p95.reason).toMatch(/\(maxIncrease\)$/);
    expect(p95.reason).toContain(`baseline ${(baseline.p95!.quantile! * 1000).toFixed(1)}ms`);
    expect(p95.evidence).toMatchObject({ gate: 'maxIncrease', baseline: baseline.p95!.quantile, value: expect.any(Number), requests: expect.any(Number), llr: expect.any(Number) });
    expect(p95.evidence!.increase!).toBeGreaterThan(0.4);
  });

  it('fails on error rate at 8 % server errors', () => {
    const baseline = previousRelease(analysis);
    const soak = simulateSoak(analysis, baseline, fromService(service({ rate: 50, errorShare: 0.08, median: 0.05 })));
    expect(soak.state).toBe('failed');
    expect(soak.failedCheck).toBe('errors');
    expect(soak.results.find((r) => r.name === 'errors')!.evidence).toMatchObject({ gate: 'limit', errors: expect.any(Number), requests: expect.any(Number) });
  });

  it('fails on maxIncrease relative to the baseline rate, below the absolute limit', () => {
    const baseline = previousRelease(analysis, 0.05, 0.01);
    const soak = simulateSoak(analysis, baseline, fromService(service({ rate: 50, errorShare: 0.02, median: 0.05 })));
    expect(soak.state).toBe('failed');
    expect(soak.failedCheck).toBe('errors');
    expect(soak.reason).toContain('(maxIncrease)');
    expect(soak.results.find((r) => r.name === 'errors')!.evidence).toMatchObject({ gate: 'maxIncrease', baseline: baseline.errors!.errorRate });
  });

  it('a source that fails consecutiveErrors times in a row fails the soak (error, never zero)', () => {
    const baseline = previousRelease(analysis);
    const svc = fromService(service({ rate: 50, errorShare: 0.002, median: 0.05 }));
    const soak = simulateSoak(analysis, baseline, (check, tick) => (tick >= 30 ? { kind: 'error', reason: 'connect ECONNREFUSED 127.0.0.1:9464' } : svc(check, tick)));
    expect(soak.state).toBe('failed');
    expect(soak.ticks).toBe(30 + analysis.consecutiveErrors);
    expect(soak.reason).toContain('4 times in a row (consecutiveErrors 4): connect ECONNREFUSED');
    const errors = soak.results.find((r) => r.name === 'errors')!;
    expect(errors.value).toBeUndefined();
    expect(errors.errors).toEqual({ consecutive: 4, total: 4 });
  });

  it('errors below consecutiveErrors are counted but do not fail; no data is inconclusive and fails the soak at its end', () => {
    const baseline = previousRelease(analysis);
    const soak = simulateSoak(analysis, baseline, (_check, tick) => (tick % 2 ? { kind: 'error', reason: 'HTTP 503' } : { kind: 'no-data', reason: 'no series named app_requests_total' }));
    expect(soak.state).toBe('failed');
    expect(soak.elapsedMs).toBe(24 * 3_600_000);
    expect(soak.reason).toMatch(/^inconclusive for 100\.0% of the soak/);
    expect(soak.results.find((r) => r.name === 'errors')!.errors!.total).toBeGreaterThan(700);
  });

  it('an unusable baseline makes the latency check inconclusive and says why, never a pass', () => {
    const baseline = previousRelease(analysis);
    const damaged = { ...baseline, p95: { ...baseline.p95!, buckets: baseline.p95!.buckets!.map((b, i) => (i === 3 ? { ...b, le: null as unknown as number } : b)) } };
    const soak = simulateSoak(analysis, damaged, fromService(service({ rate: 50, errorShare: 0.002, median: 0.05 })), 3_600_000);
    const p95 = soak.results.find((r) => r.name === 'p95')!;
    expect(p95.verdict).toBe('inconclusive');
    expect(p95.reason).toMatch(/the baseline is unusable: bucket 4 of the baseline histogram has no upper bound/);
    expect(soak.state).toBe('failed');
    const unavailable = simulateSoak(analysis, { ...baseline, p95: { unavailable: 'v1 could not be measured: HTTP 500' } }, fromService(service({ rate: 50, errorShare: 0.002, median: 0.05 })), 3_600_000);
    expect(unavailable.results.find((r) => r.name === 'p95')!.reason).toContain('the baseline is unusable: v1 could not be measured: HTTP 500');
  });

  it('repairs a +Inf bucket lost to JSON (le: null) in a stored baseline', () => {
    const baseline = previousRelease(analysis);
    const lost = JSON.parse(JSON.stringify(baseline)) as Record<string, CheckBaseline>;
    expect(lost.p95!.buckets!.at(-1)!.le).toBeNull();
    const soak = simulateSoak(analysis, lost, fromService(service({ rate: 50, errorShare: 0.002, median: 0.05 }), 1.6));
    expect(soak.failedCheck).toBe('p95');
  });
});

describe('promql empty results', () => {
  const promql = (empty: string) => config(`        - { name: rejected, type: promql, query: 'sum(orders_total{status="rejected"})', max: 0${empty} }`).analysis.checks[0]!;
  const at = '2026-12-01T00:00:00Z';
  const one = (spec: CheckSpec, reading: Reading) => evaluateCheck(spec, undefined, reading, { role: 'soak', at, alpha: 1e-9, beta: 0.01, minRequests: 20 }).result;
  const empty: Reading = { kind: 'no-data', reason: 'the query matched no series', empty: true };

  it('is inconclusive by default, pass, fail or a value when configured; a query error is never a value', () => {
    expect(one(promql(''), empty).verdict).toBe('inconclusive');
    expect(one(promql(', empty: pass'), empty).verdict).toBe('pass');
    expect(one(promql(', empty: fail'), empty).verdict).toBe('fail');
    expect(one(promql(', empty: 0'), empty)).toMatchObject({ verdict: 'pass', value: 0 });
    expect(one(promql(', empty: 1'), empty)).toMatchObject({ verdict: 'fail', value: 1 });
    const failed = one(promql(', empty: 0'), { kind: 'error', reason: 'bad_data: parse error' });
    expect(failed.verdict).toBe('error');
    expect(failed.value).toBeUndefined();
  });
});

describe('production monitor over a simulated 4 h', () => {
  const monitorRun = (monitorYaml: string, read: Source, baselineFor = previousRelease) => {
    const { analysis, monitor } = config(CHECKS, monitorYaml);
    const baseline = baselineFor(analysis);
    const clock = fakeClock();
    const startedAt = clock.now().toISOString();
    const states: Record<string, CheckState> = {};
    let memory: MonitorMemory = { unhealthySince: null, blind: null };
    const events: MonitorStep['events'] = [];
    const warnings: string[] = [];
    for (let tick = 0; tick < 100_000; tick++) {
      const results = evaluateAll(analysis, 'monitor', states, baseline, read, tick, clock.now().toISOString());
      const step = monitorStep({ startedAt, now: clock.now(), rules: { ...monitor, consecutiveErrors: analysis.consecutiveErrors, interval: analysis.interval }, memory, health: { healthy: true, detail: '' }, results, states, rateChecks: ['errors', 'p95'] });
      memory = step.memory;
      events.push(...step.events);
      warnings.push(...step.warnings);
      if (step.outcome.kind !== 'running') return { ...step, events, warnings, elapsedMs: clock.now().getTime() - Date.parse(startedAt), results };
      clock.advance(15_000);
    }
    throw new Error('the monitor never ended');
  };
  const healthy = () => fromService(service({ rate: 50, errorShare: 0.002, median: 0.05 }));

  it('passes a healthy release at the end of the medium phase', () => {
    const end = monitorRun('{}', healthy());
    expect(end.outcome).toMatchObject({ kind: 'passed' });
    expect(end.elapsedMs).toBe(4 * 3_600_000);
    expect(end.events).toEqual([]);
  });

  it('triggers on rollbackIncrease for +60% latency', () => {
    const end = monitorRun('{}', fromService(service({ rate: 50, errorShare: 0.002, median: 0.05 }), 1.6));
    expect(end.outcome.kind).toBe('trigger');
    if (end.outcome.kind !== 'trigger') return;
    expect(end.outcome.trigger.check).toBe('p95');
    expect(end.outcome.trigger.reason).toContain('(rollbackIncrease)');
    expect(end.outcome.trigger.evidence).toMatchObject({ gate: 'rollbackIncrease', baseline: expect.any(Number), value: expect.any(Number) });
  });

  it('warns ("monitor and defer") on +12% latency without rolling back', () => {
    const end = monitorRun('{}', fromService(service({ rate: 50, errorShare: 0.002, median: 0.05 }), 1.12));
    expect(end.outcome.kind).toBe('passed');
    expect(end.warnings.some((w) => w.includes('(maxIncrease)') && w.includes('monitor and defer'))).toBe(true);
  });

  it('goes BLIND after consecutiveErrors failed reads, tells at once, and with onBlind: rollback rolls back after blindLimit', () => {
    const svc = healthy();
    const dead: Source = (check, tick) => (tick >= 10 ? { kind: 'error', reason: 'no answer from http://127.0.0.1:9464/metrics within 2000ms' } : svc(check, tick));
    const end = monitorRun('{ onBlind: rollback, blindLimit: 2m }', dead);
    expect(end.events[0]).toMatchObject({ kind: 'blind', blindness: { checks: ['errors', 'p95'], since: new Date(Date.parse('2026-12-01T14:00:00Z') + 13 * 15_000).toISOString() } });
    expect(end.outcome.kind).toBe('trigger');
    if (end.outcome.kind !== 'trigger') return;
    expect(end.outcome.trigger.check).toBe('blind');
    expect(end.outcome.trigger.reason).toMatch(/^blind for 2m0s \(blindLimit 2m0s, onBlind: rollback\): errors: source error/);
    expect(end.elapsedMs).toBe((13 + 8) * 15_000);
  });

  it('with onBlind: alert a blind monitor does not roll back, and ends inconclusive, never passed', () => {
    const svc = healthy();
    const dead: Source = (check, tick) => (tick >= 10 ? { kind: 'error', reason: 'HTTP 503 from http://127.0.0.1:9464/metrics' } : svc(check, tick));
    const end = monitorRun('{}', dead);
    expect(end.events.map((e) => e.kind)).toEqual(['blind']);
    expect(end.outcome.kind).toBe('inconclusive');
    if (end.outcome.kind !== 'inconclusive') return;
    expect(end.outcome.reason).toMatch(/without enough evidence: blind since .*HTTP 503/);
    // The window, then the bounded wait for evidence (the immediate phase's 5 min), never forever.
    expect(end.elapsedMs).toBe(4 * 3_600_000 + 5 * 60_000);
  });

  it('recovers its sight when the source answers again', () => {
    const svc = healthy();
    const flaky: Source = (check, tick) => (tick >= 10 && tick < 20 ? { kind: 'error', reason: 'ECONNREFUSED' } : svc(check, tick));
    const end = monitorRun('{}', flaky);
    expect(end.events.map((e) => e.kind)).toEqual(['blind', 'sighted']);
    expect(end.outcome.kind).toBe('passed');
  });

  it('ends inconclusive when the last phase ends without enough traffic', () => {
    const quiet: Source = (check) => (check.type === 'error-rate' ? { kind: 'counts', total: 5, errors: 0 } : { kind: 'buckets', buckets: BOUNDS.map((le) => ({ le, count: 5 })) });
    const end = monitorRun('{}', quiet);
    expect(end.outcome.kind).toBe('inconclusive');
    if (end.outcome.kind !== 'inconclusive') return;
    expect(end.outcome.reason).toContain('errors: no traffic since the last reading');
  });
});
