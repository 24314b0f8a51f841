/**
 * The metric-source port (as Argo Rollouts' metricproviders/provider.go): one implementation per
 * source, `scrape-source.ts` (each service's /metrics) and `prometheus-source.ts` (PromQL).
 *
 * Every method answers with a core Reading and never throws: a measurement; `no-data` when the
 * source answered without one (no series, a label the metric does not carry, an empty query);
 * `error` when the source itself failed (timeout, refused, 5xx, unparseable answer, query error).
 * Neither is ever turned into 0.
 */
import type { Reading } from '../../core/analysis/types.js';
import type { SeriesDescription } from './series.js';

export type MetricSourceKind = 'scrape' | 'prometheus';

export interface MetricSource {
  readonly kind: MetricSourceKind;
  /** Total requests of a counter and those among them the `errors` matchers select. */
  counts(metric: string, select: string, errors: string): Promise<Reading>;
  /** A classic histogram (`${metric}_bucket`), summed by `le`. */
  buckets(metric: string, select: string): Promise<Reading>;
  /** The sum of a gauge's matching series. */
  gauge(metric: string, select: string): Promise<Reading>;
  /** A PromQL query with one number as its answer; an empty result is `no-data` with `empty: true`. */
  query(promql: string): Promise<Reading>;
  /** What a selector finds (series matched, labels seen, mismatch), for checks and `config check --live`. */
  describe(metric: string, matchers: string): Promise<SeriesDescription | { error: string }>;
  /** Every metric name the source holds (a scrape: every family and sample name in the payloads; Prometheus: `__name__` values). */
  metricNames(): Promise<string[] | { error: string }>;
}

/** What a scrape's payloads declare beyond the samples kept: the families asked about, and every name. */
export interface MetricCatalog {
  /** Families of the wanted metrics the payloads hold, with or without samples (`# TYPE`/`# HELP` or a sample). */
  families: ReadonlySet<string>;
  /** Every family and sample name in the payloads. */
  names: ReadonlySet<string>;
}
