import type { WatchRecord } from '../adapters/store/store.js';
import { abortableSleep } from '../adapters/time/sleep.js';
import { isoNow } from '../core/clock.js';
import { readingRows } from './analysis/series.js';
import type { MonitorData, SoakData } from './analysis/watch-data.js';
import type { AppContext } from './context.js';
import type { TickTiming } from './controller-stats.js';
import { evaluateMonitor } from './monitor.js';
import { PRUNE_EVERY_MS, pruneOldReadings } from './readings-retention.js';
import { evaluateSoak } from './soak.js';

export interface TickReport {
  evaluated: number;
  finished: WatchRecord<unknown>[];
  running: WatchRecord<unknown>[];
  timing: TickTiming;
}

/**
 * One pass of the evaluation loop over every running soak and monitor. Environments are
 * evaluated concurrently; within one, watches go one at a time so a rollback is never raced.
 * `spreadMs`: environment i is due at dueAt + i × spreadMs / environments, as Prometheus offsets
 * its scrape targets: started all at once, 200 services' probes and scrapes were one burst that
 * every environment's verdict waited for (bench/controller-scale.bench.mjs).
 */
export async function controllerTick(ctx: AppContext, dueAt = Date.now(), spreadMs = 0): Promise<TickReport> {
  const startedAt = Date.now();
  const evaluationLagMs: number[] = [];
  const running = await ctx.store.listWatches({ state: 'running' });
  const byEnv = new Map<string, WatchRecord<unknown>[]>();
  for (const w of running) byEnv.set(w.env, [...(byEnv.get(w.env) ?? []), w]);
  const slotMs = byEnv.size ? spreadMs / byEnv.size : 0;
  const results = await Promise.all(
    [...byEnv.values()].map(async (watches, i) => {
      const out: WatchRecord<unknown>[] = [];
      const envDueAt = dueAt + i * slotMs;
      await abortableSleep(Math.max(0, envDueAt - Date.now()));
      for (const w of watches) {
        // A watch may have been finished by an earlier one's rollback in this same pass.
        const fresh = await ctx.store.getWatch(w.id);
        if (!fresh || fresh.state !== 'running') continue;
        const at = isoNow(ctx.clock);
        const evaluated = w.kind === 'soak' ? await evaluateSoak(ctx, fresh as WatchRecord<SoakData>) : await evaluateMonitor(ctx, fresh as WatchRecord<MonitorData>);
        // The time series the control room charts: every check's reading of this evaluation.
        await ctx.store.appendReadings(w.id, at, readingRows((evaluated.data as SoakData | MonitorData).latest ?? []));
        out.push(evaluated);
        evaluationLagMs.push(Date.now() - envDueAt);
      }
      return out;
    }),
  );
  const all = results.flat();
  const timing = { dueAt, startLagMs: Math.max(0, startedAt - dueAt), durationMs: Date.now() - startedAt, evaluationLagMs };
  return { evaluated: all.length, finished: all.filter((w) => w.state !== 'running'), running: all.filter((w) => w.state === 'running'), timing };
}

export interface LoopOptions {
  intervalMs: number;
  /** 'idle': stop when nothing is running (watch); 'forever': until the signal aborts (serve). */
  until: 'idle' | 'forever';
  signal?: AbortSignal;
  onTick?: (report: TickReport) => void | Promise<void>;
}

/**
 * The loop's interval is real time: it paces reads of real services, whatever the domain clock says.
 * A pass is due one interval after the previous one started; lateness is reported in each tick's timing.
 */
export async function runController(ctx: AppContext, options: LoopOptions): Promise<void> {
  let dueAt = Date.now();
  let prunedAt = -Infinity;
  while (!options.signal?.aborted) {
    const started = Date.now();
    if (started - prunedAt >= PRUNE_EVERY_MS) {
      prunedAt = started;
      // Retention is housekeeping: a failure is shown and tried again next hour; it never stops the evaluations.
      await pruneOldReadings(ctx).catch((err: Error) => ctx.progress.warn(`could not delete old readings: ${err.message}`));
      await ctx.store.sessions.prune(ctx.wallClock.now().toISOString()).catch((err: Error) => ctx.progress.warn(`could not delete expired browser sessions: ${err.message}`));
    }
    // Environments spread over half the interval: each is still evaluated once per interval.
    const report = await controllerTick(ctx, dueAt, options.intervalMs / 2);
    dueAt = started + options.intervalMs;
    await options.onTick?.(report);
    if (options.until === 'idle' && report.running.length === 0 && (await ctx.store.listWatches({ state: 'running' })).length === 0) return;
    const wait = Math.max(0, options.intervalMs - (Date.now() - started));
    await abortableSleep(wait, options.signal);
  }
}
