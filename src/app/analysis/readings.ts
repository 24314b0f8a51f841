import { readJsonField } from '../../adapters/metrics/http-json.js';
import { PrometheusClient } from '../../adapters/metrics/prometheus.js';
import { scrapeMetrics } from '../../adapters/metrics/scrape.js';
import type { Sample } from '../../adapters/metrics/exposition.js';
import { histogramBuckets, parseMatchers, sumSamples, type Bucket } from '../../adapters/metrics/series.js';
import { readRedisValue, REDIS_URL_VARIABLE } from '../../adapters/state/redis-client.js';
import type { AnalysisSpec, CheckSpec } from '../../config/schema.js';
import type { ResolvedService } from '../../config/resolve.js';
import type { Reading } from '../../core/analysis/checks.js';

type MetricView = { kind: 'samples'; samples: Sample[] } | { kind: 'prometheus'; client: PrometheusClient } | { kind: 'down'; reason: string };

/** Reads every check of an environment once. Each reading is data or an explicit "no data". */
export async function collectReadings(analysis: AnalysisSpec, services: ResolvedService[], env: NodeJS.ProcessEnv = process.env): Promise<Map<string, Reading>> {
  const view = await metricView(analysis, services);
  const entries = await Promise.all(analysis.checks.map(async (check) => [check.name, await readCheck(check, view, env)] as const));
  return new Map(entries);
}

async function metricView(analysis: AnalysisSpec, services: ResolvedService[]): Promise<MetricView> {
  if (analysis.source === 'prometheus') {
    if (!analysis.prometheusUrl) return { kind: 'down', reason: 'analysis.prometheusUrl is not set' };
    return { kind: 'prometheus', client: new PrometheusClient({ baseUrl: analysis.prometheusUrl }) };
  }
  const urls = services.filter((s) => s.metricsUrl).map((s) => s.metricsUrl!);
  if (!urls.length) return { kind: 'down', reason: 'no service has a metrics URL' };
  const scrapes = await Promise.all(urls.map((u) => scrapeMetrics(u)));
  // Counters are summed across services, so one missing service would look like a drop in
  // traffic: a partial scrape is no data, not a smaller number.
  const failed = scrapes.flatMap((s) => (s.kind === 'error' ? [s.reason] : []));
  if (failed.length) return { kind: 'down', reason: failed.join('; ') };
  return { kind: 'samples', samples: scrapes.flatMap((s) => (s.kind === 'samples' ? s.samples : [])) };
}

async function readCheck(check: CheckSpec, view: MetricView, env: NodeJS.ProcessEnv): Promise<Reading> {
  try {
    switch (check.type) {
      case 'error-rate':
        return await readCounts(view, check.metric, check.select, check.errors);
      case 'latency':
        return await readBuckets(view, check.metric, check.select);
      case 'gauge':
        return await readGauge(view, check.metric, check.select);
      case 'http-json': {
        const r = await readJsonField(check.url, check.path, undefined, check.headers);
        return r.kind === 'value' ? r : { kind: 'no-data', reason: r.reason };
      }
      case 'redis': {
        const url = check.url ?? env[REDIS_URL_VARIABLE];
        if (!url) return { kind: 'no-data', reason: `no Redis URL: set url on the check or ${REDIS_URL_VARIABLE}` };
        const r = await readRedisValue(url, check.key, check.field);
        if (r.kind === 'error') return { kind: 'no-data', reason: r.reason };
        return r.value === null ? { kind: 'no-data', reason: `key ${check.key} does not exist` } : { kind: 'value', value: r.value };
      }
      case 'promql': {
        if (view.kind !== 'prometheus') return { kind: 'no-data', reason: 'promql checks need analysis.source: prometheus' };
        const r = await view.client.scalar(check.query);
        return r.kind === 'data' ? { kind: 'value', value: r.data } : { kind: 'no-data', reason: r.reason };
      }
    }
  } catch (err) {
    return { kind: 'no-data', reason: (err as Error).message };
  }
}

const selector = (metric: string, ...matchers: string[]) => `${metric}{${matchers.filter(Boolean).join(',')}}`;

async function readCounts(view: MetricView, metric: string, select: string, errors: string): Promise<Reading> {
  if (view.kind === 'down') return { kind: 'no-data', reason: view.reason };
  if (view.kind === 'prometheus') {
    const total = await view.client.scalar(`sum(${selector(metric, select)})`);
    if (total.kind === 'no-data') return { kind: 'no-data', reason: total.reason };
    const failed = await view.client.scalar(`sum(${selector(metric, select, errors)})`);
    // No error series at all while requests exist means no request has failed yet.
    return { kind: 'counts', total: total.data, errors: failed.kind === 'data' ? failed.data : 0 };
  }
  const base = parseMatchers(select);
  const total = sumSamples(view.samples, metric, base);
  if (total === undefined) return { kind: 'no-data', reason: `no series ${selector(metric, select)}` };
  return { kind: 'counts', total, errors: sumSamples(view.samples, metric, [...base, ...parseMatchers(errors)]) ?? 0 };
}

async function readBuckets(view: MetricView, metric: string, select: string): Promise<Reading> {
  if (view.kind === 'down') return { kind: 'no-data', reason: view.reason };
  if (view.kind === 'prometheus') {
    const r = await view.client.instant(`sum by (le) (${selector(`${metric}_bucket`, select)})`);
    if (r.kind === 'no-data') return r;
    const buckets: Bucket[] = r.data
      .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }))
      .filter((b) => !Number.isNaN(b.le))
      .sort((a, b) => a.le - b.le);
    return buckets.length ? { kind: 'buckets', buckets } : { kind: 'no-data', reason: `no buckets for ${metric}` };
  }
  const buckets = histogramBuckets(view.samples, metric, parseMatchers(select));
  return buckets ? { kind: 'buckets', buckets } : { kind: 'no-data', reason: `no histogram ${selector(metric, select)}` };
}

async function readGauge(view: MetricView, metric: string, select: string): Promise<Reading> {
  if (view.kind === 'down') return { kind: 'no-data', reason: view.reason };
  if (view.kind === 'prometheus') {
    const r = await view.client.scalar(`sum(${selector(metric, select)})`);
    return r.kind === 'data' ? { kind: 'value', value: r.data } : r;
  }
  const value = sumSamples(view.samples, metric, parseMatchers(select));
  return value === undefined ? { kind: 'no-data', reason: `no series ${selector(metric, select)}` } : { kind: 'value', value };
}
