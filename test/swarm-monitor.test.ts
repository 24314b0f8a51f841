// Production on a real three-node swarm, watched by shipgate's controller, with a stack unlike the
// demo: the Python quote service (test/fixtures/pystack) run as two swarm services, `quotes` (one
// task, exclusive) and `replica` (two tasks on two nodes), with its own health JSON
// (/healthz -> {state, build}) and metric names (app_requests_total{route,status},
// app_request_latency_seconds), built from a python3 image made by `docker import`.
// - a release that converges and verifies healthy, then errs under its own traffic: the monitor,
//   reading every task's /metrics on its node's address, rolls the stack back from shipgate's record;
// - a task whose health contract fails (its process stopped): `health --restart-unhealthy` forces
//   a Swarm update of that service and it comes back healthy;
// - a release whose replicas exit cleanly under failure_action: rollback: Swarm rolls the service back
//   itself, the deploy reports it, and shipgate returns the whole stack to its last good release.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL_VARIABLE, openStore } from '../src/adapters/store/open.js';
import { buildPyRepo } from './fixtures/pystack/build-repo.js';
import { BIN, shipgate } from './harness/cli.js';
import { addRelease } from './harness/git.js';
import { scaled } from './harness/pace.js';
import { buildReleaseImages, startSwarm, swarmStackConfig, until, type SwarmHarness } from './harness/swarm.js';

const STACK = 'quotes_live';
const PORTS: Record<string, number> = { quotes: 9100, replica: 9200 };
const REPLICAS: Record<string, number> = { quotes: 1, replica: 2 };
const image = (version: string) => `shipgate-pystack/quotes:${version}`;

