import type { Reading } from '../../core/analysis/types.js';
import type { Sample } from './exposition.js';
import { PrometheusClient, type QueryOutcome } from './prometheus.js';
import { absentFamily, scrapeSource } from './scrape-source.js';
import type { MetricSource } from './source.js';

/**
 * PromQL against a Prometheus server. Metric checks fetch the metric's current series (an instant
 * vector) and select and sum them exactly as the scrape source does, so both sources see the same
 * labels and report the same mismatches; a failed query is an error, an empty one no data.
 */
export function prometheusSource(client: PrometheusClient): MetricSource {
  const seriesOf = async (name: string): Promise<{ samples: Sample[] } | Reading> => {
    const r = await client.instant(name);
    if (r.kind === 'data') return { samples: r.data.map((s) => ({ name, labels: s.labels, value: s.value })) };
    if (r.failed) return { kind: 'error', reason: r.reason };
    return { kind: 'no-data', reason: r.reason === 'empty result' ? `no series named ${name}` : r.reason };
  };
  const over = async (name: string, read: (source: MetricSource) => Promise<Reading>): Promise<Reading> => {
    const found = await seriesOf(name);
    return 'samples' in found ? read(scrapeSource(found.samples)) : found;
  };
  return {
    kind: 'prometheus',
    counts: (metric, select, errors) => over(metric, (s) => s.counts(metric, select, errors)),
    buckets: (metric, select) => over(`${metric}_bucket`, (s) => s.buckets(metric, select)),
    gauge: (metric, select) => over(metric, (s) => s.gauge(metric, select)),
    async query(promql) {
      return queryReading(await client.instant(promql));
    },
    async describe(metric, matchers) {
      for (const name of [metric, `${metric}_bucket`]) {
        const found = await seriesOf(name);
        if ('samples' in found) return scrapeSource(found.samples).describe(metric, matchers);
        if (found.kind === 'error') return { error: found.reason };
      }
      const none = { metric, seriesOfMetric: 0, seriesMatched: 0, labelsSeen: [] };
      // No current series: a name Prometheus holds (stale, or declared by a target without samples)
      // is "no traffic yet"; one it has never seen is the wrong name.
      const names = await client.metricNames();
      if (names.kind === 'no-data') return { error: names.reason };
      if (names.data.includes(metric) || names.data.includes(`${metric}_bucket`)) return { ...none, family: 'declared' };
      const declared = await client.declares(metric);
      if (declared.kind === 'no-data') return { error: declared.reason };
      return declared.data ? { ...none, family: 'declared' } : { ...none, ...absentFamily(metric, names.data) };
    },
    async metricNames() {
      const names = await client.metricNames();
      return names.kind === 'data' ? names.data : { error: names.reason };
    },
  };
}

/** One number from an instant query: an empty result is marked as such (the check's `empty:` decides), a failure is an error. */
export function queryReading(r: QueryOutcome<{ labels: Record<string, string>; value: number }[]>): Reading {
  if (r.kind === 'no-data') {
    if (r.failed) return { kind: 'error', reason: r.reason };
    return r.reason === 'empty result' ? { kind: 'no-data', reason: 'the query matched no series', empty: true } : { kind: 'no-data', reason: r.reason };
  }
  if (r.data.length !== 1) return { kind: 'no-data', reason: `expected exactly one series, got ${r.data.length} series` };
  const value = r.data[0]!.value;
  return Number.isNaN(value) ? { kind: 'no-data', reason: 'result is NaN' } : { kind: 'value', value };
}
