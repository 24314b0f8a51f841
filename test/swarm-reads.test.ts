// What one evaluation of a swarm environment asks the manager: the docker commands of one monitor
// pass (evaluateMonitor, as the controller runs it) counted with a fake manager that records every
// argv (test/harness/fake-swarm-manager.ts). Task placement is read afresh by every evaluation; the
// node list and the stack's service IDs are kept a short while and read again when they cannot be
// right (a task on a node not in the list, a configured service not in the index, an ID gone).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HealthProbe } from '../src/adapters/health/http-probe.js';
import type { WatchRecord } from '../src/adapters/store/store.js';
import { targetFactory } from '../src/adapters/targets/factory.js';
import { GitRepository } from '../src/adapters/vcs/git.js';
import type { MonitorData } from '../src/app/analysis/watch-data.js';
import type { AppContext } from '../src/app/context.js';
import { evaluateMonitor } from '../src/app/monitor.js';
import { observedServices } from '../src/app/analysis/observed.js';
import { checkConfigText } from '../src/config/load.js';
import { resolveEnvironment } from '../src/config/resolve.js';
import { READ_TTL_MS, SwarmReadCache } from '../src/adapters/targets/swarm/reads.js';
import { fakeSwarm, FakeSwarmManager } from './harness/fake-swarm-manager.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const CONFIG = `version: 1
project: quotes
repository: .
stateDir: .shipgate
services:
  quotes: { health: 'http://127.0.0.1:{port}/healthz', metrics: 'http://127.0.0.1:{port}/metrics' }
  replica: { health: 'http://127.0.0.1:{port}/healthz', metrics: 'http://127.0.0.1:{port}/metrics' }
environments:
  live:
    target: { type: swarm, stack: st, dockerHost: 'unix:///fake.sock' }
    services: { quotes: { port: 9100 }, replica: { port: 9200 } }
    monitor: { autoRollback: true, immediate: 5m, short: 30m, medium: 4h, healthGrace: 1m }