describe('swarm production watched by the controller (a stack unlike the demo)', () => {
  let swarm: SwarmHarness;
  let dir: string;
  let daemon: ChildProcess | undefined;
  const run = (args: string[]) => shipgate(args, { cwd: dir, timeoutMs: 600_000 });
  const ok = async (args: string[]) => {
    const res = await run(args);
    expect(res.code, `shipgate ${args.join(' ')}\n${res.stdout}\n${res.stderr}`).toBe(0);
    return res.json();
  };
  const mgr = (args: string[]) => swarm.manager.docker(args);
  const commands = () => readFileSync(path.join(dir, '.shipgate', 'swarm', 'live.commands.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { cmd?: string; note?: string });

  /** Each running task of a service: its node's address, its image and its container. */
  const running = async (service: string): Promise<{ addr: string; image: string; node: string; container: string }[]> => {
    const ids = (await mgr(['service', 'ps', '-q', '--no-trunc', '--filter', 'desired-state=running', `${STACK}_${service}`])).trim().split('\n').filter(Boolean);
    if (!ids.length) return [];
    const tasks = JSON.parse(await mgr(['inspect', '--type', 'task', ...ids])) as { NodeID: string; Status: { State: string; ContainerStatus?: { ContainerID?: string } }; Spec: { ContainerSpec: { Image: string } } }[];
    const nodes = JSON.parse(await mgr(['node', 'inspect', ...new Set(tasks.map((t) => t.NodeID))])) as { ID: string; Status: { Addr: string } }[];
    return tasks
      .filter((t) => t.Status.State === 'running')
      .map((t) => ({ addr: nodes.find((n) => n.ID === t.NodeID)!.Status.Addr, node: t.NodeID, image: t.Spec.ContainerSpec.Image.split('@')[0]!, container: t.Status.ContainerStatus?.ContainerID ?? '' }));
  };
  const get = async (url: string): Promise<string | undefined> => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
      return res.ok ? await res.text() : undefined;
    } catch {
      return undefined;
    }
  };
  const build = async (addr: string, service: string) => {
    const text = await get(`http://${addr}:${PORTS[service]}/healthz`);
    return text ? (JSON.parse(text) as { build?: string }).build : undefined;
  };
  /** API requests a task has served, from its own /metrics on its node's address. */
  const served = async (addr: string, service: string): Promise<number> =>
    ((await get(`http://${addr}:${PORTS[service]}/metrics`)) ?? '').split('\n').filter((l) => l.startsWith('app_requests_total{route="/api/quote"')).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
  /** Every task of every service runs `version`'s image and says so on its node's address. */
  const expectRunning = async (version: string) => {
    for (const s of Object.keys(PORTS)) {
      const tasks = await running(s);
      expect(tasks.length, s).toBe(REPLICAS[s]);
      for (const t of tasks) {
        expect(t.image).toBe(image(version));
        expect(await build(t.addr, s)).toBe(version);
      }
    }
  };
  const newestMonitor = async (version: string) => {
    const store = await openStore({ url: process.env[DATABASE_URL_VARIABLE], sqliteFile: path.join(dir, '.shipgate', 'state.db') });
    try {
      return (await store.listWatches({ kind: 'monitor', env: 'live', limit: 20 })).find((w) => w.version === version);
    } finally {
      await store.close();
    }
  };

  beforeAll(async () => {
    swarm = await startSwarm();
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-swarm-monitor-'));
    const repo = buildPyRepo(path.join(dir, 'repo'), ['2026.1.0', '2026.3.0']);
    // A release whose replicas exit cleanly 2 s after they start, with failure_action: rollback: Swarm's
    // update monitor sees them stop and rolls the service back itself (a completed task is no failure to shipgate).
    const stackFile = readFileSync(path.join(repo.dir, 'docker-stack.yml'), 'utf8');
    const replica = stackFile.indexOf('  replica:');
    addRelease(repo.dir, '2026.1.0', '2026.1.1', {
      BUILD: '2026.1.1\n',
      'docker-stack.yml': stackFile.slice(0, replica) + stackFile.slice(replica)
        .replace('command: ["python3", "quotes.py"]', 'command: ["python3", "-c", "import time; print(\'replica: no quote book configured\'); time.sleep(2)"]')
        .replace('failure_action: pause', 'failure_action: rollback')
        .replace('monitor: 5s', 'monitor: 15s'),
    });
    await buildReleaseImages(swarm, { repoDir: repo.dir, workDir: dir, versions: ['2026.1.0', '2026.3.0', '2026.1.1'], images: (v) => [image(v)], baseImage: await swarm.pythonBaseImage() });
    const health = { url: 'http://127.0.0.1:{port}/healthz', status: { field: 'state', healthy: ['ok'] }, version: { field: 'build' } };
    writeFileSync(
      path.join(dir, 'shipgate.yml'),
      swarmStackConfig({
        project: 'quotes',
        repository: repo.dir,
        dockerHost: swarm.manager.host,
        env: 'live',
        services: Object.fromEntries(Object.entries(PORTS).map(([s, port]) => [s, { port, health, metrics: 'http://127.0.0.1:{port}/metrics' }])),
        target: { exclusive: ['quotes'], convergenceTimeout: '3m' },
        environment: {
          health: { timeout: '60s', interval: '500ms' },
          analysis: {
            interval: '1s',
            checks: [
              { name: 'quote-errors', type: 'error-rate', metric: 'app_requests_total', errors: 'status=~"5.."', select: 'route="/api/quote"', target: '1%', limit: '5%' },
              { name: 'quote-p95', type: 'latency', metric: 'app_request_latency_seconds', select: 'route="/api/quote"', max: '1s', maxIncrease: '10%', rollbackIncrease: '50%' },
            ],
          },
          monitor: { autoRollback: true, immediate: '1s', short: '60s', medium: '90s', healthGrace: '5s' },
        },
      }),
    );
  }, 1_200_000);

  afterAll(async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      const exited = new Promise((r) => daemon!.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
    await swarm?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it('a release that converges healthy and then errs is rolled back by the monitor from shipgate\'s record; the exclusive service never runs twice', async () => {
    daemon = spawn(process.execPath, [BIN, 'serve'], { cwd: dir, env: { ...process.env, SHIPGATE_ACTOR: 'tester', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    daemon.stdout!.on('data', (d) => (out += d));
    daemon.stderr!.on('data', (d) => (out += d));
    await until('shipgate serve running', async () => {
      if (daemon!.exitCode !== null) throw new Error(`serve exited:\n${out}`);
      return /controller running/.test(out) || undefined;
    }, scaled(60_000));

    await ok(['deploy', 'live', '--version', '2026.1.0', '--json']);
    await expectRunning('2026.1.0');
    // Each task has served its own traffic: a baseline to compare the next release with.
    for (const s of Object.keys(PORTS)) for (const t of await running(s)) await until(`${s} on ${t.addr} serving`, async () => ((await served(t.addr, s)) >= 100 ? true : undefined), scaled(120_000));

    // `config check --live` reads where the monitor reads (nothing answers on the configured 127.0.0.1 here):
    // every task's /metrics on its node, each service's health on its first task's node, each row saying where.
    const [quotesAt] = (await running('quotes')).map((t) => t.addr);
    const replicaAt = (await running('replica')).map((t) => t.addr);
    const live = await run(['config', 'check', '--live', 'live', '--json']);
    expect(live.code, live.stdout + live.stderr).toBe(0);
    const report = live.json();
    for (const c of report.checks) {
      expect(c, JSON.stringify(c)).toMatchObject({ status: 'ok', where: expect.stringMatching(new RegExp(`^scraped where the tasks run: quotes task 1 of 1 on ${quotesAt}; replica tasks 1-2 of 2 on (${replicaAt.join(', ')}|${[...replicaAt].reverse().join(', ')})$`.replaceAll('.', '\\.'))) });
    }
    expect(report.health).toEqual([
      { name: 'quotes', type: 'health', status: 'ok', reads: `GET http://${quotesAt}:9100/healthz`, where: `read on node ${quotesAt}, task 1 of 1 (1 running)`, version: '2026.1.0', note: 'HTTP 200, state ok, build 2026.1.0' },
      expect.objectContaining({ name: 'replica', status: 'ok', reads: expect.stringMatching(/^GET http:\/\/[\d.]+:9200\/healthz$/), where: expect.stringMatching(/, task 1 of 2 \(2 running\)$/), version: '2026.1.0' }),
    ]);
    expect(replicaAt).toContain(report.health[1].where.match(/^read on node ([\d.]+),/)[1]);

    // Sampled from the deploy until the rollback is over: never two tasks of `quotes` at once.
    let most = 0;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, (await running('quotes')).length);
        samples++;
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      const deployed = await ok(['deploy', 'live', '--version', '2026.3.0', '--json']);
      // It converged and verified: the bad release is healthy by every contract.
      expect(deployed).toMatchObject({ ok: true, version: '2026.3.0', fromVersion: '2026.1.0' });
      const monitor = await until('the monitor of 2026.3.0 to finish', async () => {
        const w = await newestMonitor('2026.3.0');
        return w && w.state !== 'running' ? w : undefined;
      }, scaled(300_000));
      expect(monitor.state, JSON.stringify(monitor.data).slice(0, 3000)).toBe('rolled-back');
    } finally {
      sampling = false;
      await sampler;
    }
    expect(samples).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(1);

    const [monitor] = (await ok(['monitors', '--env', 'live', '--json'])).monitors;
    expect(monitor).toMatchObject({ env: 'live', version: '2026.3.0', state: 'rolled-back', autoRollback: true, incidentId: expect.any(Number) });
    expect(monitor.trigger.check).toBe('quote-errors');
    expect(monitor.trigger.reason).toMatch(/error rate [\d.]+% over \d+ requests: the sequential test favours >= 5\.00%/);
    // Read from the tasks on their nodes: requests and errors of the new release, and the previous
    // release's rate (measured the same way just before it was replaced) as the baseline.
    expect(monitor.trigger.evidence.errors).toBeGreaterThan(0);
    expect(monitor.trigger.evidence.requests).toBeGreaterThan(monitor.trigger.evidence.errors);
    expect(monitor.trigger.evidence.baseline).toBeLessThan(0.01);
    expect(monitor.rollback).toMatchObject({ ok: true, version: '2026.1.0' });

    // The stack runs the previous release again, every task saying so on its node's address.
    await expectRunning('2026.1.0');
    const status = (await ok(['status', '--env', 'live', '--json'])).environments[0];
    expect(status.currentVersion).toBe('2026.1.0');
    expect(status.deployment).toMatchObject({ kind: 'rollback', version: '2026.1.0', state: 'succeeded' });
    for (const s of status.services) expect(s, JSON.stringify(s)).toMatchObject({ healthy: true, version: '2026.1.0' });

    const events = (await ok(['audit', '--json'])).events as any[];
    expect(events.find((e) => e.action === 'monitor.trigger')).toMatchObject({ env: 'live', version: '2026.3.0', outcome: 'rolling-back', reason: expect.stringMatching(/^quote-errors: /) });
    expect(events.find((e) => e.action === 'rollback.start')).toMatchObject({ env: 'live', version: '2026.1.0', reason: expect.stringMatching(/^automatic: quote-errors/) });
    expect(events.find((e) => e.action === 'incident.open')).toMatchObject({ env: 'live', version: '2026.3.0', outcome: 'open', detail: { incidentId: monitor.incidentId, trigger: 'quote-errors' } });
    expect((await ok(['audit', '--verify', '--json'])).ok).toBe(true);

    // The rollback deployed shipgate's recorded spec of 2026.1.0, not Swarm's PreviousSpec.
    const log = commands();
    expect(log.map((c) => c.note)).toContain(`stack spec of 2026.1.0 from shipgate's record: ${path.join(dir, '.shipgate', 'swarm', 'live', '2026.1.0.stack.yml')}`);
    expect(log.filter((c) => /service (rollback|update --rollback)/.test(c.cmd ?? ''))).toEqual([]);
    const spec = readFileSync(path.join(dir, '.shipgate', 'swarm', 'live', '2026.1.0.stack.yml'), 'utf8');
    expect(spec).toMatch(/quotes:[\s\S]*update_config:[\s\S]*order: stop-first/);

    daemon.kill('SIGTERM');
    await new Promise((r) => daemon!.once('exit', r));
  }, 1_200_000);

  it('`health --restart-unhealthy` force-updates the service whose task fails its health contract; it is healthy afterwards', async () => {
    // The quotes task's process is stopped (SIGSTOP): Swarm still sees it running, /healthz answers nothing.
    const [before] = await running('quotes');
    const engine = await (async () => {
      for (const n of swarm.nodes) if ((await n.docker(['info', '--format', '{{.Swarm.NodeID}}'])).trim() === before!.node) return n;
      throw new Error(`no engine for node ${before!.node}`);
    })();
    await engine.docker(['kill', '--signal', 'STOP', before!.container]);
    const sick = await run(['health', 'live', '--json']);
    expect(sick.code, sick.stdout + sick.stderr).toBe(1);
    const seen = sick.json().services as { service: string; healthy: boolean; url: string; reason: string }[];
    expect(seen.find((s) => s.service === 'quotes')).toMatchObject({ healthy: false, url: `http://${before!.addr}:9100/healthz` });
    expect(seen.find((s) => s.service === 'replica')).toMatchObject({ healthy: true });

    const res = await run(['health', 'live', '--restart-unhealthy', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const out = res.json();
    expect(out).toMatchObject({ env: 'live', healthy: true, restarted: ['quotes'] });
    for (const s of out.services) expect(s, JSON.stringify(s)).toMatchObject({ healthy: true, version: '2026.1.0' });

    // Swarm replaced the task (a forced update of that service alone), and the new one answers on its node.
    const forced = async (service: string) => Number((await mgr(['service', 'inspect', '--format', '{{.Spec.TaskTemplate.ForceUpdate}}', `${STACK}_${service}`])).trim());
    expect(await forced('quotes')).toBe(1);
    expect(await forced('replica')).toBe(0);
    const [after] = await running('quotes');
    expect(after!.container).not.toBe(before!.container);
    expect(await build(after!.addr, 'quotes')).toBe('2026.1.0');
    expect(commands().map((c) => c.cmd)).toContain(`docker service update --force --detach ${STACK}_quotes`);
    const events = (await ok(['audit', '--json'])).events as any[];
    expect(events.find((e) => e.action === 'service.restart')).toMatchObject({ env: 'live', outcome: 'ok', reason: expect.stringMatching(/^unhealthy: /), detail: { service: 'quotes' } });
  }, 900_000);

  it('Swarm rolls a failing service back itself (failure_action: rollback): the deploy reports it, and shipgate returns the whole stack to its last good release', async () => {
    const res = await run(['deploy', 'live', '--version', '2026.1.1', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    const out = res.json();
    expect(out).toMatchObject({ ok: false, version: '2026.1.1', failedStep: 'start-new' });
    expect(out.error).toMatch(/replica: Swarm rolled replica back to 2026\.1\.0 itself \(failure_action: rollback\)/);
    expect(out.rollback).toMatchObject({ ok: true, kind: 'rollback', version: '2026.1.0' });
    await expectRunning('2026.1.0');
    const diag = await run(['diagnose', 'live', '--json']);
    expect(JSON.stringify(diag.json())).toContain('Swarm rolled back 2026.1.1 itself before shipgate did');
    const state = JSON.parse(readFileSync(path.join(dir, '.shipgate', 'swarm', 'live.json'), 'utf8')) as { swarmRollbacks?: { version: string; detail: string }[] };
    expect(state.swarmRollbacks).toEqual([expect.objectContaining({ version: '2026.1.1', detail: expect.stringMatching(/^Swarm rolled replica back to 2026\.1\.0 itself/) })]);
  }, 900_000);
});
