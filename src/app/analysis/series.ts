import type { NewReading, ReadingRecord, WatchRecord } from '../../adapters/store/store.js';
import type { CheckResult, VerdictRun } from '../../core/analysis/checks.js';
import { badInput } from '../../core/errors.js';
import type { AppContext } from '../context.js';
import type { MonitorData, SoakData } from './watch-data.js';

/** What one evaluation's results leave in the readings table. */
export function readingRows(results: CheckResult[]): NewReading[] {
  return results.map((r) => ({
    check: r.name, verdict: r.verdict, reason: r.reason,
    value: numeric(r.value) ?? numeric(r.evidence?.value),
    evidence: (r.evidence ?? {}) as Record<string, unknown>,
  }));
}

const numeric = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export interface SeriesPoint {
  at: string;
  verdict: ReadingRecord['verdict'];
  value: number | null;
  threshold: number | null;
  baseline: number | null;
  /** The sequential test's log-likelihood ratio (Page's CUSUM, regression at upper) and its unclamped
   * Wald sum (healthy at lower), with the bounds (rate checks). */
  statistic: number | null;
  wald: number | null;
  lower: number | null;
  upper: number | null;
  reason: string;
}

export interface WatchSeries {
  watch: Pick<WatchRecord, 'id' | 'kind' | 'env' | 'version' | 'state' | 'startedAt' | 'finishedAt'>;
  checks: { name: string; points: SeriesPoint[]; history: VerdictRun[] }[];
}

const toPoint = (r: ReadingRecord): SeriesPoint => ({
  at: r.at, verdict: r.verdict, value: r.value, threshold: numeric(r.evidence.threshold), baseline: numeric(r.evidence.baseline),
  statistic: numeric(r.evidence.llr), wald: numeric(r.evidence.wald), lower: numeric(r.evidence.lower), upper: numeric(r.evidence.upper), reason: r.reason,
});

/** A soak's or monitor's readings per check, oldest first (the last `limit` rows), with each check's verdict runs. */
export async function watchSeries(ctx: AppContext, id: number, limit = 5000): Promise<WatchSeries> {
  const watch = (await ctx.store.getWatch(id)) as WatchRecord<SoakData | MonitorData> | undefined;
  if (!watch) throw badInput(`no soak or monitor #${id}`, { where: 'id', hint: 'List them with GET /api/soaks or /api/monitors.' });
  const rows = await ctx.store.listReadings(id, { limit });
  const names = [...new Set([...Object.keys(watch.data.checks ?? {}), ...rows.map((r) => r.check)])];
  return {
    watch: { id: watch.id, kind: watch.kind, env: watch.env, version: watch.version, state: watch.state, startedAt: watch.startedAt, finishedAt: watch.finishedAt },
    checks: names.map((name) => ({ name, points: rows.filter((r) => r.check === name).map(toPoint), history: watch.data.checks?.[name]?.history ?? [] })),
  };
}