`;


/** The parts of an AppContext one monitor evaluation uses; targets made per call, as createContext makes them. */
export async function swarmContext(manager: FakeSwarmManager, probed: string[], now: () => number = Date.now) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-swarm-reads-'));
  dirs.push(dir);
  const { config, problems } = checkConfigText(CONFIG, path.join(dir, 'shipgate.yml'));
  if (!config) throw new Error(JSON.stringify(problems));
  const environment = resolveEnvironment(config, 'live');
  const make = await targetFactory(config, { now });
  const probe: HealthProbe = async (url) => {
    probed.push(url);
    return { url, status: 200, version: undefined, error: undefined, latencyMs: 1 };
  };
  const clock = { now: () => new Date(now()) };
  const ctx = {
    config,
    env: {},
    clock,
    wallClock: clock,
    probe,
    environment: () => environment,
    target: (env: string) => make(env, environment.spec, { config, stateDir: path.join(dir, '.shipgate'), repo: new GitRepository(dir, manager), runner: manager, env: {}, services: () => environment.services }),
    store: { updateWatch: async (_id: number, patch: Partial<WatchRecord<MonitorData>>) => ({ ...monitor, ...patch }) },
  } as unknown as AppContext;
  const monitor: WatchRecord<MonitorData> = {
    id: 1, kind: 'monitor', env: 'live', version: 'v2', deploymentId: 1, state: 'running', startedAt: new Date(now()).toISOString(), finishedAt: null,
    data: { phase: 'immediate', autoRollback: true, liveAt: new Date(now()).toISOString(), lastEvaluatedAt: null, checks: {}, latest: [], baseline: {}, warnings: [], unhealthySince: null, logErrorLines: 0, trigger: null, rollback: null, incidentId: null, reason: null },
  } as unknown as WatchRecord<MonitorData>;
  return { ctx, monitor, environment };
}

const READ_SERVICES = 'docker service ls --filter label=com.docker.stack.namespace=st --format {{.ID}} {{.Name}}';
const READ_NODES = ['docker node ls -q', 'docker node inspect N1 N2 N3'];
const LOGS = ['st_quotes', 'st_replica'].map((s) => `docker service logs --no-trunc --no-task-ids --raw --tail 1000 ${s}`);
/** What every evaluation reads afresh: each service's spec and where its tasks run. */
const PLACEMENT = ['docker service inspect S1 S2', 'docker service ps -q --no-trunc S1 S2', 'docker inspect --type task T1 T2 T3'];

describe('docker commands of one swarm monitor evaluation', () => {
  // Measured on the code before this change (the same fake manager): the first pass ran 14 commands
  // (service ls/inspect, service ps, inspect tasks, node ls/inspect twice: once to find where the
  // tasks run, once more to list the services whose logs it scans; then one `service logs` each),
  // and every later pass 6.
  it('the first pass reads placement once for health, metrics and logs: 8 commands, not 14', async () => {
    const manager = fakeSwarm();
    const probed: string[] = [];
    const { ctx, monitor } = await swarmContext(manager, probed);
    const out = await evaluateMonitor(ctx, monitor);
    expect(out.state).toBe('running');
    expect(out.data.unhealthySince).toBeNull();
    expect(probed.sort()).toEqual(['http://10.9.0.2:9100/healthz', 'http://10.9.0.3:9200/healthz']);
    expect(manager.commands().sort()).toEqual([READ_SERVICES, ...PLACEMENT, ...READ_NODES, ...LOGS].sort());
  });

  it('later passes within the TTL read only specs and tasks (3, not 6); tasks that moved are followed at once', async () => {
    let now = Date.parse('2030-01-02T15:00:00Z');
    const manager = fakeSwarm();
    const probed: string[] = [];
    const { ctx, monitor } = await swarmContext(manager, probed, () => now);
    let watch = await evaluateMonitor(ctx, monitor);
    manager.reset();
    now += 1_000;
    watch = await evaluateMonitor(ctx, watch);
    expect(manager.commands()).toEqual(PLACEMENT);

    // Swarm moved replica's first task to another known node: the next pass reads it there.
    manager.tasks[1]!.nodeId = 'N3';
    manager.reset();
    probed.length = 0;
    now += 1_000;
    watch = await evaluateMonitor(ctx, watch);
    expect(manager.commands()).toEqual(PLACEMENT);
    expect(probed.sort()).toEqual(['http://10.9.0.2:9100/healthz', 'http://10.9.0.4:9200/healthz']);

    // A task on a node the kept list does not have: the nodes are read again in the same pass.
    manager.nodes.push({ id: 'N4', addr: '10.9.0.5' });
    manager.tasks[0]!.nodeId = 'N4';
    manager.reset();
    probed.length = 0;
    now += 1_000;
    watch = await evaluateMonitor(ctx, watch);
    expect(manager.commands()).toEqual([...PLACEMENT, 'docker node ls -q', 'docker node inspect N1 N2 N3 N4']);
    expect(probed.sort()).toEqual(['http://10.9.0.4:9200/healthz', 'http://10.9.0.5:9100/healthz']);
  });

  it('a node kept as down that runs a task again (it came back) is read again: its task is scraped, never left out of the sum', async () => {
    let now = Date.parse('2030-01-02T15:00:00Z');
    const manager = fakeSwarm();
    manager.nodes[2]!.state = 'down';
    manager.tasks[2]!.nodeId = 'N2';
    const { ctx, environment } = await swarmContext(manager, [], () => now);
    const replica = async () => (await observedServices(ctx, 'live', environment.services)).services.find((s) => s.name === 'replica')!;
    expect((await replica()).metricsUrls).toEqual(['http://10.9.0.3:9200/metrics']);
    manager.nodes[2]!.state = 'ready';
    manager.tasks[2]!.nodeId = 'N3';
    manager.reset();
    now += 1_000;
    expect((await replica())).toMatchObject({ metricsUrls: ['http://10.9.0.3:9200/metrics', 'http://10.9.0.4:9200/metrics'], placement: { nodes: ['10.9.0.3', '10.9.0.4'], desired: 2 } });
    expect(manager.commands()).toEqual([...PLACEMENT, ...READ_NODES]);
  });

  it('past the TTL the service IDs and nodes are read again (and the logs scanned again, every 5 s)', async () => {
    let now = Date.parse('2030-01-02T15:00:00Z');
    const manager = fakeSwarm();
    const { ctx, monitor } = await swarmContext(manager, [], () => now);
    const watch = await evaluateMonitor(ctx, monitor);
    manager.reset();
    now += READ_TTL_MS;
    await evaluateMonitor(ctx, watch);
    expect(manager.commands().sort()).toEqual([READ_SERVICES, ...PLACEMENT, ...READ_NODES, ...LOGS].sort());
  });

  it('a service deployed again (new ID) or added since the index was read: the index is read again in the same pass', async () => {
    let now = Date.parse('2030-01-02T15:00:00Z');
    const manager = fakeSwarm();
    const probed: string[] = [];
    const { ctx, monitor } = await swarmContext(manager, probed, () => now);
    let watch = await evaluateMonitor(ctx, monitor);
    // The stack was removed and deployed again by someone else: new service and task IDs.
    manager.services[0]!.id = 'S9';
    manager.tasks[0]!.serviceId = 'S9';
    manager.reset();
    probed.length = 0;
    now += 1_000;
    watch = await evaluateMonitor(ctx, watch);
    expect(manager.commands()).toEqual(['docker service inspect S1 S2', READ_SERVICES, 'docker service inspect S9 S2', 'docker service ps -q --no-trunc S9 S2', 'docker inspect --type task T1 T2 T3']);
    expect(probed.sort()).toEqual(['http://10.9.0.2:9100/healthz', 'http://10.9.0.3:9200/healthz']);
    expect(watch.data.unhealthySince).toBeNull();

    // A configured service that was not in the stack when the index was read.
    const gone = manager.services.splice(1, 1)[0]!;
    now += READ_TTL_MS;
    watch = await evaluateMonitor(ctx, watch);
    manager.services.push(gone);
    manager.reset();
    now += 1_000;
    await evaluateMonitor(ctx, watch);
    expect(manager.commands()).toEqual([READ_SERVICES, 'docker service inspect S9 S2', 'docker service ps -q --no-trunc S9 S2', 'docker inspect --type task T1 T2 T3']);
  });

  it('a service with no task running is unhealthy with why; its configured 127.0.0.1 URL is not probed', async () => {
    const manager = fakeSwarm();
    for (const t of manager.tasks.slice(1)) t.state = 'rejected';
    const probed: string[] = [];
    const { ctx, monitor } = await swarmContext(manager, probed);
    const out = await evaluateMonitor(ctx, monitor);
    expect(probed).toEqual(['http://10.9.0.2:9100/healthz']);
    expect(out.data.unhealthySince).toBe(out.data.lastEvaluatedAt);
  });

  it('a manager that does not answer: every service unhealthy with why, nothing kept hides it', async () => {
    let now = Date.parse('2030-01-02T15:00:00Z');
    const manager = fakeSwarm();
    const probed: string[] = [];
    const { ctx, monitor } = await swarmContext(manager, probed, () => now);
    const watch = await evaluateMonitor(ctx, monitor);
    manager.down = true;
    probed.length = 0;
    now += 1_000;
    const out = await evaluateMonitor(ctx, watch);
    expect(probed).toEqual([]);
    expect(out.data.unhealthySince).toBe(new Date(now).toISOString());
  });
});

describe('docker commands of `status` on a swarm environment', () => {
  it('ps and where each service answers: the service list and nodes read once (9 commands, 12 before)', async () => {
    const manager = fakeSwarm();
    const { ctx, environment } = await swarmContext(manager, []);
    const ps = await ctx.target('live').ps('live');
    expect(ps.map((p) => [p.service, p.state])).toEqual([['quotes', 'running'], ['replica', 'running']]);
    await observedServices(ctx, 'live', environment.services);
    expect(manager.commands().sort()).toEqual([READ_SERVICES, ...READ_NODES, ...PLACEMENT, ...PLACEMENT].sort());
  });
});

describe('the read cache', () => {
  it('keeps a value for its TTL, and forgets it when told', () => {
    let now = 0;
    const cache = new SwarmReadCache(() => now, 1000);
    cache.set('k', [1]);
    now = 999;
    expect(cache.get('k')).toEqual([1]);
    now = 1000;
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', [2]);
    cache.forget('k');
    expect(cache.get('k')).toBeUndefined();
  });
});
