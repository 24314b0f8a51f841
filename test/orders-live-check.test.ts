// `shipgate config check --live` on a stack with its own names (an order router: orders_total{outcome,venue},
// order_latency_seconds, Redis safety keys), through a scrape and a real Prometheus: a wrong metric name is an
// error with the closest names, a label value never seen a warning, a safety key read and judged.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shipgate } from './harness/cli.js';
import { startPrometheus, type PrometheusServer } from './harness/prometheus.js';
import { startRedis, type RedisServer } from './harness/redis.js';
import { scaled } from './harness/pace.js';

const ROUTER = `# HELP orders_total Orders routed, by outcome.
# TYPE orders_total counter
orders_total{outcome="filled",venue="xnys"} 1200
orders_total{outcome="rejected",venue="xnys"} 3
orders_total{outcome="filled",venue="xlon"} 800
# HELP order_latency_seconds Order round trip.
# TYPE order_latency_seconds histogram
order_latency_seconds_bucket{venue="xnys",le="0.05"} 1000
order_latency_seconds_bucket{venue="xnys",le="+Inf"} 1203
order_latency_seconds_sum{venue="xnys"} 30
order_latency_seconds_count{venue="xnys"} 1203
# HELP cancels_total Cancels sent.
# TYPE cancels_total counter
`;

const root = mkdtempSync(path.join(os.tmpdir(), 'shipgate-orders-live-'));
let router: http.Server;
let prometheus: PrometheusServer;
let redis: RedisServer;

/** SET key value over RESP; resolves on +OK. */
function redisSet(port: number, key: string, value: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const arg = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString();
      if (answer.includes('\r\n')) {
        socket.end();
        if (answer.startsWith('+OK')) resolve();
        else reject(new Error(`SET ${key}: ${answer}`));
      }
    });
    socket.on('error', reject);
    socket.write(`*3\r\n${arg('SET')}${arg(key)}${arg(value)}`);
  });
}

beforeAll(async () => {
  router = http.createServer((_req, res) => void res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(ROUTER));
  await new Promise<void>((resolve) => router.listen(0, '127.0.0.1', resolve));
  const port = (router.address() as AddressInfo).port;
  redis = await startRedis();
  await redisSet(redis.port, 'router:halt', '0');
  await redisSet(redis.port, 'router:mode', 'maybe');
  await redisSet(redis.port, 'router:breaker', 'HALF');
  await redisSet(redis.port, 'desk:halt', JSON.stringify({ state: 'GO', why: '', at: '2026-12-03T10:00:00Z' }));
  await redisSet(redis.port, 'desk:kill', 'disarmed');
  prometheus = await startPrometheus([`127.0.0.1:${port}`], { scrapeInterval: '500ms' });
  for (const deadline = Date.now() + scaled(60_000); ; await new Promise((r) => setTimeout(r, 250))) {
    const body = await fetch(`${prometheus.url}/api/v1/query?query=orders_total`).then((r) => r.json() as Promise<any>, () => undefined);
    if (body?.data?.result?.length) break;
    if (Date.now() > deadline) throw new Error('Prometheus never scraped the router');
  }
  const checks = `      checks:
        - { name: rejects, type: error-rate, metric: order_total, errors: 'outcome="rejected"' }
        - { name: rejects-typo, type: error-rate, metric: orders_total, errors: 'outcome="rejectd"', select: 'venue="xnys"' }
        - { name: p95, type: latency, metric: order_latency_seconds, select: 'venue="xnys"' }
        - { name: cancels, type: error-rate, metric: cancels_total, errors: 'outcome="failed"' }`;
  writeFileSync(path.join(root, 'shipgate.yml'), `version: 1
project: router
services:
  router: { command: [./router], health: 'http://127.0.0.1:{port}/healthz', metrics: 'http://127.0.0.1:{port}/metrics' }
environments:
  scraped:
    services: { router: { port: ${port} } }
    trading:
      redisUrl: '${redis.url}'
      breaker: { key: 'router:breaker', trading: [CLOSED], halted: [OPEN], missing: halted }
      killSwitch: { key: 'router:kill', trading: ['off'], halted: ['on'], missing: trading }
    analysis:
${checks}
        - { name: halt, type: redis, url: '${redis.url}', key: 'router:halt', equals: 0 }
        - { name: mode, type: redis, url: '${redis.url}', key: 'router:mode', max: 1 }
        - { name: drain, type: redis, url: '${redis.url}', key: 'router:drain', equals: 0 }
  misnamed:
    services: { router: { port: ${port} } }
    trading:
      redisUrl: '${redis.url}'
      breaker: { key: 'desk:halt', field: status, trading: [GO], halted: [STOP], missing: halted }
      killSwitch: { key: 'desk:kil', trading: [disarmed], halted: [armed], missing: trading }
  safety-only:
    services: { router: { port: ${port} } }
    trading:
      redisUrl: '${redis.url}'
      keyPrefix: 'staging:'
      breaker: { key: 'router:breaker', trading: [CLOSED], halted: [OPEN], missing: halted }
  via-prometheus:
    services: { router: { port: ${port} } }
    analysis:
      source: prometheus
      prometheusUrl: ${prometheus.url}
${checks}
        - { name: fills, type: promql, query: 'sum(rate(order_totals{outcome="filled"}[1m]))' }
        - { name: live-fills, type: promql, query: 'sum(orders_total{outcome="filled"})', min: 1 }
`);
}, scaled(120_000));

afterAll(async () => {
  await prometheus?.stop();
  await redis?.stop();
  if (router) await new Promise((r) => router.close(r));
  rmSync(root, { recursive: true, force: true });
});

