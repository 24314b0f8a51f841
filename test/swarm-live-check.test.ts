// `config check --live` on a swarm environment reads where a soak and a monitor read: each service
// located through the manager (a fake one that records argv, test/harness/fake-swarm-manager.ts),
// its metrics scraped on the nodes of its running tasks and its health read on the node of its
// first task, each row saying where. The manager cannot say, or a service runs no task: those rows
// are errors, never ok, even when something answers on the configured 127.0.0.1 URL. The services
// here answer on 127.0.0.1 (every node of the fake swarm has that address); the real three-node
// swarm, where they answer on their nodes only, is test/swarm-monitor.test.ts.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { targetFactory } from '../src/adapters/targets/factory.js';
import { GitRepository } from '../src/adapters/vcs/git.js';
import { liveConfigCheck } from '../src/app/analysis/live-check.js';
import { observedServices } from '../src/app/analysis/observed.js';
import { checkConfigText } from '../src/config/load.js';
import { resolveEnvironment } from '../src/config/resolve.js';
import { fakeSwarm, type FakeSwarmManager } from './harness/fake-swarm-manager.js';

const METRICS = `# TYPE app_requests_total counter
app_requests_total{route="/api/quote",status="200"} 90
app_requests_total{route="/api/quote",status="500"} 1
`;

let servers: Server[] = [];
let ports: number[] = [];
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sg-swarm-live-'));
  servers = [0, 1].map((i) =>
    createServer((req, res) => {
      if (req.url === '/metrics') return res.end(METRICS);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ state: 'ok', build: `b${i}` }));
    }),
  );
  ports = await Promise.all(servers.map((s) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)))));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

const manager = (): FakeSwarmManager => fakeSwarm(['127.0.0.1', '127.0.0.1', '127.0.0.1']);

async function check(m: FakeSwarmManager) {
  const yaml = `version: 1
project: quotes
repository: .
services:
  quotes: { health: { url: 'http://127.0.0.1:{port}/healthz', status: { field: state, healthy: [ok] }, version: { field: build } }, metrics: 'http://127.0.0.1:{port}/metrics' }
  replica: { health: { url: 'http://127.0.0.1:{port}/healthz', status: { field: state, healthy: [ok] }, version: { field: build } }, metrics: 'http://127.0.0.1:{port}/metrics' }
environments:
  live:
    target: { type: swarm, stack: st, dockerHost: 'unix:///fake.sock' }
    services: { quotes: { port: ${ports[0]} }, replica: { port: ${ports[1]} } }
    analysis:
      checks:
        - { name: quote-errors, type: error-rate, metric: app_requests_total, errors: 'status=~"5.."', select: 'route="/api/quote"', target: 1%, limit: 5% }
`;
  const { config, problems } = checkConfigText(yaml, path.join(dir, 'shipgate.yml'));
  if (!config) throw new Error(JSON.stringify(problems));
  const environment = resolveEnvironment(config, 'live');
  const target = (await targetFactory(config))('live', environment.spec, { config, stateDir: path.join(dir, '.shipgate'), repo: new GitRepository(dir, m), runner: m, env: {} });
  return liveConfigCheck(environment, await observedServices({ target: () => target }, 'live', environment.services));
}

describe('config check --live on a swarm environment', () => {
  it('each row says where it read: metrics on every running task\'s node, health on the first task\'s', async () => {
    const report = await check(manager());
    expect(report.ok).toBe(true);
    // Two services scraped, two series each (replica's two tasks share one URL here: both nodes are 127.0.0.1).
    expect(report.checks).toEqual([
      expect.objectContaining({ name: 'quote-errors', status: 'ok', seriesMatched: 4, errorSeriesMatched: 2, where: 'scraped where the tasks run: quotes task 1 of 1 on 127.0.0.1; replica tasks 1-2 of 2 on 127.0.0.1, 127.0.0.1' }),
    ]);
    expect(report.health).toEqual([
      { name: 'quotes', type: 'health', status: 'ok', reads: `GET http://127.0.0.1:${ports[0]}/healthz`, where: 'read on node 127.0.0.1, task 1 of 1 (1 running)', version: 'b0', note: 'HTTP 200, state ok, build b0' },
      { name: 'replica', type: 'health', status: 'ok', reads: `GET http://127.0.0.1:${ports[1]}/healthz`, where: 'read on node 127.0.0.1, task 1 of 2 (2 running)', version: 'b1', note: 'HTTP 200, state ok, build b1' },
    ]);
  });

  it('fewer tasks running than wanted: a warning on the metric rows and on that service\'s health', async () => {
    const m = manager();
    m.tasks[2]!.state = 'failed';
    const report = await check(m);
    expect(report.ok).toBe(true);
    expect(report.checks[0]).toMatchObject({ status: 'warning', where: 'scraped where the tasks run: quotes task 1 of 1 on 127.0.0.1; replica task 1 of 2 on 127.0.0.1', warnings: ['replica runs 1 of 2 tasks: the reading sums the tasks that run'] });
    expect(report.health![1]).toMatchObject({ name: 'replica', status: 'warning', warnings: ['1 of 2 tasks running'] });
  });

  it('a service with no running task: its health and every scraped row are errors, though its configured URL answers', async () => {
    const m = manager();
    for (const t of m.tasks.slice(1)) t.state = 'rejected';
    const report = await check(m);
    expect(report.ok).toBe(false);
    const why = 'no task of v2 running on a ready node (0 of 2)';
    expect(report.checks[0]).toMatchObject({ status: 'error', error: `cannot read the metrics of replica where it runs: ${why}` });
    expect(report.checks[0]!.where).toBeUndefined();
    expect(report.health).toEqual([
      expect.objectContaining({ name: 'quotes', status: 'ok' }),
      { name: 'replica', type: 'health', status: 'error', error: `replica is not running where its target places it: ${why}` },
    ]);
  });

  it('a manager that cannot say where the tasks run: every scraped row and every health row is an error with why', async () => {
    const m = manager();
    m.down = true;
    const report = await check(m);
    expect(report.ok).toBe(false);
    const why = expect.stringMatching(/^cannot find where the services of live run: `docker service ls .*` failed \(exit 1\): Cannot connect to the Docker daemon/);
    expect(report.checks[0]).toMatchObject({ status: 'error', error: why });
    expect(report.health!.map((h) => [h.name, h.status, h.error])).toEqual([['quotes', 'error', why], ['replica', 'error', why]]);
    expect(m.commands()).toEqual(['docker service ls --filter label=com.docker.stack.namespace=st --format {{.ID}} {{.Name}}']);
  });
});
