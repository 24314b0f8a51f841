// End-to-end check of the sample trading stack in demo/stack: the demo git
// repository, the three services at v1.0.0, and the v1.1.0 order bug.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoRepo, type DemoRepo } from '../demo/stack/build-repo.mjs';
import { runLoad } from '../demo/stack/base/loadgen.mjs';
import { scaled } from './harness/pace.js';

interface Service {
  name: string;
  url: string;
  child: ChildProcess;
  output: () => string;
}

const started: Service[] = [];
let root = '';
let repo: DemoRepo;
let signal: Service;
let gateway: Service;
let orchestrator: Service;
let buggyGateway: Service;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopService(service: Service): Promise<void> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await exited(child, 2000))) {
    child.kill('SIGKILL');
    await exited(child, 2000);
  }
}

async function startService(cwd: string, name: string, env: Record<string, string> = {}): Promise<Service> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [path.join(cwd, name, 'main.mjs')], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', SHIPGATE_ENV: 'staging', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const service: Service = { name, url, child, output: () => output };
  started.push(service);

  const deadline = Date.now() + scaled(10_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited early:\n${output}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return service;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not become healthy:\n${output}`);
}

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const postOrder = (base: string, order: unknown) =>
  getJson(`${base}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) });

async function metrics(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  return res.text();
}

