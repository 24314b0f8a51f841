// The swarm target on a real three-node swarm (one manager, two workers, each dockerd in its own
// network namespace; test/harness/swarm.ts), driven through the CLI as a user would: deploy with
// replicas across nodes, a bad release rolled back by shipgate from its own record, a worker's
// engine SIGKILLed during a rolling update, and a node drained during a deploy.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoRepo } from '../demo/stack/build-repo.mjs';
import { shipgate } from './harness/cli.js';
import { addRelease } from './harness/git.js';
import { buildReleaseImages, DEMO_SWARM, startSwarm, swarmStackConfig, until, type SwarmHarness } from './harness/swarm.js';

const SERVICES = DEMO_SWARM.services;
const PORTS = DEMO_SWARM.ports;
const STACK = 'trading_staging';
// The fault stories may roll a release back (marking it bad) and later deploy it again: said so.
const AGAIN = ['--allow-bad', '--reason', 'rolled back by an injected fault, not for the release'];

describe('swarm target on a three-node swarm', () => {
  let swarm: SwarmHarness;
  let dir: string;
  const run = (args: string[]) => shipgate(args, { cwd: dir, timeoutMs: 600_000 });
  const commands = () => readFileSync(path.join(dir, '.shipgate', 'swarm', 'staging.commands.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { cmd?: string; note?: string });
  const mgr = (args: string[]) => swarm.manager.docker(args);
  /** Node address of each running task of a service, from the manager. */
  const running = async (service: string): Promise<{ addr: string; image: string }[]> => {
    const ids = (await mgr(['service', 'ps', '-q', '--no-trunc', '--filter', 'desired-state=running', `${STACK}_${service}`])).trim().split('\n').filter(Boolean);
    if (!ids.length) return [];
    const tasks = JSON.parse(await mgr(['inspect', '--type', 'task', ...ids])) as { NodeID: string; Status: { State: string }; Spec: { ContainerSpec: { Image: string } } }[];
    const nodes = JSON.parse(await mgr(['node', 'inspect', ...new Set(tasks.map((t) => t.NodeID))])) as { ID: string; Status: { Addr: string } }[];
    return tasks.filter((t) => t.Status.State === 'running').map((t) => ({ addr: nodes.find((n) => n.ID === t.NodeID)!.Status.Addr, image: t.Spec.ContainerSpec.Image.split('@')[0]! }));
  };
  const healthVersion = async (addr: string, service: string): Promise<string | undefined> => {
    try {
      return ((await (await fetch(`http://${addr}:${PORTS[service]}/health`)).json()) as { version?: string }).version;
    } catch {
      return undefined;
    }
  };
  /** Every running task of every service runs `version`'s image and says so on its node's address. */
  const expectRunning = async (version: string) => {
    for (const s of SERVICES) {
      const tasks = await running(s);
      expect(tasks.length, s).toBe(s === 'signal_service' ? 2 : 1);
      for (const t of tasks) {
        expect(t.image).toBe(`shipgate-demo/${s}:${version}`);
        expect(await healthVersion(t.addr, s)).toBe(version);
      }
    }
  };
  const updateState = async (service: string) => (await mgr(['service', 'inspect', '--format', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}', `${STACK}_${service}`])).trim();

  beforeAll(async () => {
    swarm = await startSwarm();
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-swarm-'));
    const repo = await buildDemoRepo(path.join(dir, 'repo'), { releases: ['v1.0.0', 'v1.1.0'] });
    // A release whose gateway exits at once: its task fails on whatever node it lands.
    addRelease(repo.dir, 'v1.0.0', 'v1.0.1', { VERSION: 'v1.0.1\n', 'execution_gateway/main.mjs': "console.error('gateway: missing broker config'); process.exit(3);\n" });
    await buildReleaseImages(swarm, { repoDir: repo.dir, workDir: dir, versions: ['v1.0.0', 'v1.1.0', 'v1.0.1'], images: DEMO_SWARM.images });
    writeFileSync(
      path.join(dir, 'shipgate.yml'),
      swarmStackConfig({
        project: 'trading',
        repository: repo.dir,
        dockerHost: swarm.manager.host,
        services: Object.fromEntries(SERVICES.map((s) => [s, { port: PORTS[s]! }])),
        target: { convergenceTimeout: '2m' },
        environment: { health: { timeout: '60s', interval: '500ms' } },
      }),
    );
  }, 1_200_000);

  afterAll(async () => {
    await swarm?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it('deploys the sample stack with its replicas on different nodes, each task healthy on its node address', async () => {
    const res = await run(['deploy', 'staging', '--version', 'v1.0.0', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.json()).toMatchObject({ ok: true, version: 'v1.0.0' });
    await expectRunning('v1.0.0');
    const signal = await running('signal_service');
    expect(new Set(signal.map((t) => t.addr)).size).toBe(2);

    const spec = path.join(dir, '.shipgate', 'swarm', 'staging', 'v1.0.0.stack.yml');
    expect(commands().map((c) => c.cmd)).toContain(`docker stack deploy -c ${spec} --with-registry-auth --resolve-image never --prune ${STACK}`);
    const text = readFileSync(spec, 'utf8');
    expect(text).toContain('com.shipgate.release: v1.0.0');
    expect(text).toMatch(/execution_gateway:[\s\S]*update_config:[\s\S]*order: stop-first/);
    const status = (await run(['status', '--env', 'staging', '--json'])).json().environments[0];
    expect(status.currentVersion).toBe('v1.0.0');

    // No routing mesh: the configured 127.0.0.1 health URLs are checked on a node running a task.
    const health = await run(['health', 'staging', '--json']);
    expect(health.code, health.stdout + health.stderr).toBe(0);
    const addrs = swarm.nodes.map((n) => n.addr);
    for (const s of health.json().services as { service: string; url: string; healthy: boolean }[]) {
      expect(s.healthy, s.service).toBe(true);
      expect(addrs).toContain(new URL(s.url).hostname);
      expect((await running(s.service)).map((t) => t.addr)).toContain(new URL(s.url).hostname);
    }
    const logs = await run(['logs', 'staging', 'execution_gateway', '--tail', '200', '--json']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(JSON.stringify(logs.json())).toMatch(/GET \/health 200/);
    expect(commands().map((c) => c.cmd)).toContain(`docker service logs --no-trunc --no-task-ids --raw --tail 200 ${STACK}_execution_gateway`);
  }, 900_000);

  it('a release whose gateway task fails does not converge: shipgate rolls the stack back from its own record', async () => {
    const mark = commands().length;
    const res = await run(['deploy', 'staging', '--version', 'v1.0.1', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    const out = res.json();
    expect(out).toMatchObject({ ok: false, version: 'v1.0.1', failedStep: 'start-new' });
    expect(out.error).toMatch(/execution_gateway: .*task \w+ \(slot 1\) on [\d.]+: failed \(exit 3\): task: non-zero exit \(3\)/);
    expect(out.rollback).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0' });
    await expectRunning('v1.0.0');
    const since = commands().slice(mark);
    expect(since.map((c) => c.note)).toContain(`stack spec of v1.0.0 from shipgate's record: ${path.join(dir, '.shipgate', 'swarm', 'staging', 'v1.0.0.stack.yml')}`);
    // The rollback did not ask Swarm for its one-step PreviousSpec.
    expect(since.filter((c) => /service (rollback|update --rollback)/.test(c.cmd ?? ''))).toEqual([]);
  }, 900_000);

  it('a worker whose engine is SIGKILLed during a rolling update: the deploy reports the node and converges or rolls back', async () => {
    const deploy = run(['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    await until('a rolling update in progress', async () => ((await Promise.all(SERVICES.map(updateState))).includes('updating') ? true : undefined), 300_000);
    const victim = swarm.workers[0]!;
    await swarm.kill(victim);
    const res = await deploy;
    const out = res.json();
    const version = out.ok ? 'v1.1.0' : 'v1.0.0';
    console.info(`worker killed during the update: ${out.ok ? 'converged on v1.1.0' : `rolled back: ${out.error}`}`);
    if (!out.ok) expect(out.rollback, res.stdout).toMatchObject({ ok: true, version: 'v1.0.0' });
    for (const s of SERVICES) for (const t of await running(s)) expect(t.addr).not.toBe(victim.addr);
    await expectRunning(version);
    expect(commands().map((c) => c.note)).toContainEqual(expect.stringMatching(new RegExp(`^node ${victim.addr.replaceAll('.', '\\.')} went down during the deploy of v1\\.1\\.0`)));
    const diag = await run(['diagnose', 'staging', '--json']);
    expect(JSON.stringify(diag.json())).toContain(`node ${victim.addr} (worker) is down`);
    await swarm.restart(victim);
    await until('the worker ready again', async () => ((await mgr(['node', 'ls', '--format', '{{.Status}}'])).split('\n').filter((s) => s === 'Ready').length === 3 ? true : undefined));
  }, 900_000);

  it('a node drained during a deploy: the deploy reports it, its tasks move off it, and the stack converges or is rolled back', async () => {
    const current = (await run(['status', '--env', 'staging', '--json'])).json().environments[0].currentVersion as string;
    const next = current === 'v1.1.0' ? 'v1.0.0' : 'v1.1.0';
    // A fault injected before may have rolled `next` back (marked bad): deploying it again is stated.
    const deploy = run(['deploy', 'staging', '--version', next, ...AGAIN, '--json']);
    await until('a rolling update in progress', async () => ((await Promise.all(SERVICES.map(updateState))).includes('updating') ? true : undefined), 300_000);
    const drained = swarm.workers[1]!;
    await mgr(['node', 'update', '--availability', 'drain', (await drained.docker(['info', '--format', '{{.Swarm.NodeID}}'])).trim()]);
    const res = await deploy;
    const out = res.json();
    console.info(`node drained during the deploy: ${out.ok ? `converged on ${next}` : `rolled back: ${out.error}`}`);
    // Swarm may count a task the drain shut down as a failed update (failure_action: pause): then shipgate rolls back.
    if (!out.ok) {
      expect(out.error).toContain(`node ${drained.addr} is drain during the deploy of ${next}`);
      expect(out.rollback, res.stdout).toMatchObject({ ok: true, version: current });
    }
    expect(commands().map((c) => c.note)).toContain(`node ${drained.addr} is drain during the deploy of ${next}: its tasks move to other nodes`);
    for (const s of SERVICES) for (const t of await running(s)) expect(t.addr).not.toBe(drained.addr);
    await expectRunning(out.ok ? next : current);
    const diag = await run(['diagnose', 'staging', '--json']);
    expect(JSON.stringify(diag.json())).toContain(`node ${drained.addr} is drain: it runs no new tasks`);
  }, 900_000);

  it('`rollback` returns to the previous release from the record; the exclusive gateway never runs twice on the way', async () => {
    const current = (await run(['status', '--env', 'staging', '--json'])).json().environments[0].currentVersion as string;
    if (current !== 'v1.1.0') expect((await run(['deploy', 'staging', '--version', 'v1.1.0', ...AGAIN, '--json'])).code).toBe(0);
    let done = false;
    const rollback = run(['rollback', 'staging', '--reason', 'test', '--json']).finally(() => (done = true));
    let most = 0;
    let samples = 0;
    while (!done) {
      most = Math.max(most, (await running('execution_gateway')).length);
      samples++;
    }
    const res = await rollback;
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.json()).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0', fromVersion: 'v1.1.0' });
    expect(samples).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(1);
    await expectRunning('v1.0.0');
  }, 900_000);

  it('stop removes the stack', async () => {
    const res = await run(['stop', 'staging', '--reason', 'end of test', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect((await mgr(['service', 'ls', '-q', '--filter', `label=com.docker.stack.namespace=${STACK}`])).trim()).toBe('');
    expect(commands().map((c) => c.cmd)).toContain(`docker stack rm ${STACK}`);
  }, 300_000);
});
