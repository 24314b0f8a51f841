// What the controller reads each second of every service, made cheap: GETs over kept-alive
// connections (getText) and scrapes that parse only the metrics the checks read.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getText } from '../src/adapters/http/get-text.js';
import { ExpositionParseError, parseExposition } from '../src/adapters/metrics/exposition.js';
import { openScrapeSource } from '../src/adapters/metrics/scrape-source.js';
import { checkedMetrics } from '../src/app/analysis/readings.js';

const PAYLOAD = `# HELP http_requests_total Total requests.
# TYPE http_requests_total counter
http_requests_total{route="/orders",code="200"} 990
http_requests_total{route="/orders",code="500"} 10
# HELP http_request_duration_seconds Latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{route="/orders",le="0.1"} 900
http_request_duration_seconds_bucket{route="/orders",le="+Inf"} 1000
http_request_duration_seconds_sum{route="/orders"} 41.5
http_request_duration_seconds_count{route="/orders"} 1000
# HELP nodejs_heap_space_size_used_bytes Heap.
# TYPE nodejs_heap_space_size_used_bytes gauge
nodejs_heap_space_size_used_bytes{space="old"} 123
process_open_fds 31
`;

describe('parseExposition with only some metrics wanted', () => {
  it('returns exactly the wanted samples a full parse returns, a histogram by its base name', () => {
    const wanted = new Set(['http_requests_total', 'http_request_duration_seconds']);
    const full = parseExposition(PAYLOAD).samples.filter((s) => s.name === 'http_requests_total' || s.name === 'http_request_duration_seconds_bucket');
    expect(parseExposition(PAYLOAD, wanted).samples).toEqual(full);
    expect(parseExposition(PAYLOAD, new Set(['process_open_fds'])).samples).toEqual([{ name: 'process_open_fds', labels: {}, value: 31 }]);
    // The family of a wanted metric keeps its declaration.
    expect(parseExposition(PAYLOAD, wanted).families.get('http_requests_total')).toMatchObject({ type: 'counter', help: 'Total requests.' });
    expect(parseExposition(PAYLOAD, wanted).families.has('nodejs_heap_space_size_used_bytes')).toBe(false);
  });

  it('a bad line of another metric is no evidence and fails nothing; a bad wanted line still fails', () => {
    const broken = `${PAYLOAD}other_metric{space="old} 1\nother_metric 1 2 3\n`;
    expect(() => parseExposition(broken)).toThrow(ExpositionParseError);
    expect(parseExposition(broken, new Set(['http_requests_total'])).samples).toHaveLength(2);
    expect(() => parseExposition(`${PAYLOAD}http_requests_total{code="200"} x\n`, new Set(['http_requests_total']))).toThrow(/invalid sample value "x"/);
  });

  it('alternating wanted and unwanted names keep their own families', () => {
    const text = 'a 1\nb 2\na 3\nb 4\na{x="1"} 5\n';
    expect(parseExposition(text, new Set(['a'])).samples.map((s) => s.value)).toEqual([1, 3, 5]);
    expect(parseExposition(text, new Set(['b'])).samples.map((s) => s.value)).toEqual([2, 4]);
  });

  it('the checks name what a scrape parses', () => {
    expect([...checkedMetrics([
      { name: 'e', type: 'error-rate', metric: 'http_requests_total', errors: 'code=~"5.."', select: '', target: 0.01, limit: 0.05 },
      { name: 'l', type: 'latency', metric: 'http_request_duration_seconds', select: '', quantile: 0.95, maxIncrease: 0.1, rollbackIncrease: 0.5 },
      { name: 'g', type: 'gauge', metric: 'build_info', select: '', consecutive: 1 },
      { name: 'j', type: 'http-json', url: 'http://127.0.0.1:1/', path: 'status', consecutive: 1 },
    ])].sort()).toEqual(['build_info', 'http_request_duration_seconds', 'http_requests_total']);
  });
});

describe('getText and scrapes over kept-alive connections', () => {
  let server: http.Server;
  let base: string;
  let connections = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/metrics') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(PAYLOAD);
      if (req.url === '/moved') return void res.writeHead(301, { location: '/health/' }).end();
      if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
      if (req.url === '/health/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end('late'), 2000).unref();
      if (req.url === '/half') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('only part');
        return void setTimeout(() => res.destroy(), 20).unref();
      }
      res.writeHead(500).end('boom');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers, follows redirects as fetch did, and reuses one connection', async () => {
    const before = connections;
    for (let i = 0; i < 3; i++) expect(await getText(`${base}/metrics`, 2000)).toEqual({ kind: 'answer', status: 200, text: PAYLOAD });
    expect(connections - before).toBe(1);
    expect(await getText(`${base}/moved`, 2000)).toEqual({ kind: 'answer', status: 200, text: '{"status":"ok"}' });
    expect(await getText(`${base}/loop`, 2000)).toEqual({ kind: 'failed', reason: 'more than 5 redirects' });
    expect(await getText(`${base}/other`, 2000)).toEqual({ kind: 'answer', status: 500, text: 'boom' });
  });

  it('a timeout, a refused connection, an answer cut short and a bad URL are failures with their reason', async () => {
    expect(await getText(`${base}/slow`, 100)).toEqual({ kind: 'timeout' });
    expect(await getText('http://127.0.0.1:1/metrics', 2000)).toEqual({ kind: 'failed', reason: 'ECONNREFUSED' });
    expect(await getText(`${base}/half`, 2000)).toMatchObject({ kind: 'failed' });
    expect(await getText('ftp://127.0.0.1/x', 2000)).toEqual({ kind: 'failed', reason: 'unsupported protocol ftp:' });
  });

  it('a scrape for some metrics reads those; a failed scrape is an error, never zeros', async () => {
    const source = await openScrapeSource([`${base}/metrics`, `${base}/metrics`], 2000, new Set(['http_requests_total']));
    expect(await source.counts('http_requests_total', 'route="/orders"', 'code=~"5.."')).toEqual({ kind: 'counts', total: 2000, errors: 20 });
    expect(await (await openScrapeSource([`${base}/metrics`, `${base}/other`], 2000, new Set(['http_requests_total']))).counts('http_requests_total', '', 'code="500"')).toMatchObject({ kind: 'error', reason: expect.stringContaining('HTTP 500') });
    expect(await (await openScrapeSource([`${base}/slow`], 100)).gauge('process_open_fds', '')).toMatchObject({ kind: 'error', reason: expect.stringContaining('within 100ms') });
  });
});