function counter(text: string, code: string, route = '/orders'): number {
  const line = text
    .split('\n')
    .find((l) => l.startsWith('http_requests_total{') && l.includes(`route="${route}"`) && l.includes(`code="${code}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-stack-'));
  repo = await buildDemoRepo(path.join(root, 'repo'));
  const checkout = (tag: string) => {
    const dir = path.join(root, tag);
    execFileSync('git', ['-C', repo.dir, 'worktree', 'add', '--quiet', '--detach', dir, tag], { stdio: 'pipe' });
    return dir;
  };
  const v100 = checkout('v1.0.0');
  const v110 = checkout('v1.1.0');
  [signal, gateway, buggyGateway] = await Promise.all([
    startService(v100, 'signal_service'),
    startService(v100, 'execution_gateway'),
    startService(v110, 'execution_gateway'),
  ]);
  orchestrator = await startService(v100, 'orchestrator', {
    SIGNAL_SERVICE_URL: signal.url,
    EXECUTION_GATEWAY_URL: gateway.url,
  });
});

afterAll(async () => {
  await Promise.all(started.map(stopService));
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe('demo repository', () => {
  it('has an annotated tag per release and VERSION differs between them', () => {
    expect(repo.tags).toEqual(['v1.0.0', 'v1.1.0']);
    const git = (...args: string[]) => execFileSync('git', ['-C', repo.dir, ...args], { encoding: 'utf8' }).trim();
    expect(git('tag', '-l').split('\n')).toEqual(['v1.0.0', 'v1.1.0']);
    expect(git('cat-file', '-t', 'v1.1.0')).toBe('tag');
    expect(git('rev-parse', 'v1.0.0^{commit}')).toBe(repo.commits['v1.0.0']);
    expect(git('show', 'v1.0.0:VERSION')).toBe('v1.0.0');
    expect(git('show', 'v1.1.0:VERSION')).toBe('v1.1.0');
    expect(git('diff', '--name-only', 'v1.0.0', 'v1.1.0').split('\n').sort()).toEqual(['VERSION', 'docs/rollback/v1.1.0.md', 'execution_gateway/orders.mjs']);
  });
});

describe('v1.0.0 services', () => {
  it('report health with the release version', async () => {
    for (const [service, name] of [
      [signal, 'signal_service'],
      [gateway, 'execution_gateway'],
      [orchestrator, 'orchestrator'],
    ] as const) {
      const { status, body } = await getJson(`${service.url}/health`);
      expect(status).toBe(200);
      expect(body).toEqual({ status: 'healthy', version: 'v1.0.0', service: name });
    }
    expect(gateway.output()).toMatch(/INFO execution_gateway v1\.0\.0 listening on .* env=staging/);
    expect((await getJson(`${gateway.url}/nope`)).status).toBe(404);
  });

  it('expose Prometheus metrics', async () => {
    const text = await metrics(gateway.url);
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toMatch(/^http_requests_total\{service="execution_gateway",.*code="200"\} \d+$/m);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{service="execution_gateway",route="[^"]+",le="0\.005"\} \d+$/m);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{service="execution_gateway",route="[^"]+",le="\+Inf"\} \d+$/m);
    expect(text).toMatch(/^http_request_duration_seconds_sum\{service="execution_gateway",route="[^"]+"\} [\d.e-]+$/m);
    expect(text).toMatch(/^http_request_duration_seconds_count\{service="execution_gateway",route="[^"]+"\} \d+$/m);
  });

  it('serves signals', async () => {
    const { status, body } = await getJson(`${signal.url}/signals`);
    expect(status).toBe(200);
    expect(body.signals.length).toBeGreaterThan(0);
    for (const s of body.signals) {
      expect(typeof s.symbol).toBe('string');
      expect(['buy', 'sell']).toContain(s.side);
      expect(s.strength).toBeGreaterThan(0);
    }
  });

  it('places, lists and cancels orders', async () => {
    const placed = await postOrder(gateway.url, { symbol: 'AAPL', qty: 10, side: 'buy' });
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ symbol: 'AAPL', qty: 10, side: 'buy', status: 'open' });
    expect(typeof placed.body.id).toBe('string');
    expect((await postOrder(gateway.url, { symbol: 'MSFT', qty: '5', side: 'sell', type: 'market' })).status).toBe(201);
    expect((await postOrder(gateway.url, { symbol: 'MSFT', qty: 0, side: 'sell' })).status).toBe(422);
    expect((await postOrder(gateway.url, { symbol: 'MSFT', qty: 1, side: 'hold' })).body.error).toMatch(/side/);

    const open = await getJson(`${gateway.url}/orders?status=open`);
    expect(open.body).toHaveLength(2);
    expect((await getJson(`${gateway.url}/positions`)).body).toEqual([]);

    const cancelled = await getJson(`${gateway.url}/orders`, { method: 'DELETE' });
    expect(cancelled.status).toBe(207);
    expect(cancelled.body).toHaveLength(2);
    expect(cancelled.body).toContainEqual({ id: placed.body.id, status: 200 });
    expect((await getJson(`${gateway.url}/orders?status=open`)).body).toHaveLength(0);
    expect((await getJson(`${gateway.url}/orders/${placed.body.id}`)).body.status).toBe('canceled');
  });

  it('orchestrator reports dependencies and turns signals into orders', async () => {
    const status = await getJson(`${orchestrator.url}/status`);
    expect(status.status).toBe(200);
    expect(status.body.status).toBe('healthy');
    expect(status.body.signalService.status).toBe('healthy');
    expect(status.body.executionGateway.status).toBe('healthy');

    const run = await getJson(`${orchestrator.url}/run`, { method: 'POST' });
    expect(run.status).toBe(200);
    expect(run.body.placed).toBe(run.body.signals);
    expect(run.body.failed).toBe(0);
    expect((await getJson(`${gateway.url}/orders`)).body).toHaveLength(run.body.placed);
  });

  it('takes 200 orders of load without errors', async () => {
    const summary = await runLoad({ url: gateway.url, rps: 200, durationSeconds: 0, total: 200 });
    expect(summary).toMatchObject({ sent: 200, ok: 200, errors: 0, errorRate: 0 });
    expect(counter(await metrics(gateway.url), '500')).toBe(0);
  });
});

describe('v1.1.0 execution gateway', () => {
  it('stays healthy but fails about 10% of orders with 500', async () => {
    const health = await getJson(`${buggyGateway.url}/health`);
    expect(health).toEqual({ status: 200, body: { status: 'healthy', version: 'v1.1.0', service: 'execution_gateway' } });

    const summary = await runLoad({ url: buggyGateway.url, rps: 200, durationSeconds: 0, total: 200 });
    expect(summary.sent).toBe(200);
    expect(summary.errorRate).toBeGreaterThanOrEqual(0.05);
    expect(summary.errorRate).toBeLessThanOrEqual(0.15);
    expect(summary.byStatus['500']).toBe(summary.errors);

    const text = await metrics(buggyGateway.url);
    expect(counter(text, '500')).toBe(summary.errors);
    expect(counter(text, '201')).toBe(summary.ok);
    expect(buggyGateway.output()).toMatch(/ERROR POST \/orders failed: TypeError/);
  });

  it('exits 0 within a second of SIGTERM', async () => {
    const { child } = buggyGateway;
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const code = await Promise.race([exit, new Promise<string>((r) => setTimeout(() => r('timeout'), 1000))]);
    expect(code).toBe(0);
  });
});
