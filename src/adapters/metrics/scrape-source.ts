import type { Reading } from '../../core/analysis/types.js';
import type { Sample } from './exposition.js';
import { scrapeMetrics } from './scrape.js';
import { closestNames } from '../../core/closest.js';
import { describeSeries, histogramBuckets, parseMatchers, sumSamples, type LabelMatcher, type SeriesDescription } from './series.js';
import type { MetricCatalog, MetricSource } from './source.js';

const selector = (metric: string, ...matchers: string[]) => `${metric}{${matchers.filter(Boolean).join(',')}}`;

/**
 * Scrapes every service's metrics URL once; the source then answers from those samples. Counters
 * are summed across services, so one missing service would look like a drop in traffic: a partial
 * scrape is an error for every metric check, not a smaller number. `metrics`: the only names the
 * source will be asked about (the checks'); the rest of each payload is skipped. `catalog`: keep the
 * names skipped, so that `describe` can suggest the closest to a metric the payloads lack.
 */
export async function openScrapeSource(urls: string[], timeoutMs?: number, metrics?: ReadonlySet<string>, catalog = false): Promise<MetricSource> {
  if (!urls.length) return failedScrapeSource('no service has a metrics URL', 'no-data');
  const scrapes = await Promise.all(urls.map((u) => scrapeMetrics(u, timeoutMs, metrics, catalog)));
  const failed = scrapes.flatMap((s) => (s.kind === 'error' ? [s.reason] : []));
  if (failed.length) return failedScrapeSource(failed.join('; '), 'error');
  const ok = scrapes.flatMap((s) => (s.kind === 'samples' ? [s] : []));
  // The catalog is only read by `config check --live`: built when asked, not on every scrape.
  const samples = ok.flatMap((s) => s.samples);
  return scrapeSource(samples, () => {
    const families = new Set(ok.flatMap((s) => s.families));
    return { families, names: new Set([...families, ...ok.flatMap((s) => [...s.skipped]), ...samples.map((s) => s.name)]) };
  });
}

function failedScrapeSource(reason: string, kind: 'error' | 'no-data'): MetricSource {
  const reading = async (): Promise<Reading> => ({ kind, reason });
  return { kind: 'scrape', counts: reading, buckets: reading, gauge: reading, query: async () => ({ kind: 'no-data', reason: 'promql checks need analysis.source: prometheus' }), describe: async () => ({ error: reason }), metricNames: async () => ({ error: reason }) };
}

/**
 * A source over samples already scraped (also what tests and `config check --live` use).
 * `catalog`: what else the payloads held (declared families, every name); by default only the samples.
 */
export function scrapeSource(all: Sample[], catalogOf?: () => MetricCatalog): MetricSource {
  let known: MetricCatalog | undefined;
  const catalog = (): MetricCatalog | undefined => (known ??= catalogOf?.());
  // Each check looks at one metric (a histogram: its _bucket series) several times; 20 services'
  // payloads hold thousands of samples, so they are grouped by name once.
  const byName = new Map<string, Sample[]>();
  for (const s of all) {
    const group = byName.get(s.name);
    if (group) group.push(s);
    else byName.set(s.name, [s]);
  }
  const names = (): string[] => [...(catalog()?.names ?? byName.keys())];
  const samplesOf = (metric: string): Sample[] => [...(byName.get(metric) ?? []), ...(byName.get(`${metric}_bucket`) ?? [])];
  /** The selector's series, or why it selects nothing (no such metric, a label the metric lacks). */
  const select = (samples: Sample[], metric: string, matchers: LabelMatcher[], text: string): Reading | undefined => {
    const d = describeSeries(samples, metric, matchers);
    if (d.seriesOfMetric === 0) return { kind: 'no-data', reason: `no series named ${metric}` };
    if (d.mismatch) return { kind: 'no-data', reason: d.mismatch };
    if (d.seriesMatched === 0) return { kind: 'no-data', reason: `no series ${selector(metric, text)}` };
    return undefined;
  };
  return {
    kind: 'scrape',
    async counts(metric, select_, errors) {
      const base = parse(select_);
      const failing = parse(errors);
      if (!Array.isArray(base)) return base;
      if (!Array.isArray(failing)) return failing;
      const samples = samplesOf(metric);
      const missing = select(samples, metric, base, select_);
      if (missing) return missing;
      // The error series may not exist before the first error; the label must (checked above by
      // describeSeries on every matcher): then "no series" is a true zero.
      const mismatch = describeSeries(samples, metric, [...base, ...failing]).mismatch;
      if (mismatch) return { kind: 'no-data', reason: mismatch };
      return { kind: 'counts', total: sumSamples(samples, metric, base) ?? 0, errors: sumSamples(samples, metric, [...base, ...failing]) ?? 0 };
    },
    async buckets(metric, select_) {
      const parsed = parse(select_);
      if (!Array.isArray(parsed)) return parsed;
      const samples = samplesOf(metric);
      const missing = select(samples, metric, parsed, select_);
      if (missing) return missing;
      const buckets = histogramBuckets(samples, metric, parsed);
      return buckets ? { kind: 'buckets', buckets } : { kind: 'no-data', reason: `no histogram ${selector(metric, select_)}` };
    },
    async gauge(metric, select_) {
      const parsed = parse(select_);
      if (!Array.isArray(parsed)) return parsed;
      const samples = samplesOf(metric);
      const missing = select(samples, metric, parsed, select_);
      if (missing) return missing;
      const value = sumSamples(samples, metric, parsed);
      return value === undefined ? { kind: 'no-data', reason: `no series ${selector(metric, select_)}` } : { kind: 'value', value };
    },
    async query() {
      return { kind: 'no-data', reason: 'promql checks need analysis.source: prometheus' };
    },
    async describe(metric, matchers) {
      const parsed = parse(matchers);
      if (!Array.isArray(parsed)) return { error: parsed.reason };
      const d = describeSeries(samplesOf(metric), metric, parsed, true);
      if (d.seriesOfMetric > 0) return d;
      const families = catalog()?.families ?? new Set(byName.keys());
      if (families.has(metric) || families.has(`${metric}_bucket`)) return { ...d, family: 'declared' };
      return { ...d, ...absentFamily(metric, names()) };
    },
    async metricNames() {
      return names();
    },
  };
}

/** A metric the source has never seen: the names closest to it (histogram and counter suffixes folded). */
export function absentFamily(metric: string, names: string[]): Pick<SeriesDescription, 'family' | 'suggestions' | 'namesKnown'> {
  const families = new Set(names.map((n) => n.replace(/_(bucket|sum|count|created)$/, '')).filter((n) => n !== metric));
  return { family: 'absent', suggestions: closestNames(metric, families), namesKnown: families.size };
}

/** Matcher text is configuration: a bad one is no evidence (inconclusive), not a source failure. */
function parse(text: string): LabelMatcher[] | { kind: 'no-data'; reason: string } {
  try {
    return parseMatchers(text);
  } catch (err) {
    return { kind: 'no-data', reason: (err as Error).message };
  }
}
