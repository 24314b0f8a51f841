// PrometheusClient against a real Prometheus scraping the real sample stack: the v1.1.0
// execution gateway (10% of load-generator orders fail with 500) and the v1.0.0 signal service.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoRepo } from '../demo/stack/build-repo.mjs';
import { runLoad } from '../demo/stack/base/loadgen.mjs';
import { PrometheusClient, parsePromValue, type QueryOutcome } from '../src/adapters/metrics/prometheus.js';
import { freePort } from '../src/demo/free-port.js';
import { startPrometheus, type PrometheusServer } from './harness/prometheus.js';
import { scaled } from './harness/pace.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Service {
  child: ChildProcess;
  exited: Promise<void>;
  url: string;
  instance: string;
}

async function startService(script: string): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + scaled(15_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${script} did not become healthy on ${url}`);
    await sleep(50);
  }
  return { child, exited, url, instance: `127.0.0.1:${port}` };
}

/** SIGTERM by PID (the services exit within a second), SIGKILL as a backstop. */
async function stopService(svc: Service | undefined): Promise<void> {
  if (!svc || svc.child.exitCode !== null || svc.child.signalCode !== null) return;
  const pid = svc.child.pid!;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const gone = await Promise.race([svc.exited.then(() => true), sleep(5000).then(() => false)]);
  if (!gone) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
    await svc.exited;
  }
}

function expectNoData<T>(res: QueryOutcome<T>): string {
  expect(res.kind).toBe('no-data');
  if (res.kind !== 'no-data') throw new Error('unreachable');
  expect(res.reason.length).toBeGreaterThan(0);
  return res.reason;
}

function expectData<T>(res: QueryOutcome<T>): T {
  if (res.kind !== 'data') throw new Error(`expected data, got no-data: ${res.reason}`);
  return res.data;
}

async function pollUntil(what: string, timeoutMs: number, check: () => Promise<string | true>): Promise<void> {
  const deadline = Date.now() + scaled(timeoutMs);
  let last = '';
  for (;;) {
    const r = await check();
    if (r === true) return;
    last = r;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${last}`);
    await sleep(250);
  }
}

