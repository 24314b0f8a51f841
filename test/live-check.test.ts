// `config check --live`: what each check's selectors find on a source, from exposition text.
import { describe, expect, it } from 'vitest';
import { parseExposition } from '../src/adapters/metrics/exposition.js';
import { scrapeSource } from '../src/adapters/metrics/scrape-source.js';
import type { MetricSource } from '../src/adapters/metrics/source.js';
import { probeChecks, promqlMetricNames, type LiveProbe } from '../src/app/analysis/live-check.js';
import type { CheckSpec } from '../src/config/schema.js';
import { checkConfigText } from '../src/config/load.js';

const EXPOSITION = `# TYPE app_requests_total counter
app_requests_total{route="/api/quote",status="200"} 90
app_requests_total{route="/healthz",status="200"} 4
# TYPE app_request_latency_seconds histogram
app_request_latency_seconds_bucket{route="/api/quote",le="0.1"} 10
app_request_latency_seconds_bucket{route="/api/quote",le="+Inf"} 90
app_request_latency_seconds_sum{route="/api/quote"} 12
app_request_latency_seconds_count{route="/api/quote"} 90
`;

function checksOf(yamlChecks: string): CheckSpec[] {
  const { config, problems } = checkConfigText(`version: 1
services:
  quotes: { command: [python3, quotes.py], port: 9100, metrics: 'http://127.0.0.1:{port}/metrics' }
environments:
  qa:
    analysis:
      checks:
${yamlChecks}
`, 'shipgate.yml');
  expect(problems).toEqual([]);
  return config!.environments.qa!.analysis!.checks;
}

const checks = (errors: string) => checksOf(`        - { name: quote-errors, type: error-rate, metric: app_requests_total, errors: '${errors}', select: 'route="/api/quote"' }
        - { name: quote-p95, type: latency, metric: app_request_latency_seconds, select: 'route="/api/quote"' }
        - { name: p99-typo, type: latency, metric: app_request_latency_seconds, select: 'path="/api/quote"' }`);

/** A probe over a scrape of `text`, parsed as the live check parses it: only the checks' metrics kept. */
function probeOf(text: string, wanted?: string[], read: LiveProbe['read'] = async () => ({ kind: 'no-data', reason: 'not read' })): LiveProbe {
  const parsed = parseExposition(text, wanted ? new Set(wanted) : undefined, true);
  const families = new Set(parsed.families.keys());
  const source: MetricSource = scrapeSource(parsed.samples, () => ({ families, names: new Set([...families, ...parsed.skipped]) }));
  return { kind: 'scrape', describe: (m, s) => source.describe(m, s), metricNames: () => source.metricNames(), read };
}

