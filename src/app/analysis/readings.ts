import { readJsonField } from '../../adapters/metrics/http-json.js';
import { PrometheusClient } from '../../adapters/metrics/prometheus.js';
import { prometheusSource } from '../../adapters/metrics/prometheus-source.js';
import { openScrapeSource } from '../../adapters/metrics/scrape-source.js';
import type { MetricSource } from '../../adapters/metrics/source.js';
import { readRedisValue, REDIS_URL_VARIABLE } from '../../adapters/state/redis-client.js';
import type { AnalysisSpec, CheckSpec } from '../../config/schema.js';
import type { ResolvedService } from '../../config/resolve.js';
import type { Reading } from '../../core/analysis/checks.js';

/**
 * The environment's metric source: its services' /metrics (every replica's, summed), or its
 * Prometheus server. `located`: why the services could not be found (every scrape is then an error).
 * `catalog`: also keep every metric name the scrapes hold (`config check --live`'s suggestions).
 */
export async function openMetricSource(analysis: AnalysisSpec, services: ResolvedService[], located?: string, catalog = false): Promise<MetricSource> {
  if (analysis.source === 'prometheus') {
    if (!analysis.prometheusUrl) return unavailable('analysis.prometheusUrl is not set');
    return prometheusSource(new PrometheusClient({ baseUrl: analysis.prometheusUrl }));
  }
  if (located) return unavailable(located, 'error');
  return openScrapeSource(services.flatMap((s) => s.metricsUrls ?? (s.metricsUrl ? [s.metricsUrl] : [])), undefined, checkedMetrics(analysis.checks), catalog);
}

/** The metric names the checks read: a scrape parses only those out of each payload. */
export function checkedMetrics(checks: CheckSpec[]): Set<string> {
  return new Set(checks.flatMap((c) => (c.type === 'error-rate' || c.type === 'latency' || c.type === 'gauge' ? [c.metric] : [])));
}

function unavailable(reason: string, kind: 'no-data' | 'error' = 'no-data'): MetricSource {
  const reading = async (): Promise<Reading> => ({ kind, reason });
  return { kind: kind === 'error' ? 'scrape' : 'prometheus', counts: reading, buckets: reading, gauge: reading, query: reading, describe: async () => ({ error: reason }), metricNames: async () => ({ error: reason }) };
}

/** Reads every check of an environment once: a measurement, no data (with why) or a source error (with why). */
export async function collectReadings(analysis: AnalysisSpec, services: ResolvedService[], env: NodeJS.ProcessEnv = process.env, located?: string): Promise<Map<string, Reading>> {
  const source = await openMetricSource(analysis, services, located);
  const entries = await Promise.all(analysis.checks.map(async (check) => [check.name, await readCheck(check, source, env)] as const));
  return new Map(entries);
}

/** One reading of one check (also what `config check --live` shows for the checks that read a value). */
export async function readCheck(check: CheckSpec, source: MetricSource, env: NodeJS.ProcessEnv): Promise<Reading> {
  try {
    switch (check.type) {
      case 'error-rate':
        return await source.counts(check.metric, check.select, check.errors);
      case 'latency':
        return await source.buckets(check.metric, check.select);
      case 'gauge':
        return await source.gauge(check.metric, check.select);
      case 'promql':
        return source.kind === 'prometheus' ? await source.query(check.query) : { kind: 'no-data', reason: 'promql checks need analysis.source: prometheus' };
      case 'http-json': {
        const r = await readJsonField(check.url, check.path, undefined, check.headers);
        return r.kind === 'value' ? r : { kind: 'error', reason: r.reason };
      }
      case 'redis': {
        const url = check.url ?? env[REDIS_URL_VARIABLE];
        if (!url) return { kind: 'no-data', reason: `no Redis URL: set url on the check or ${REDIS_URL_VARIABLE}` };
        const r = await readRedisValue(url, check.key, check.field);
        if (r.kind === 'error') return { kind: 'error', reason: r.reason };
        return r.value === null ? { kind: 'no-data', reason: `key ${check.key} does not exist` } : { kind: 'value', value: r.value };
      }
    }
  } catch (err) {
    // An adapter that threw failed: an error, never a value.
    return { kind: 'error', reason: (err as Error).message };
  }
}