describe('PrometheusClient against a real Prometheus scraping the sample stack', () => {
  let tmp: string;
  let gateway: Service | undefined;
  let signal: Service | undefined;
  let prom: PrometheusServer | undefined;
  let client: PrometheusClient;
  let ordersSent = 0;

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'shipgate-prom-test-'));
    const repo = await buildDemoRepo(path.join(tmp, 'repo'));
    const v110 = path.join(tmp, 'v1.1.0');
    execFileSync('git', ['-C', repo.dir, 'worktree', 'add', '--quiet', '--detach', v110, 'v1.1.0'], { stdio: ['ignore', 'pipe', 'pipe'] });

    gateway = await startService(path.join(v110, 'execution_gateway', 'main.mjs'));
    signal = await startService(path.join(ROOT, 'demo', 'stack', 'base', 'signal_service', 'main.mjs'));

    // One full symbol rotation before the first scrape, so the 201 and 500 series exist from the
    // start and rate() sees every later increase.
    const warm = await runLoad({ url: gateway.url, rps: 100, total: 20 });
    expect(warm.byStatus['500']).toBe(2);
    ordersSent += warm.sent;

    prom = await startPrometheus([gateway.instance, signal.instance]);
    client = new PrometheusClient({ baseUrl: prom.url, timeoutMs: 5000 });

    await pollUntil('both targets up', 30_000, async () => {
      const up = await client.instant('up');
      if (up.kind === 'no-data') return up.reason;
      const upInstances = up.data.filter((s) => s.value === 1).map((s) => s.labels.instance);
      return upInstances.includes(gateway!.instance) && upInstances.includes(signal!.instance) ? true : JSON.stringify(up.data);
    });

    const load = await runLoad({ url: gateway.url, rps: 50, durationSeconds: 5 });
    ordersSent += load.sent;
    expect(load.byStatus['500']).toBeGreaterThan(0);

    // Wait until Prometheus has scraped every order we sent (no fixed sleep).
    await pollUntil('the last orders to be scraped', 20_000, async () => {
      const n = await client.scalar(`sum(http_requests_total{instance="${gateway!.instance}",route="/orders"})`);
      if (n.kind === 'no-data') return n.reason;
      return n.data === ordersSent ? true : `${n.data} of ${ordersSent}`;
    });
  });

  afterAll(async () => {
    await prom?.stop();
    await stopService(gateway);
    await stopService(signal);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('reports ready and answers a trivial scalar', async () => {
    expect(await client.ready()).toBe(true);
    expect(await client.scalar('vector(1)')).toEqual({ kind: 'data', data: 1 });
    const s = expectData(await client.instant('42'));
    expect(s).toHaveLength(1);
    expect(s[0]!.labels).toEqual({});
    expect(s[0]!.value).toBe(42);
    expect(Number.isFinite(s[0]!.timestampMs)).toBe(true);
  });

  it('measures the v1.1.0 gateway 5xx ratio near 10%', async () => {
    const sel = `instance="${gateway!.instance}",service="execution_gateway"`;
    const res = await client.scalar(
      `sum(rate(http_requests_total{${sel},code=~"5.."}[30s])) / sum(rate(http_requests_total{${sel}}[30s]))`,
    );
    const ratio = expectData(res);
    // 10% of orders; /metrics scrapes (always 200) dilute it slightly, rate() extrapolates.
    expect(ratio).toBeGreaterThan(0.06);
    expect(ratio).toBeLessThan(0.14);
  });

  it('computes a finite positive p95 latency from the histogram', async () => {
    const p95 = expectData(
      await client.scalar('histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[30s])))'),
    );
    expect(Number.isFinite(p95)).toBe(true);
    expect(p95).toBeGreaterThan(0);
  });

  it('returns several increasing points from a range query', async () => {
    const end = Date.now();
    const series = expectData(
      await client.range(`sum(rate(http_requests_total{instance="${gateway!.instance}"}[10s]))`, end - 20_000, end, 1),
    );
    expect(series).toHaveLength(1);
    const points = series[0]!.points;
    expect(points.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < points.length; i++) expect(points[i]!.timestampMs).toBeGreaterThan(points[i - 1]!.timestampMs);
    for (const p of points) expect(Number.isFinite(p.value)).toBe(true);
    expect(Math.max(...points.map((p) => p.value))).toBeGreaterThan(0);

    const multi = expectData(await client.range('up', end - 5_000, end, 1));
    expect(multi.map((s) => s.labels.instance).sort()).toEqual([gateway!.instance, signal!.instance].sort());
  });

  it('keeps labels on instant vector samples', async () => {
    const info = expectData(await client.instant(`build_info{instance="${gateway!.instance}"}`));
    expect(info).toHaveLength(1);
    expect(info[0]!.labels).toMatchObject({ service: 'execution_gateway', version: 'v1.1.0', job: 'stack' });
    expect(info[0]!.value).toBe(1);
  });

  it('gives no-data, not zero, for a metric that does not exist', async () => {
    expect(expectNoData(await client.instant('shipgate_metric_that_does_not_exist_total'))).toMatch(/empty/);
    expectNoData(await client.scalar('sum(rate(shipgate_metric_that_does_not_exist_total[30s]))'));
    const end = Date.now();
    expectNoData(await client.range('shipgate_metric_that_does_not_exist_total', end - 10_000, end, 1));
  });

  it('gives no-data with the error text for invalid PromQL', async () => {
    const reason = expectNoData(await client.instant('sum(rate(http_requests_total[30s])'));
    expect(reason).toContain('bad_data');
    expect(reason).toMatch(/parse error/);
    const end = Date.now();
    expect(expectNoData(await client.range('rate(http_requests_total[', end - 10_000, end, 1))).toContain('bad_data');
  });

  it('scalar() on a multi-series result is no-data with the series count', async () => {
    expect(expectNoData(await client.scalar('up'))).toContain('2 series');
  });

  it('parses NaN and infinities; NaN is no-data for scalar()', async () => {
    expect(expectData(await client.instant('0/0'))[0]!.value).toBeNaN();
    expect(expectData(await client.instant('1/0'))[0]!.value).toBe(Infinity);
    expect(expectData(await client.instant('-1/0'))[0]!.value).toBe(-Infinity);
    expect(expectNoData(await client.scalar('0/0'))).toMatch(/NaN/);
    expect(expectData(await client.scalar('vector(1/0)'))).toBe(Infinity);
    expect(parsePromValue('+Inf')).toBe(Infinity);
    expect(parsePromValue('-Inf')).toBe(-Infinity);
    expect(parsePromValue('NaN')).toBeNaN();
    expect(parsePromValue('1e-3')).toBe(0.001);
    expect(parsePromValue('bogus')).toBeUndefined();
  });

  it('treats string and range-vector instant results as no-data', async () => {
    expectNoData(await client.instant('"hello"'));
    expectNoData(await client.instant('up[10s]'));
  });

  it('sends long queries as a POST form body', async () => {
    const long = `sum(up{instance=~"${gateway!.instance}|${'x'.repeat(3000)}"})`;
    expect(expectData(await client.scalar(long))).toBe(1);
  });

  it('gives no-data, never 0, once Prometheus is stopped', async () => {
    const second = await startPrometheus([]);
    let stopped = false;
    try {
      const c = new PrometheusClient({ baseUrl: second.url, timeoutMs: 2000 });
      expect(await c.ready()).toBe(true);
      expect(await c.scalar('vector(0)')).toEqual({ kind: 'data', data: 0 });
      await second.stop();
      stopped = true;
      expect(await c.ready()).toBe(false);
      expect(expectNoData(await c.scalar('vector(0)'))).toMatch(/ECONNREFUSED/);
      expectNoData(await c.instant('vector(0)'));
      const end = Date.now();
      expectNoData(await c.range('vector(0)', end - 10_000, end, 1));
    } finally {
      if (!stopped) await second.stop();
    }
  });
});