describe('probeChecks', () => {
  const probe = probeOf(EXPOSITION);

  it('names the labels that exist when a matcher names one the metric does not carry', async () => {
    const report = await probeChecks('qa', 'scrape', checks('code=~"5.."'), probe);
    expect(report.ok).toBe(false);
    expect(report.checks).toEqual([
      { name: 'quote-errors', type: 'error-rate', status: 'problem', metric: 'app_requests_total', selector: 'app_requests_total{route="/api/quote"}', seriesMatched: 1, labelsSeen: ['route', 'status'], errorSeriesMatched: 0, mismatch: '`code` is not a label of app_requests_total; it has route, status (fix `errors: \'code=~"5.."\'` of check quote-errors)' },
      { name: 'quote-p95', type: 'latency', status: 'ok', metric: 'app_request_latency_seconds', selector: 'app_request_latency_seconds{route="/api/quote"}', seriesMatched: 2, labelsSeen: ['route'], valuesSeen: { route: ['/api/quote'] } },
      expect.objectContaining({ name: 'p99-typo', status: 'problem', seriesMatched: 0, mismatch: '`path` is not a label of app_request_latency_seconds; it has route (fix `select: \'path="/api/quote"\'` of check p99-typo)' }),
    ]);
  });

  // Found in an operator's trial: a misspelt label named neither the check's field to fix nor the label meant.
  it('a misspelt label names the closest label and the field of the check that holds it', async () => {
    const report = await probeChecks('qa', 'scrape', checksOf(`        - { name: quote-errors, type: error-rate, metric: app_requests_total, errors: 'statu=~"5.."', select: 'route="/api/quote"' }
        - { name: quote-p95, type: latency, metric: app_request_latency_seconds, select: 'rout="/api/quote"' }`), probe);
    expect(report.checks.map((c) => [c.status, c.mismatch])).toEqual([
      ['problem', '`statu` is not a label of app_requests_total; it has route, status; did you mean status? (fix `errors: \'statu=~"5.."\'` of check quote-errors)'],
      ['problem', '`rout` is not a label of app_request_latency_seconds; it has route; did you mean route? (fix `select: \'rout="/api/quote"\'` of check quote-p95)'],
    ]);
  });

  it('an error series that does not exist yet is 0 matched, not a mismatch: the label exists', async () => {
    const report = await probeChecks('qa', 'scrape', checks('status=~"5.."').slice(0, 2), probe);
    expect(report.ok).toBe(true);
    expect(report.checks[0]).toMatchObject({ name: 'quote-errors', status: 'ok', seriesMatched: 1, errorSeriesMatched: 0 });
    expect(report.checks[0]!.mismatch).toBeUndefined();
  });

  it('a failed source is an error for every probed check, never "0 series"', async () => {
    const failed: LiveProbe = { kind: 'scrape', describe: async () => ({ error: 'connect ECONNREFUSED 127.0.0.1:9100' }), metricNames: async () => ({ error: 'x' }), read: async () => ({ kind: 'error', reason: 'x' }) };
    const report = await probeChecks('qa', 'scrape', checks('status=~"5.."'), failed);
    expect(report.ok).toBe(false);
    expect(report.checks.map((c) => [c.status, c.error, c.seriesMatched])).toEqual(Array(3).fill(['error', 'connect ECONNREFUSED 127.0.0.1:9100', undefined]));
  });
});

// An order router's own names, unlike the demo stack's: orders_total{outcome,venue}, order_latency_seconds.
const ORDERS = `# HELP orders_total Orders routed, by outcome.
# TYPE orders_total counter
orders_total{outcome="filled",venue="xnys"} 1200
orders_total{outcome="rejected",venue="xnys"} 3
orders_total{outcome="filled",venue="xlon"} 800
# TYPE order_latency_seconds histogram
order_latency_seconds_bucket{venue="xnys",le="0.05"} 1000
order_latency_seconds_bucket{venue="xnys",le="+Inf"} 1203
order_latency_seconds_sum{venue="xnys"} 30
order_latency_seconds_count{venue="xnys"} 1203
# HELP cancels_total Cancels sent.
# TYPE cancels_total counter
# TYPE router_up gauge
router_up 1
`;

