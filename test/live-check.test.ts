// `config check --live`: what each check's selectors find on a source, from exposition text.
import { describe, expect, it } from 'vitest';
import { parseExposition } from '../src/adapters/metrics/exposition.js';
import { scrapeSource } from '../src/adapters/metrics/scrape-source.js';
import { probeChecks } from '../src/app/analysis/live-check.js';
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

function checks(errors: string) {
  const { config, problems } = checkConfigText(`version: 1
services:
  quotes: { command: [python3, quotes.py], port: 9100, metrics: 'http://127.0.0.1:{port}/metrics' }
environments:
  qa:
    analysis:
      checks:
        - { name: quote-errors, type: error-rate, metric: app_requests_total, errors: '${errors}', select: 'route="/api/quote"' }
        - { name: quote-p95, type: latency, metric: app_request_latency_seconds, select: 'route="/api/quote"' }
        - { name: p99-typo, type: latency, metric: app_request_latency_seconds, select: 'path="/api/quote"' }
        - { name: ready, type: http-json, url: 'http://127.0.0.1:9100/healthz', path: state, equals: ok }
`, 'shipgate.yml');
  expect(problems).toEqual([]);
  return config!.environments.qa!.analysis!.checks;
}

describe('probeChecks', () => {
  const source = scrapeSource(parseExposition(EXPOSITION).samples);
  const describe_ = (metric: string, matchers: string) => source.describe(metric, matchers);

  it('names the labels that exist when a matcher names one the metric does not carry', async () => {
    const report = await probeChecks('qa', 'scrape', checks('code=~"5.."'), describe_);
    expect(report.ok).toBe(false);
    expect(report.checks).toEqual([
      { name: 'quote-errors', type: 'error-rate', metric: 'app_requests_total', selector: 'app_requests_total{route="/api/quote"}', seriesMatched: 1, labelsSeen: ['route', 'status'], errorSeriesMatched: 0, mismatch: '`code` is not a label of app_requests_total; it has route, status' },
      { name: 'quote-p95', type: 'latency', metric: 'app_request_latency_seconds', selector: 'app_request_latency_seconds{route="/api/quote"}', seriesMatched: 2, labelsSeen: ['route'] },
      expect.objectContaining({ name: 'p99-typo', seriesMatched: 0, mismatch: '`path` is not a label of app_request_latency_seconds; it has route' }),
      { name: 'ready', type: 'http-json', note: 'a http-json check reads no metric selector; not probed' },
    ]);
  });

  it('an error series that does not exist yet is 0 matched, not a mismatch: the label exists', async () => {
    const report = await probeChecks('qa', 'scrape', checks('status=~"5.."').slice(0, 2), describe_);
    expect(report.ok).toBe(true);
    expect(report.checks[0]).toMatchObject({ name: 'quote-errors', seriesMatched: 1, errorSeriesMatched: 0 });
    expect(report.checks[0]!.mismatch).toBeUndefined();
  });

  it('a failed source is an error for every probed check, never "0 series"', async () => {
    const report = await probeChecks('qa', 'scrape', checks('status=~"5.."'), async () => ({ error: 'connect ECONNREFUSED 127.0.0.1:9100' }));
    expect(report.ok).toBe(false);
    expect(report.checks.slice(0, 3).map((c) => [c.error, c.seriesMatched])).toEqual([['connect ECONNREFUSED 127.0.0.1:9100', undefined], ['connect ECONNREFUSED 127.0.0.1:9100', undefined], ['connect ECONNREFUSED 127.0.0.1:9100', undefined]]);
  });
});