const run = (args: string[]) => shipgate(args, { cwd: root });

describe('config check --live on an order router', { timeout: scaled(120_000) }, () => {
  it('scrape: a wrong metric name exits 2 with the closest name; a value typo, a declared family with no traffic and an absent key are warnings; safety keys are read', async () => {
    const res = await run(['config', 'check', '--live', 'scraped', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(2);
    const rows = Object.fromEntries(res.json().checks.map((c: any) => [c.name, c]));
    expect(rows.rejects).toMatchObject({ status: 'problem', problem: 'no metric named order_total in the scrape; did you mean orders_total?' });
    expect(rows['rejects-typo']).toMatchObject({ status: 'warning', warnings: ['outcome="rejectd": no series of orders_total has that value yet (a typo, or none so far); outcome has filled, rejected'] });
    expect(rows.p95).toMatchObject({ status: 'ok', seriesMatched: 2 });
    expect(rows.cancels).toMatchObject({ status: 'warning', warnings: [expect.stringContaining('cancels_total is declared but has no series yet')] });
    expect(rows.halt).toMatchObject({ status: 'ok', value: '0', note: 'reads "0" (expects equals 0)' });
    expect(rows.mode).toMatchObject({ status: 'error', error: 'reads "maybe" (expects max 1): not a number, so the check can never pass' });
    expect(rows.drain).toMatchObject({ status: 'warning', warnings: ['key router:drain does not exist: the check reads no data (inconclusive) until it is set'] });

    expect(res.json().safety).toEqual([
      { name: 'trading.breaker', type: 'safety', status: 'error', reads: 'redis router:breaker', value: 'HALF', meaning: 'unknown', error: 'router:breaker is "HALF", in neither trading [CLOSED] nor halted [OPEN]: unknown fails closed (deploys are refused); if the platform writes "HALF" while trading add it to environments.scraped.trading.breaker.trading, if while halted to environments.scraped.trading.breaker.halted; else correct environments.scraped.trading.breaker.key' },
      // An absent key is no evidence of trading, even when `missing: trading` says to read it so: never ✓.
      { name: 'trading.killSwitch', type: 'safety', status: 'warning', reads: 'redis router:kill', value: null, meaning: 'trading', warnings: ['absent (trading): router:kill is absent; configured missing: trading: it reads as trading only because it is absent; if the platform keeps it under another name, correct environments.scraped.trading.killSwitch.key'] },
    ]);

    const human = await run(['config', 'check', '--live', 'scraped']);
    expect(human.code).toBe(2);
    expect(human.stdout).toContain('✗ rejects: order_total{}: 0 series matched');
    expect(human.stdout).toContain('did you mean orders_total?');
    expect(human.stdout).toContain('⚠ rejects-typo:');
    expect(human.stdout).toContain('✓ halt: redis router:halt: reads "0" (expects equals 0)');
    expect(human.stdout).not.toMatch(/✓ (rejects|rejects-typo|cancels|drain|mode):/);
  });

  it('safety keys: an absent key reads as the configured `missing` (halted: ⚠, exit 0)', async () => {
    const res = await run(['config', 'check', '--live', 'safety-only']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain('⚠ trading.breaker: redis staging:router:breaker:');
    expect(res.stdout).toContain('absent (halted): router:breaker is absent; configured missing: halted; deploys wait until trading resumes');
    expect(res.stdout).toContain('✓ trading.killSwitch: redis staging:killswitch:active: unset (treated as trading: no kill switch configured)');
  });

  // Found in an operator's trial: a misnamed `field` read as "absent (halted)" without naming the fields the
  // object has, and a misspelt kill switch key with `missing: trading` was shown ✓ trading.
  it('safety keys: a JSON object without the configured field is ✗ naming its fields; a misspelt key is never ✓', async () => {
    const res = await run(['config', 'check', '--live', 'misnamed']);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stdout).toContain('✗ trading.breaker: redis desk:halt field status:');
    expect(res.stdout).toContain('desk:halt has no field status (its fields: state, why, at); configured missing: halted: it reads as halted until the platform writes that field; set environments.misnamed.trading.breaker.field to the field holding the platform\'s word (one of state, why, at)');
    expect(res.stdout).toContain('⚠ trading.killSwitch: redis desk:kil:');
    expect(res.stdout).toContain('correct environments.misnamed.trading.killSwitch.key');
    expect(res.stdout).not.toMatch(/✓ trading\./);
  });

  it('Prometheus: a name it has never seen exits 2 with the closest, in a selector and in a PromQL query', async () => {
    const res = await run(['config', 'check', '--live', 'via-prometheus', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(2);
    const rows = Object.fromEntries(res.json().checks.map((c: any) => [c.name, c]));
    expect(rows.rejects).toMatchObject({ status: 'problem', problem: expect.stringMatching(/^no metric named order_total in Prometheus; did you mean orders_total/) });
    expect(rows['rejects-typo']).toMatchObject({ status: 'warning', warnings: [expect.stringContaining('outcome="rejectd": no series of orders_total has that value yet')] });
    expect(rows.p95).toMatchObject({ status: 'ok' });
    expect(rows.cancels.status).toBe('warning');
    expect(rows.cancels.warnings[0]).toContain('Prometheus knows cancels_total (a target declares it, or it had series before) but holds no current series of it');
    expect(rows.fills).toMatchObject({ status: 'problem', problem: expect.stringMatching(/Prometheus has never seen order_totals \(did you mean orders_total/) });
    expect(rows['live-fills']).toMatchObject({ status: 'ok', value: 2000 });
  });
});