describe('probeChecks on an order router', () => {
  const wanted = ['order_total', 'orders_total', 'order_latency_seconds', 'cancels_total', 'order_latency'];

  it('a metric name the scrape does not hold is an error naming the closest ones; a declared family with no samples is a warning', async () => {
    const cs = checksOf(`        - { name: rejects, type: error-rate, metric: order_total, errors: 'outcome="rejected"' }
        - { name: p95, type: latency, metric: order_latency, select: 'venue="xnys"' }
        - { name: cancels, type: error-rate, metric: cancels_total, errors: 'outcome="failed"' }`);
    const report = await probeChecks('prod', 'scrape', cs, probeOf(ORDERS, wanted));
    expect(report.ok).toBe(false);
    expect(report.checks[0]).toMatchObject({ name: 'rejects', status: 'problem', seriesMatched: 0, problem: 'no metric named order_total in the scrape; did you mean orders_total?' });
    expect(report.checks[1]).toMatchObject({ name: 'p95', status: 'problem' });
    expect(report.checks[1]!.problem).toMatch(/^no metric named order_latency in the scrape; did you mean order_latency_seconds/);
    expect(report.checks[2]).toMatchObject({ name: 'cancels', status: 'warning', warnings: ['cancels_total is declared but has no series yet (no traffic so far): every reading is inconclusive until it has; its label outcome cannot be checked until then'] });
  });

  it('an empty payload cannot tell a wrong name from no metrics yet: a warning, not ✓', async () => {
    const cs = checksOf(`        - { name: rejects, type: error-rate, metric: orders_total, errors: 'outcome="rejected"' }`);
    const report = await probeChecks('prod', 'scrape', cs, probeOf('', wanted));
    expect(report.checks[0]).toMatchObject({ status: 'warning' });
    expect(report.checks[0]!.warnings![0]).toMatch(/holds no metrics at all yet/);
  });

  it('a label value never seen is a warning listing the values seen; a seen one is ✓', async () => {
    const cs = checksOf(`        - { name: typo, type: error-rate, metric: orders_total, errors: 'outcome="rejectd"', select: 'venue="xnys"' }
        - { name: right, type: error-rate, metric: orders_total, errors: 'outcome=~"rejected|expired"' }
        - { name: venue-typo, type: latency, metric: order_latency_seconds, select: 'venue="xnsy"' }`);
    const report = await probeChecks('prod', 'scrape', cs, probeOf(ORDERS, wanted));
    expect(report.ok).toBe(true);
    expect(report.checks[0]).toMatchObject({ status: 'warning', errorSeriesMatched: 0, valuesSeen: { venue: ['xlon', 'xnys'], outcome: ['filled', 'rejected'] } });
    expect(report.checks[0]!.warnings).toEqual(['outcome="rejectd": no series of orders_total has that value yet (a typo, or none so far); outcome has filled, rejected']);
    expect(report.checks[1]).toMatchObject({ status: 'warning', warnings: ['outcome="expired": no series of orders_total has that value yet (a typo, or none so far); outcome has filled, rejected'] });
    expect(report.checks[2]).toMatchObject({ status: 'warning', seriesMatched: 0, warnings: ['venue="xnsy": no series of order_latency_seconds has that value yet (a typo, or none so far); venue has xnys'] });
    const right = checksOf(`        - { name: right, type: error-rate, metric: orders_total, errors: 'outcome="rejected"' }`);
    expect((await probeChecks('prod', 'scrape', right, probeOf(ORDERS, wanted))).checks[0]).toMatchObject({ status: 'ok', errorSeriesMatched: 1 });
  });

  it('value checks are read now: a value is shown with what it means, garbage is ✗, an absent key a warning', async () => {
    const cs = checksOf(`        - { name: halt, type: redis, url: 'redis://127.0.0.1:6390', key: 'router:halt', equals: 0 }`);
    const values: Record<string, Parameters<LiveProbe['read']> extends unknown[] ? Awaited<ReturnType<LiveProbe['read']>> : never> = {
      calm: { kind: 'value', value: '0' },
      halted: { kind: 'value', value: '1' },
      garbage: { kind: 'value', value: 'maybe' },
      absent: { kind: 'no-data', reason: 'key router:halt does not exist' },
      down: { kind: 'error', reason: 'redis://127.0.0.1:6390: connect ECONNREFUSED' },
    };
    const rows = [];
    for (const reading of Object.values(values)) rows.push((await probeChecks('prod', 'scrape', cs, probeOf(ORDERS, wanted, async () => reading))).checks[0]);
    expect(rows.map((r) => [r!.status, r!.note ?? r!.warnings?.[0] ?? r!.error])).toEqual([
      ['ok', 'reads "0" (expects equals 0)'],
      ['warning', 'reads "1" (expects equals 0): the check fails now'],
      ['error', 'reads "maybe" (expects equals 0): not a number, so the check can never pass'],
      ['warning', 'key router:halt does not exist: the check reads no data (inconclusive) until it is set'],
      ['error', 'redis://127.0.0.1:6390: connect ECONNREFUSED'],
    ]);
  });

  it('a promql check on a scraped environment is a configuration problem', async () => {
    const cs = checksOf(`        - { name: fills, type: promql, query: 'sum(rate(orders_total[5m]))', min: 1 }`);
    expect((await probeChecks('prod', 'scrape', cs, probeOf(ORDERS, wanted))).checks[0]).toMatchObject({ status: 'problem', problem: expect.stringMatching(/need analysis.source: prometheus/) });
  });
});

describe('promqlMetricNames', () => {
  it('reads metric names, not functions, keywords, labels or durations', () => {
    expect(promqlMetricNames('sum by (venue) (rate(orders_total{outcome="rejected"}[5m] offset 1h)) / sum(rate(orders_total[5m])) > bool 0.1')).toEqual(['orders_total']);
    expect(promqlMetricNames('histogram_quantile(0.95, sum by (le) (rate(order_latency_seconds_bucket[5m])))')).toEqual(['order_latency_seconds_bucket']);
    expect(promqlMetricNames('router_up and on(instance) up')).toEqual(['router_up', 'up']);
  });
});