describe('PrometheusClient failure modes without Prometheus', () => {
  it('closed port: no-data and not ready', async () => {
    const c = new PrometheusClient({ baseUrl: `http://127.0.0.1:${await freePort()}`, timeoutMs: 2000 });
    expect(await c.ready()).toBe(false);
    expectNoData(await c.scalar('vector(0)'));
  });

  it('timeout, non-2xx, non-JSON and status:error bodies are no-data', async () => {
    const hang = net.createServer(() => {
      /* accept and never answer */
    });
    const sockets = new Set<net.Socket>();
    hang.on('connection', (s) => sockets.add(s));
    const fake = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const q = u.searchParams.get('query');
      if (q === 'bad-gateway') res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
      else if (q === 'not-json') res.writeHead(200).end('hello');
      else if (q === 'error-200') res.writeHead(200).end(JSON.stringify({ status: 'error', errorType: 'execution', error: 'boom' }));
      else if (q === 'garbage-value')
        res.writeHead(200).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, 'zero'] }] } }));
      else res.writeHead(200).end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
    });
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    try {
      const slow = new PrometheusClient({ baseUrl: `http://127.0.0.1:${(hang.address() as net.AddressInfo).port}`, timeoutMs: 300 });
      expect(expectNoData(await slow.scalar('vector(1)'))).toMatch(/no answer within 300ms/);
      expect(await slow.ready()).toBe(false);

      const c = new PrometheusClient({ baseUrl: `http://127.0.0.1:${(fake.address() as net.AddressInfo).port}/` });
      expect(expectNoData(await c.instant('bad-gateway'))).toContain('HTTP 502');
      expect(expectNoData(await c.instant('not-json'))).toMatch(/not a JSON object/);
      expect(expectNoData(await c.instant('error-200'))).toContain('execution: boom');
      expectNoData(await c.instant('garbage-value'));
      expect(expectNoData(await c.scalar('empty'))).toMatch(/empty/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => hang.close(r));
      fake.closeAllConnections();
      await new Promise((r) => fake.close(r));
    }
  });

  it('rejects a bad base URL up front', () => {
    expect(() => new PrometheusClient({ baseUrl: 'not a url' })).toThrow(/invalid Prometheus URL/);
  });
});
