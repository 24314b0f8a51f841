// How late the controller's evaluations run: each pass reports when it was due, how late it
// started and, per watch, from due to stored verdict; `serve` sums that up each --stats-every.
import { describe, expect, it } from 'vitest';
import { controllerTick, runController, type TickReport } from '../src/app/controller.js';
import { describeStats, quantile, TickStatsWindow } from '../src/app/controller-stats.js';
import type { AppContext } from '../src/app/context.js';
import { shipgate } from './harness/cli.js';
import os from 'node:os';

describe('controller stats', () => {
  it('nearest-rank quantiles, and a window that starts over when taken', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([quantile(values, 0.5), quantile(values, 0.99), quantile(values, 1), quantile([], 0.99)]).toEqual([50, 99, 100, 0]);
    const w = new TickStatsWindow();
    w.add({ dueAt: 0, startLagMs: 2, durationMs: 30, evaluationLagMs: [10, 20, 30] });
    w.add({ dueAt: 1000, startLagMs: 0, durationMs: 300, evaluationLagMs: [300] });
    const s = w.take();
    expect(s).toEqual({ ticks: 2, evaluations: 4, evaluationLagMs: { p50: 20, p99: 300, max: 300 }, startLagMs: { p50: 0, p99: 2, max: 2 }, tickMs: { p50: 30, p99: 300, max: 300 } });
    expect(describeStats(s)).toBe('controller: 2 passes, 4 evaluations; evaluation lag p50 20ms p99 300ms max 300ms; pass p99 300ms, started late p99 2ms');
    expect(w.take()).toMatchObject({ ticks: 0, evaluations: 0, evaluationLagMs: { p50: 0, p99: 0, max: 0 } });
  });
});

describe('runController timing', () => {
  it('each pass is due one interval after the previous one started, and says how late it ran', async () => {
    const stop = new AbortController();
    const reports: TickReport[] = [];
    // No watch is running: the passes are timed all the same. Old readings are pruned on the first pass only (hourly).
    // Expired browser sessions go in the same hourly pass, by the wall clock (sessions expire in real time).
    const pruned: string[] = [];
    const sessionsPruned: string[] = [];
    const ctx = {
      store: { listWatches: async () => [], pruneReadings: async (before: string) => (pruned.push(before), 0), sessions: { prune: async (at: string) => (sessionsPruned.push(at), 0) } },
      config: { controller: { readingsKeep: 3_600_000 } }, clock: { now: () => new Date('2030-01-01T01:00:00Z') }, wallClock: { now: () => new Date('2026-12-03T10:00:00Z') },
    } as unknown as AppContext;
    await runController(ctx, {
      intervalMs: 20, until: 'forever', signal: stop.signal,
      onTick: (r) => {
        reports.push(r);
        if (reports.length === 4) stop.abort();
      },
    });
    expect(reports).toHaveLength(4);
    expect(pruned).toEqual(['2030-01-01T00:00:00.000Z']);
    expect(sessionsPruned).toEqual(['2026-12-03T10:00:00.000Z']);
    for (const r of reports) {
      expect(r.timing.startLagMs).toBeGreaterThanOrEqual(0);
      expect(r.timing.durationMs).toBeGreaterThanOrEqual(0);
      expect(r.timing.evaluationLagMs).toEqual([]);
    }
    for (let i = 1; i < reports.length; i++) expect(reports[i]!.timing.dueAt - reports[i - 1]!.timing.dueAt).toBeGreaterThanOrEqual(19); // timers may fire within the millisecond Date.now() rounds away
  });
});

describe('controllerTick spread', () => {
  it('environment i of n waits until i × spread / n after the pass was due', async () => {
    const watches = ['a', 'b', 'c', 'd'].map((env, id) => ({ id, env, kind: 'soak', state: 'running' }));
    const started: Record<string, number> = {};
    const ctx = {
      store: {
        listWatches: async () => watches,
        // Finished meanwhile: nothing is evaluated, but each environment's turn is still taken.
        getWatch: async (id: number) => {
          started[watches[id]!.env] = Date.now();
          return undefined;
        },
      },
    } as unknown as AppContext;
    const dueAt = Date.now();
    const report = await controllerTick(ctx, dueAt, 80);
    expect(report.evaluated).toBe(0);
    expect(started.a! - dueAt).toBeGreaterThanOrEqual(0);
    expect(started.b! - dueAt).toBeGreaterThanOrEqual(19); // timers may fire within the millisecond Date.now() rounds away
    expect(started.c! - dueAt).toBeGreaterThanOrEqual(39);
    expect(started.d! - dueAt).toBeGreaterThanOrEqual(59);
  });
});

describe('shipgate serve --stats-every', () => {
  it('a value that is not a duration is bad input naming the flag, before anything starts', async () => {
    const res = await shipgate(['serve', '--stats-every', 'often'], { cwd: os.tmpdir() });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--stats-every must be a duration such as 60s or 5m, got "often"');
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
