// The swarm target's pure parts: every argv, the recorded stack spec, the convergence judgement,
// reachable endpoints and diagnose findings. The real three-node stories are in swarm-stories.test.ts.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultStackName, serviceName, swarmCommands, swarmEnvironment } from '../src/adapters/targets/swarm/commands.js';
import { judge, onNode, taskEndpoints } from '../src/adapters/targets/swarm/convergence.js';
import { parseNodes, parseServices, parseTasks, type SwarmNode, type SwarmService, type SwarmTask } from '../src/adapters/targets/swarm/parse.js';
import { releaseSpec, specServices } from '../src/adapters/targets/swarm/stack-file.js';
import { swarmFindings } from '../src/adapters/targets/swarm/status.js';
import { ShipgateError } from '../src/core/errors.js';

describe('swarm command builders', () => {
  it('deploys with the release spec, registry auth, no image resolution, pruning removed services', () => {
    expect(swarmCommands.deploy(['/s/v1.stack.yml'], 'trading_prod')).toEqual(['docker', 'stack', 'deploy', '-c', '/s/v1.stack.yml', '--with-registry-auth', '--resolve-image', 'never', '--prune', 'trading_prod']);
    expect(swarmCommands.deploy(['/a.yml', '/b.yml'], 's')).toEqual(['docker', 'stack', 'deploy', '-c', '/a.yml', '-c', '/b.yml', '--with-registry-auth', '--resolve-image', 'never', '--prune', 's']);
    expect(swarmCommands.config(['/r/docker-stack.yml', '/r/prod.yml'])).toEqual(['docker', 'stack', 'config', '-c', '/r/docker-stack.yml', '-c', '/r/prod.yml']);
    expect(swarmCommands.remove('s')).toEqual(['docker', 'stack', 'rm', 's']);
  });

  it('reads services, tasks and nodes as JSON, by the stack label', () => {
    expect(swarmCommands.services('s')).toEqual(['docker', 'service', 'ls', '--filter', 'label=com.docker.stack.namespace=s', '--format', '{{.ID}} {{.Name}}']);
    expect(swarmCommands.inspectServices(['a', 'b'])).toEqual(['docker', 'service', 'inspect', 'a', 'b']);
    expect(swarmCommands.tasks(['a', 'b'])).toEqual(['docker', 'service', 'ps', '-q', '--no-trunc', 'a', 'b']);
    expect(swarmCommands.inspectTasks(['t1'])).toEqual(['docker', 'inspect', '--type', 'task', 't1']);
    expect(swarmCommands.nodes()).toEqual(['docker', 'node', 'ls', '-q']);
    expect(swarmCommands.inspectNodes(['n1', 'n2'])).toEqual(['docker', 'node', 'inspect', 'n1', 'n2']);
    expect(swarmCommands.imageList(['t/gw:v1'])).toEqual(['docker', 'image', 'ls', '--filter', 'reference=t/gw:v1', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(swarmCommands.info()).toEqual(['docker', 'info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}']);
  });

  it('restarts with a forced update, reads logs raw', () => {
    expect(swarmCommands.forceUpdate('s_gw')).toEqual(['docker', 'service', 'update', '--force', '--detach', 's_gw']);
    expect(swarmCommands.logs('s_gw', 50)).toEqual(['docker', 'service', 'logs', '--no-trunc', '--no-task-ids', '--raw', '--tail', '50', 's_gw']);
  });

  it('names stacks and services; runs docker with the engine variables, the release variables and offline images', () => {
    expect(defaultStackName('Trading Platform!', 'prod')).toBe('tradingplatform_prod');
    expect(serviceName('trading_prod', 'execution_gateway')).toBe('trading_prod_execution_gateway');
    const env = swarmEnvironment({ PATH: '/usr/bin', DOCKER_CONFIG: '/c', SECRET: 'x' }, { TAG: 'v1' }, 'ssh://mgr');
    expect(env).toEqual({ PATH: '/usr/bin', DOCKER_CONFIG: '/c', TAG: 'v1', DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1', DOCKER_HOST: 'ssh://mgr' });
  });
});

const CONFIG = `version: "3.8"
services:
  execution_gateway:
    image: t/gw:v2
    labels: ["team=exec"]
    deploy:
      update_config: { order: start-first, failure_action: rollback }
  signal_service:
    image: t/sig:v2
    deploy: { replicas: 3, update_config: { order: start-first } }
  cache:
    image: redis:7
    deploy: { mode: global }
`;

describe('the recorded stack spec', () => {
  it('labels every container with the release and forces stop-first on exclusive services only', () => {
    const spec = releaseSpec(CONFIG, { version: 'v2', exclusive: ['execution_gateway'] });
    const services = specServices(spec);
    expect(services).toEqual([
      { name: 'execution_gateway', image: 't/gw:v2', replicas: 1, updateOrder: 'stop-first', failureAction: 'rollback' },
      { name: 'signal_service', image: 't/sig:v2', replicas: 3, updateOrder: 'start-first', failureAction: undefined },
      { name: 'cache', image: 'redis:7', replicas: undefined, updateOrder: undefined, failureAction: undefined },
    ]);
    expect(spec).toContain('com.shipgate.release: v2');
    expect(spec).toContain('team: exec');
    expect(spec).toMatch(/rollback_config:\s+order: stop-first/);
  });

  it('refuses an exclusive service asked to run twice, naming the field and the fix', () => {
    const run = () => releaseSpec(CONFIG, { version: 'v2', exclusive: ['signal_service'] });
    expect(run).toThrow(ShipgateError);
    expect(run).toThrow(/signal_service is listed in target.exclusive .* replicas: 3/);
    expect(() => releaseSpec(CONFIG, { version: 'v2', exclusive: ['cache'] })).toThrow(/mode: global/);
  });
});

const node = (id: string, addr: string, state = 'ready', availability = 'active'): SwarmNode => ({ id, hostname: 'h', addr, state, availability, role: 'worker', message: '' });
const svc = (over: Partial<SwarmService> = {}): SwarmService => ({ id: 'S1', name: 'st_gw', stack: 'st', image: 't/gw:v2', replicas: 2, release: 'v2', forceUpdate: 0, updateState: 'completed', updateMessage: '', previousRelease: 'v1', ...over });
const task = (over: Partial<SwarmTask> = {}): SwarmTask => ({ id: 'T1xxxxxxxxxxxx', serviceId: 'S1', nodeId: 'N1', slot: 1, state: 'running', desired: 'running', err: '', message: 'started', image: 't/gw:v2', release: 'v2', forceUpdate: 0, at: '', exitCode: undefined, ...over });
const nodes = [node('N1', '10.0.0.2'), node('N2', '10.0.0.3')];
const verdictOf = (services: SwarmService[], tasks: SwarmTask[], final = false) => judge({ stack: 'st', version: 'v2', wanted: ['gw'], services, tasks, nodes, final }).services[0]!;

describe('convergence', () => {
  it('converges when the desired replicas of the new spec run and nothing older does', () => {
    const v = verdictOf([svc()], [task(), task({ id: 'T2', nodeId: 'N2', slot: 2 }), task({ id: 'T0', image: 't/gw:v1', release: 'v1', state: 'shutdown', desired: 'shutdown' })]);
    expect(v).toMatchObject({ verdict: 'converged', running: 2, desired: 2 });
  });

  it('is progressing while an old task runs or replicas are missing, and fails at the deadline', () => {
    const tasks = [task(), task({ id: 'T0', image: 't/gw:v1', release: 'v1' })];
    expect(verdictOf([svc({ updateState: 'updating' })], tasks)).toMatchObject({ verdict: 'progressing', reason: '1/2 tasks of v2 running, 1 of an older spec still running, update in progress' });
    expect(verdictOf([svc()], tasks, true)).toMatchObject({ verdict: 'failed', reason: expect.stringMatching(/^not converged in time: 1\/2/) });
  });

  it('says when the update waits for old tasks on a node that is down', () => {
    const down = { stack: 'st', version: 'v2', wanted: ['gw'], services: [svc({ updateState: 'updating' })], nodes: [node('N1', '10.0.0.2'), node('N2', '10.0.0.3', 'down')] };
    const tasks = [task(), task({ id: 'T2', slot: 2 }), task({ id: 'T0', nodeId: 'N2', image: 't/gw:v1', release: 'v1', desired: 'shutdown' })];
    expect(judge({ ...down, tasks, final: false }).services[0]).toMatchObject({ verdict: 'progressing', reason: '2/2 tasks of v2 running, update in progress (Swarm waits for old tasks on down node 10.0.0.3 to stop)' });
  });

  it('fails at once on a failed or rejected task of the new spec, with its error and node', () => {
    const v = verdictOf([svc()], [task(), task({ id: 'T2abcdefghijk', nodeId: 'N2', state: 'failed', desired: 'shutdown', err: 'task: non-zero exit (1)', exitCode: 1 })]);
    expect(v.verdict).toBe('failed');
    expect(v.errors).toEqual(['task T2abcdefghij (slot 1) on 10.0.0.3: failed (exit 1): task: non-zero exit (1)']);
  });

  it('reports an update Swarm paused, and one Swarm rolled back itself', () => {
    expect(verdictOf([svc({ updateState: 'paused', updateMessage: 'update paused due to failure' })], [task()])).toMatchObject({ verdict: 'failed', reason: expect.stringContaining('failure_action: pause') });
    const rolled = verdictOf([svc({ release: 'v1', image: 't/gw:v1', previousRelease: 'v2', updateState: 'rollback_completed', updateMessage: 'rollback completed' })], [task({ release: 'v1', image: 't/gw:v1' })]);
    expect(rolled.verdict).toBe('failed');
    expect(rolled.swarmRollback).toMatch(/Swarm rolled gw back to v1 itself \(failure_action: rollback\)/);
    // What a real swarm shows after its own rollback: PreviousSpec cleared, the task that stopped named.
    const real = verdictOf([svc({ release: 'v1', image: 't/gw:v1', previousRelease: undefined, updateState: 'rollback_started', updateMessage: 'update rolled back due to failure or early termination of task 199sqappk4eq' })], [task({ release: 'v1', image: 't/gw:v1' })]);
    expect(real).toMatchObject({ verdict: 'failed', swarmRollback: 'Swarm rolled gw back to v1 itself (failure_action: rollback): update rolled back due to failure or early termination of task 199sqappk4eq' });
    // Another release's spec with no rollback in progress is not Swarm's doing.
    expect(verdictOf([svc({ release: 'v0', image: 't/gw:v0', previousRelease: undefined, updateState: 'completed' })], [task()]).swarmRollback).toBeUndefined();
  });

  it('counts a pending task that cannot be placed as an error, failing only at the deadline', () => {
    const pending = task({ id: 'T2', state: 'pending', err: 'no suitable node (max replicas per node limit exceed)' });
    expect(verdictOf([svc()], [task(), pending])).toMatchObject({ verdict: 'progressing', errors: [expect.stringContaining('no suitable node')] });
    expect(verdictOf([svc()], [task(), pending], true).verdict).toBe('failed');
  });

  it('finds each running task by its node address; moves only loopback URLs', () => {
    expect(taskEndpoints(svc(), [task(), task({ id: 'T2', nodeId: 'N2' }), task({ id: 'T3', state: 'starting' })], nodes, 'http://127.0.0.1:8002/health')).toEqual([
      { task: 'T1xxxxxxxxxxxx', url: 'http://10.0.0.2:8002/health' },
      { task: 'T2', url: 'http://10.0.0.3:8002/health' },
    ]);
    expect(onNode('http://localhost:8002/health', '10.0.0.3')).toBe('http://10.0.0.3:8002/health');
    expect(onNode('https://gw.internal/health', '10.0.0.3')).toBe('https://gw.internal/health');
  });
});

describe('reading inspect output', () => {
  it('parses services, tasks (digest dropped) and nodes', () => {
    const s = parseServices(JSON.stringify([{ ID: 'S1', Spec: { Name: 'st_gw', Labels: { 'com.docker.stack.namespace': 'st' }, Mode: { Replicated: { Replicas: 3 } }, TaskTemplate: { ForceUpdate: 2, ContainerSpec: { Image: 't/gw:v2@sha256:abc', Labels: { 'com.shipgate.release': 'v2' } } } }, PreviousSpec: { TaskTemplate: { ContainerSpec: { Labels: { 'com.shipgate.release': 'v1' } } } }, UpdateStatus: { State: 'updating', Message: 'update in progress' } }]));
    expect(s).toEqual([{ id: 'S1', name: 'st_gw', stack: 'st', image: 't/gw:v2', replicas: 3, release: 'v2', forceUpdate: 2, updateState: 'updating', updateMessage: 'update in progress', previousRelease: 'v1' }]);
    const t = parseTasks(JSON.stringify([{ ID: 'T1', ServiceID: 'S1', NodeID: 'N1', Slot: 1, DesiredState: 'running', Status: { State: 'failed', Err: 'boom', Message: 'x', Timestamp: 'now', ContainerStatus: { ExitCode: 3 } }, Spec: { ForceUpdate: 2, ContainerSpec: { Image: 't/gw:v2@sha256:abc', Labels: { 'com.shipgate.release': 'v2' } } } }]));
    expect(t).toEqual([{ id: 'T1', serviceId: 'S1', nodeId: 'N1', slot: 1, state: 'failed', desired: 'running', err: 'boom', message: 'x', image: 't/gw:v2', release: 'v2', forceUpdate: 2, at: 'now', exitCode: 3 }]);
    expect(parseNodes(JSON.stringify([{ ID: 'N1', Description: { Hostname: 'h1' }, Status: { State: 'down', Addr: '10.0.0.2', Message: 'heartbeat failure' }, Spec: { Availability: 'drain', Role: 'worker' } }]))).toEqual([node('N1', '10.0.0.2', 'down', 'drain')].map((n) => ({ ...n, hostname: 'h1', message: 'heartbeat failure' })));
  });
});

describe('diagnose findings', () => {
  it('names nodes down or drained, unplaceable tasks, missing images, failed tasks and Swarm rollbacks', () => {
    const findings = swarmFindings({
      env: 'prod',
      stack: 'st',
      services: [svc({ updateState: 'paused', updateMessage: 'update paused' })],
      tasks: [task({ state: 'pending', err: 'no suitable node (1 node not available for new tasks)' }), task({ id: 'T2', state: 'rejected', err: 'No such image: t/gw:v2' }), task({ id: 'T3', state: 'failed', err: 'task: non-zero exit (1)' })],
      nodes: [node('N1', '10.0.0.2', 'down'), node('N2', '10.0.0.3', 'ready', 'drain')],
      swarmRollbacks: [{ at: 't', version: 'v2', detail: 'rolled back' }],
    });
    expect(findings.map((f) => f.id)).toEqual(['node-down', 'node-drained', 'no-suitable-node', 'image-missing', 'task-failed', 'update-paused', 'swarm-rollback']);
    expect(findings[0]!.title).toBe('node 10.0.0.2 (worker) is down');
    expect(findings[3]!.evidence[0]).toContain('No such image: t/gw:v2');
  });
});

describe('reading tasks while Swarm prunes their history', () => {
  it('uses the tasks still there when others vanished between `service ps` and `inspect`, and fails on any other error', async () => {
    const { SwarmSession, swarmLayout } = await import('../src/adapters/targets/swarm/session.js');
    const { GitRepository } = await import('../src/adapters/vcs/git.js');
    let inspectAnswer = { exitCode: 1, stdout: JSON.stringify([{ ID: 'T1', ServiceID: 'S1', Status: { State: 'running' }, DesiredState: 'running', Spec: { ContainerSpec: { Image: 'i' } } }]), stderr: 'Error response from daemon: task T2 not found' };
    const calls: string[][] = [];
    const runner = {
      run: async (argv: readonly string[]) => {
        calls.push([...argv]);
        if (argv[2] === 'ps') return { argv, exitCode: 0, stdout: 'T1\nT2\n', stderr: '' } as never;
        return { argv, ...inspectAnswer } as never;
      },
    };
    const dir = (await import('node:fs')).mkdtempSync(path.join((await import('node:os')).tmpdir(), 'sg-swarm-'));
    const ss = new SwarmSession({ envName: 'prod', spec: { type: 'swarm', files: ['docker-stack.yml'], versionVariable: 'TAG', images: { tag: '{version}' }, allowFloatingImages: false, dependencies: [], exclusive: [], convergenceTimeout: '5m', keepReleases: 5 }, projectName: 'p', layout: swarmLayout(dir), repo: new GitRepository(dir, runner), runner });
    const tasks = await ss.tasks('prod', [svc()]);
    expect(tasks.map((t) => t.id)).toEqual(['T1']);
    expect(calls).toEqual([
      ['docker', 'service', 'ps', '-q', '--no-trunc', 'S1'],
      ['docker', 'inspect', '--type', 'task', 'T1', 'T2'],
    ]);
    inspectAnswer = { exitCode: 1, stdout: '', stderr: 'Cannot connect to the Docker daemon at unix:///x.sock' };
    await expect(ss.tasks('prod', [svc()])).rejects.toThrow(/docker inspect --type task T1 T2` failed \(exit 1\): Cannot connect/);
    (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
  });
});
