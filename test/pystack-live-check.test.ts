// `shipgate config check --live <env>` against the Python stack running, through both metric
// sources: each service's /metrics (scrape) and a real Prometheus scraping it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/demo/free-port.js';
import { buildPyRepo } from './fixtures/pystack/build-repo.js';
import { shipgate } from './harness/cli.js';
import { startPrometheus, type PrometheusServer } from './harness/prometheus.js';
import { scaled } from './harness/pace.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'shipgate-live-check-'));
let quotes: ChildProcess;
let port: number;
let deadPort: number;
let prometheus: PrometheusServer;

const checks = (errors: string) => `      checks:
        - { name: quote-errors, type: error-rate, metric: app_requests_total, errors: '${errors}', select: 'route="/api/quote"' }
        - { name: quote-p95, type: latency, metric: app_request_latency_seconds, select: 'route="/api/quote"' }`;

beforeAll(async () => {
  const repo = buildPyRepo(path.join(root, 'repo'), ['2026.1.0']);
  port = await freePort();
  deadPort = await freePort();
  quotes = spawn('python3', ['quotes.py'], { cwd: repo.dir, env: { PATH: process.env.PATH ?? '', PORT: String(port), TRAFFIC_RPS: '20' }, stdio: 'ignore' });
  prometheus = await startPrometheus([`127.0.0.1:${port}`], { scrapeInterval: '500ms' });
  // Ready when Prometheus holds the request counter (the service answered and was scraped).
  for (const deadline = Date.now() + scaled(60_000); ; await new Promise((r) => setTimeout(r, 250))) {
    const body = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent('app_requests_total{route="/api/quote"}')}`).then((r) => r.json() as Promise<any>, () => undefined);
    if (body?.data?.result?.length) break;
    if (Date.now() > deadline) throw new Error('Prometheus never scraped the quote service');
  }
  writeFileSync(path.join(root, 'shipgate.yml'), `version: 1
project: quotes
repository: ${JSON.stringify(repo.dir)}
services:
  quotes: { command: [python3, quotes.py], health: 'http://127.0.0.1:{port}/healthz', metrics: 'http://127.0.0.1:{port}/metrics' }
environments:
  scraped:
    services: { quotes: { port: ${port} } }
    analysis:
${checks('code=~"5.."')}
  scraped-right:
    services: { quotes: { port: ${port} } }
    analysis:
${checks('status=~"5.."')}
  down:
    services: { quotes: { port: ${deadPort} } }
    analysis:
${checks('status=~"5.."')}
  via-prometheus:
    services: { quotes: { port: ${port} } }
    analysis:
      source: prometheus
      prometheusUrl: ${prometheus.url}
${checks('code=~"5.."')}
  via-prometheus-right:
    services: { quotes: { port: ${port} } }
    analysis:
      source: prometheus
      prometheusUrl: ${prometheus.url}
${checks('status=~"5.."')}
`);
}, scaled(120_000));

afterAll(async () => {
  await prometheus?.stop();
  if (quotes && quotes.exitCode === null && quotes.signalCode === null) {
    const exited = new Promise((r) => quotes.once('exit', r));
    quotes.kill('SIGTERM');
    await exited;
  }
  rmSync(root, { recursive: true, force: true });
});

const run = (args: string[]) => shipgate(args, { cwd: root });

describe('config check --live', { timeout: scaled(120_000) }, () => {
  // Prometheus adds its target labels (instance, job) to every series it stores.
  for (const [env, source, labels] of [['scraped', 'scrape', ['route', 'status']], ['via-prometheus', 'prometheus', ['instance', 'job', 'route', 'status']]] as const) {
    const mismatch = `\`code\` is not a label of app_requests_total; it has ${labels.join(', ')}`;
    const histogramLabels = labels.filter((l) => l !== 'status');
    it(`${source}: a label the counter does not carry exits 2, naming the labels it has`, async () => {
      const res = await run(['config', 'check', '--live', env, '--json']);
      expect(res.code, res.stdout + res.stderr).toBe(2);
      const report = res.json();
      expect(report).toMatchObject({ env, source, ok: false });
      expect(report.checks[0]).toMatchObject({ name: 'quote-errors', status: 'problem', metric: 'app_requests_total', labelsSeen: labels, mismatch: expect.stringContaining(mismatch) });
      expect(report.checks[0].seriesMatched).toBeGreaterThan(0);
      expect(report.checks[1]).toMatchObject({ name: 'quote-p95', labelsSeen: histogramLabels });
      expect(report.checks[1].mismatch).toBeUndefined();

      const human = await run(['config', 'check', '--live', env]);
      expect(human.code).toBe(2);
      expect(human.stdout).toContain(`✗ quote-errors: app_requests_total{route="/api/quote"}: `);
      expect(human.stdout).toContain(mismatch);
    });

    it(`${source}: the right labels exit 0; an error series that does not exist yet is 0, not a mismatch`, async () => {
      const res = await run(['config', 'check', '--live', `${env}-right`, '--json']);
      expect(res.code, res.stdout + res.stderr).toBe(0);
      const report = res.json();
      expect(report.ok).toBe(true);
      expect(report.checks[0]).toMatchObject({ name: 'quote-errors', labelsSeen: labels, errorSeriesMatched: 0 });
      expect(report.checks[0].seriesMatched).toBeGreaterThan(0);
      expect(report.checks.map((c: any) => [c.status, c.mismatch, c.warnings])).toEqual([['ok', undefined, undefined], ['ok', undefined, undefined]]);
    });
  }

  it('a source that does not answer is a failure (exit 1) naming it, never "0 series"', async () => {
    const res = await run(['config', 'check', '--live', 'down', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    const report = res.json();
    expect(report.ok).toBe(false);
    for (const c of report.checks) {
      expect(c.error).toContain(`127.0.0.1:${deadPort}`);
      expect(c.seriesMatched).toBeUndefined();
    }
  });

  it('an unknown environment is bad input (exit 2) with the environments listed', async () => {
    const res = await run(['config', 'check', '--live', 'nope']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unknown environment "nope"/);
    expect(res.stderr).not.toMatch(/^\s+at /m);
  });
});
