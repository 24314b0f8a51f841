import type { ResolvedEnvironment } from '../../config/resolve.js';
import type { CheckSpec } from '../../config/schema.js';
import { openMetricSource } from './readings.js';

/** What a metrics source says a selector finds (the shape of MetricSource.describe). */
export interface SelectorFacts {
  metric: string;
  seriesOfMetric: number;
  seriesMatched: number;
  labelsSeen: string[];
  mismatch?: string;
}

export type Describe = (metric: string, matchers: string) => Promise<SelectorFacts | { error: string }>;

export interface LiveCheckRow {
  name: string;
  type: CheckSpec['type'];
  metric?: string;
  selector?: string;
  /** Series the check's selector matches (for an error-rate check: the requests). */
  seriesMatched?: number;
  /** Error-rate checks: series the errors matcher selects among them (0 is fine before the first failure). */
  errorSeriesMatched?: number;
  labelsSeen?: string[];
  /** A matcher naming a label the metric does not carry: a configuration problem (exit 2). */
  mismatch?: string;
  /** The source failed (refused, timeout, 5xx, unparseable): nothing is known (exit 1). */
  error?: string;
  note?: string;
}

const joined = (...parts: string[]) => parts.map((p) => p.trim().replace(/^\{|\}$/g, '')).filter(Boolean).join(',');

/** Probes one check's selectors; checks that read no metric selector (http-json, redis, promql) are listed, not probed. */
export async function probeCheck(check: CheckSpec, describe: Describe): Promise<LiveCheckRow> {
  const row: LiveCheckRow = { name: check.name, type: check.type };
  if (check.type !== 'error-rate' && check.type !== 'latency' && check.type !== 'gauge') {
    return { ...row, note: `a ${check.type} check reads no metric selector; not probed` };
  }
  const selector = check.select;
  Object.assign(row, { metric: check.metric, selector: `${check.metric}{${selector}}` });
  const requests = await describe(check.metric, selector);
  if ('error' in requests) return { ...row, error: requests.error };
  Object.assign(row, { seriesMatched: requests.seriesMatched, labelsSeen: requests.labelsSeen });
  if (requests.mismatch) return { ...row, mismatch: requests.mismatch };
  if (requests.seriesOfMetric === 0) return { ...row, note: `no series of ${check.metric} yet: no traffic so far, or not the metric's name` };
  if (requests.seriesMatched === 0) row.note = `no series of ${check.metric} matches ${selector || 'the selector'} yet`;
  if (check.type === 'error-rate') {
    const errors = await describe(check.metric, joined(selector, check.errors));
    if ('error' in errors) return { ...row, error: errors.error };
    row.errorSeriesMatched = errors.seriesMatched;
    if (errors.mismatch) return { ...row, mismatch: errors.mismatch };
  }
  return row;
}

export interface LiveCheckReport {
  env: string;
  source: string;
  ok: boolean;
  checks: LiveCheckRow[];
}

export async function probeChecks(env: string, source: string, checks: CheckSpec[], describe: Describe): Promise<LiveCheckReport> {
  const rows: LiveCheckRow[] = [];
  for (const check of checks) rows.push(await probeCheck(check, describe));
  return { env, source, ok: rows.every((r) => !r.mismatch && !r.error), checks: rows };
}

/** `config check --live <env>`: the environment's metrics source, asked what each check's selectors find. */
export async function liveConfigCheck(environment: ResolvedEnvironment): Promise<LiveCheckReport> {
  const { name: env, spec, services } = environment;
  const analysis = spec.analysis;
  if (!analysis?.checks.length) return { env, source: analysis?.source ?? 'scrape', ok: true, checks: [] };
  const source = await openMetricSource(analysis, services);
  return probeChecks(env, analysis.source, analysis.checks, (metric, matchers) => source.describe(metric, matchers));
}
