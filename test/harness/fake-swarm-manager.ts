// A swarm manager as the docker CLI shows it, for unit tests of what the swarm target reads: it
// answers the argv the target runs (service ls/inspect, service ps, inspect --type task, node
// ls/inspect, service logs) from a small model, and records every argv, so a test counts the
// commands one evaluation runs. The output shapes are those of Docker 20.10 (`docker service
// inspect` and friends print a JSON array; `ls -q` one ID a line; `ls --format` the template).
import type { Argv, RunResult, Runner } from '../../src/adapters/runner/runner.js';

export interface FakeService {
  id: string;
  name: string;
  image: string;
  replicas: number;
  release: string;
}
export interface FakeTask {
  id: string;
  serviceId: string;
  nodeId: string;
  slot: number;
  state: string;
  desired?: string;
}
export interface FakeNode {
  id: string;
  addr: string;
  state?: string;
  availability?: string;
}

export class FakeSwarmManager implements Runner {
  readonly calls: string[][] = [];
  /** Set to make every command fail as an engine that does not answer. */
  down = false;

  constructor(
    public stack: string,
    public services: FakeService[],
    public tasks: FakeTask[],
    public nodes: FakeNode[],
  ) {}

  /** The commands run so far, each as one string; `reset` starts counting again. */
  commands(): string[] {
    return this.calls.map((c) => c.join(' '));
  }

  reset(): void {
    this.calls.length = 0;
  }

  async run(argv: Argv): Promise<RunResult> {
    const a = [...argv];
    this.calls.push(a);
    const out = (stdout: string, exitCode = 0, stderr = ''): RunResult => ({ argv, exitCode, stdout, stderr });
    if (this.down) return out('', 1, 'Cannot connect to the Docker daemon at unix:///fake.sock. Is the docker daemon running?');
    const [, group, verb] = a;
    const rest = a.slice(3);
    if (group === 'service' && verb === 'ls') {
      const mine = this.services.filter((s) => s.name.startsWith(`${this.stack}_`));
      const format = rest[rest.indexOf('--format') + 1];
      if (rest.includes('-q')) return out(mine.map((s) => `${s.id}\n`).join(''));
      if (format === '{{.ID}} {{.Name}}') return out(mine.map((s) => `${s.id} ${s.name}\n`).join(''));
      return out('', 1, `fake manager: unexpected service ls ${rest.join(' ')}`);
    }
    if (group === 'service' && verb === 'inspect') {
      const found = rest.map((id) => this.services.find((s) => s.id === id || s.name === id));
      const json = JSON.stringify(found.filter((s) => s).map((s) => serviceJson(this.stack, s!)));
      const missing = rest.filter((_, i) => !found[i]);
      return missing.length ? out(json, 1, missing.map((m) => `Error: no such service: ${m}\n`).join('')) : out(json);
    }
    if (group === 'service' && verb === 'ps') {
      const ids = rest.filter((x) => !x.startsWith('-'));
      return out(this.tasks.filter((t) => ids.includes(t.serviceId)).map((t) => `${t.id}\n`).join(''));
    }
    if (group === 'inspect' && verb === '--type' && rest[0] === 'task') {
      const ids = rest.slice(1);
      return out(JSON.stringify(this.tasks.filter((t) => ids.includes(t.id)).map((t) => taskJson(this.services, t))));
    }
    if (group === 'node' && verb === 'ls') return out(this.nodes.map((n) => `${n.id}\n`).join(''));
    if (group === 'node' && verb === 'inspect') {
      return out(JSON.stringify(this.nodes.filter((n) => rest.includes(n.id)).map((n) => ({ ID: n.id, Description: { Hostname: `host-${n.id}` }, Status: { State: n.state ?? 'ready', Addr: n.addr }, Spec: { Availability: n.availability ?? 'active', Role: 'worker' } }))));
    }
    if (group === 'service' && verb === 'logs') return out(`${a.at(-1)} started\n`);
    return out('', 1, `fake manager: unexpected command ${a.join(' ')}`);
  }
}

function serviceJson(stack: string, s: FakeService) {
  return {
    ID: s.id,
    Spec: { Name: s.name, Labels: { 'com.docker.stack.namespace': stack }, Mode: { Replicated: { Replicas: s.replicas } }, TaskTemplate: { ForceUpdate: 0, ContainerSpec: { Image: s.image, Labels: { 'com.shipgate.release': s.release } } } },
    UpdateStatus: { State: 'completed', Message: 'update completed' },
  };
}

function taskJson(services: FakeService[], t: FakeTask) {
  const s = services.find((x) => x.id === t.serviceId)!;
  return { ID: t.id, ServiceID: t.serviceId, NodeID: t.nodeId, Slot: t.slot, DesiredState: t.desired ?? 'running', Status: { State: t.state, Timestamp: '2030-01-01T00:00:00Z' }, Spec: { ForceUpdate: 0, ContainerSpec: { Image: s.image, Labels: { 'com.shipgate.release': s.release } } } };
}

/** Stack `st`: quotes (1 task on the first node) and replica (2 tasks on the other two) at v2, nodes at `addrs`. */
export function fakeSwarm(addrs: [string, string, string] = ['10.9.0.2', '10.9.0.3', '10.9.0.4']): FakeSwarmManager {
  return new FakeSwarmManager(
    'st',
    [
      { id: 'S1', name: 'st_quotes', image: 'q/quotes:v2', replicas: 1, release: 'v2' },
      { id: 'S2', name: 'st_replica', image: 'q/quotes:v2', replicas: 2, release: 'v2' },
    ],
    [
      { id: 'T1', serviceId: 'S1', nodeId: 'N1', slot: 1, state: 'running' },
      { id: 'T2', serviceId: 'S2', nodeId: 'N2', slot: 1, state: 'running' },
      { id: 'T3', serviceId: 'S2', nodeId: 'N3', slot: 2, state: 'running' },
    ],
    [
      { id: 'N1', addr: addrs[0] },
      { id: 'N2', addr: addrs[1] },
      { id: 'N3', addr: addrs[2] },
    ],
  );
}
