// The metric sources behind their port: label and series sanity, the counter that appears only
// after its first increment, and source failures that are errors, never zeros. The samples are
// shaped like a Python service (app_requests_total{route,status}), not like the demo.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../src/adapters/metrics/exposition.js';
import { PrometheusClient } from '../src/adapters/metrics/prometheus.js';
import { prometheusSource, queryReading } from '../src/adapters/metrics/prometheus-source.js';
import { openScrapeSource, scrapeSource } from '../src/adapters/metrics/scrape-source.js';
import { describeSeries, parseMatchers } from '../src/adapters/metrics/series.js';

const PYTHON_APP = `# TYPE app_requests_total counter
app_requests_total{route="/orders",status="200"} 920
app_requests_total{route="/orders",status="503"} 80
app_requests_total{route="/healthz",status="200"} 400
# TYPE app_request_latency_seconds histogram
app_request_latency_seconds_bucket{route="/orders",le="0.02"} 300
app_request_latency_seconds_bucket{route="/orders",le="0.08"} 900
app_request_latency_seconds_bucket{route="/orders",le="0.32"} 990
app_request_latency_seconds_bucket{route="/orders",le="+Inf"} 1000
app_request_latency_seconds_count{route="/orders"} 1000
app_request_latency_seconds_sum{route="/orders"} 41.5
`;
const samples = parseExposition(PYTHON_APP).samples;

describe('describeSeries (also for config check --live)', () => {
  it('names a label the metric does not carry, and the labels it has', () => {
    expect(describeSeries(samples, 'app_requests_total', parseMatchers('code=~"5.."'))).toEqual({
      metric: 'app_requests_total', seriesOfMetric: 3, seriesMatched: 0, labelsSeen: ['route', 'status'],
      mismatch: '`code` is not a label of app_requests_total; it has route, status', absentLabel: 'code',
    });
    expect(describeSeries(samples, 'app_requests_total', parseMatchers('status=~"5.."'))).toEqual({ metric: 'app_requests_total', seriesOfMetric: 3, seriesMatched: 1, labelsSeen: ['route', 'status'] });
    // A matcher that accepts the empty value matches a missing label, as in PromQL: no mismatch.
    expect(describeSeries(samples, 'app_requests_total', parseMatchers('code!="500"')).mismatch).toBeUndefined();
    expect(describeSeries(samples, 'app_request_latency_seconds', parseMatchers('route="/orders"'))).toMatchObject({ seriesOfMetric: 4, seriesMatched: 4, labelsSeen: ['route'] });
    expect(describeSeries(samples, 'http_requests_total', [])).toMatchObject({ seriesOfMetric: 0, seriesMatched: 0 });
  });
});

describe('scrape source', () => {
  const source = scrapeSource(samples);

  it('reads 8 % server errors through the right label', async () => {
    expect(await source.counts('app_requests_total', 'route="/orders"', 'status=~"5.."')).toEqual({ kind: 'counts', total: 1000, errors: 80 });
  });

  it('a wrong label is reported as no data naming the labels, never as 0 errors', async () => {
    expect(await source.counts('app_requests_total', 'route="/orders"', 'code=~"5.."')).toEqual({ kind: 'no-data', reason: '`code` is not a label of app_requests_total; it has route, status' });
    expect(await source.counts('app_requests_total', 'path="/orders"', 'status=~"5.."')).toMatchObject({ kind: 'no-data', reason: expect.stringContaining('`path` is not a label') });
  });

  it('an error series absent until the first error is a true zero when the label exists', async () => {
    const healthy = scrapeSource(parseExposition('app_requests_total{route="/orders",status="200"} 500\n').samples);
    expect(await healthy.counts('app_requests_total', '', 'status=~"5.."')).toEqual({ kind: 'counts', total: 500, errors: 0 });
  });

  it('histograms keep their +Inf bucket; a missing metric is no data', async () => {
    const r = await source.buckets('app_request_latency_seconds', 'route="/orders"');
    expect(r).toMatchObject({ kind: 'buckets' });
    expect(r.kind === 'buckets' && r.buckets.at(-1)).toEqual({ le: Infinity, count: 1000 });
    expect(await source.buckets('http_request_duration_seconds', '')).toEqual({ kind: 'no-data', reason: 'no series named http_request_duration_seconds' });
  });
});

describe('source failures are errors', () => {
  let server: http.Server;
  let port: number;
  let mode: 'ok' | '500' | 'garbage' | 'prom-error' = 'ok';
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (mode === '500') return void res.writeHead(500).end('boom');
      if (mode === 'garbage') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('app_requests_total{route= 12 ???\n');
      if (mode === 'prom-error') return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }));
      if (req.url?.startsWith('/api/v1/query')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
      res.writeHead(200, { 'content-type': 'text/plain' }).end(PYTHON_APP);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('scrape: 5xx, unparseable and refused are errors for every metric check', async () => {
    mode = '500';
    expect(await (await openScrapeSource([`http://127.0.0.1:${port}/metrics`], 10_000)).counts('app_requests_total', '', 'status=~"5.."')).toMatchObject({ kind: 'error', reason: expect.stringContaining('HTTP 500') });
    mode = 'garbage';
    expect(await (await openScrapeSource([`http://127.0.0.1:${port}/metrics`], 10_000)).buckets('app_request_latency_seconds', '')).toMatchObject({ kind: 'error' });
    mode = 'ok';
    const partial = await openScrapeSource([`http://127.0.0.1:${port}/metrics`, 'http://127.0.0.1:1/metrics'], 10_000);
    expect(await partial.counts('app_requests_total', '', 'status=~"5.."')).toMatchObject({ kind: 'error', reason: expect.stringContaining('http://127.0.0.1:1/metrics') });
  });

  it('prometheus: a query error is an error, an empty result is marked empty, a dead server is an error', async () => {
    const client = new PrometheusClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 10_000 });
    mode = 'prom-error';
    expect(await prometheusSource(client).query('sum(rate(x[1m]')).toMatchObject({ kind: 'error', reason: expect.stringContaining('bad_data') });
    expect(await prometheusSource(client).counts('app_requests_total', '', 'status=~"5.."')).toMatchObject({ kind: 'error' });
    mode = 'ok';
    expect(await prometheusSource(client).query('sum(orders_total{status="rejected"})')).toEqual({ kind: 'no-data', reason: 'the query matched no series', empty: true });
    const dead = prometheusSource(new PrometheusClient({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 2000 }));
    expect(await dead.counts('app_requests_total', '', 'status=~"5.."')).toMatchObject({ kind: 'error' });
    expect(queryReading({ kind: 'data', data: [{ labels: {}, value: 3 }] })).toEqual({ kind: 'value', value: 3 });
  });
});
