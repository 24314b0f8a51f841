// A real three-node Docker Swarm on this machine: one manager and two workers, each a dockerd in
// its own network namespace (veth pairs to a bridge made here), joined over their own addresses.
// Used by the swarm stories (test/harness/swarm.ts) and the swarm bench (bench/swarm.bench.mjs),
// like compose's local-engine.ts. Everything is removed by PID and by name in stop(). Needs root,
// iproute2, util-linux (nsenter) and Debian's docker.io (scripts/ensure-system-deps.sh installs it);
// missing tools fail, never skip.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { importNodeBaseImage, importPythonBaseImage } from '../compose/base-image.js';
import { onPath } from '../compose/detect.js';
import { dockerCli, dockerdArgs, spawnDockerd, stopPid, unmountUnder } from '../compose/engine-process.js';
import { pipeInto } from '../../runner/pipe.js';
import { localRunner } from '../../runner/runner.js';

export interface SwarmNodeEngine {
  name: string;
  netns: string;
  addr: string;
  dir: string;
  host: string;
  pid: number | undefined;
  docker(args: string[], options?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<string>;
}

export interface SwarmHarness {
  manager: SwarmNodeEngine;
  workers: SwarmNodeEngine[];
  nodes: SwarmNodeEngine[];
  /** Bridge address in the test's own namespace: how tests reach the nodes. */
  bridgeAddr: string;
  /** The node base image, imported on the manager at start. */
  baseImage: string;
  /** Imports the python3 base image on the manager (once); returns its name. */
  pythonBaseImage(): Promise<string>;
  /** Builds one image from `dir` (its Dockerfile, FROM ${BASE_IMAGE}) on the manager, tagged with each of `tags`. */
  build(dir: string, tags: string[], baseImage?: string): Promise<void>;
  /** docker save | docker load of `tags` from the manager to each worker. */
  distribute(tags: string[]): Promise<void>;
  /** SIGKILL of one engine's dockerd (its containers stay, as after a host crash of the daemon). */
  kill(node: SwarmNodeEngine): Promise<void>;
  /** Starts a killed engine again on the same data: it rejoins the swarm by itself. */
  restart(node: SwarmNodeEngine): Promise<void>;
  stop(): Promise<void>;
}

const sh = async (argv: [string, ...string[]], timeoutMs = 60_000) => {
  const res = await localRunner.run(argv, { timeoutMs });
  if (res.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${res.stderr.trim() || `exit ${res.exitCode}`}`);
  return res.stdout;
};

export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not in ${timeoutMs / 1000}s${last ? ` (${last})` : ''}`);
}

function startDockerd(node: SwarmNodeEngine): void {
  const args = dockerdArgs({ dataRoot: path.join(node.dir, 'data'), execRoot: path.join(node.dir, 'x'), pidfile: path.join(node.dir, 'docker.pid'), host: node.host });
  node.pid = spawnDockerd(args, path.join(node.dir, 'dockerd.log'), node.netns).pid;
}

export async function startSwarm(): Promise<SwarmHarness> {
  const missing = ['dockerd', 'docker', 'nsenter', 'ip'].filter((p) => !onPath(p, process.env.PATH));
  if (missing.length) throw new Error(`${missing.join(', ')} not installed: run \`bash scripts/ensure-system-deps.sh\` (docker.io, iproute2, util-linux) as root`);
  const id = randomBytes(3).toString('hex');
  const used = await sh(['ip', '-o', '-4', 'addr', 'show']);
  let subnet = '';
  for (let tries = 0; tries < 50 && !subnet; tries++) {
    const candidate = `10.${200 + (randomBytes(1)[0]! % 50)}.${randomBytes(1)[0]!}`;
    if (!used.includes(` ${candidate}.`)) subnet = candidate;
  }
  const bridge = `sgs${id}b`;
  const root = mkdtempSync('/tmp/sgs-');
  const nodes: SwarmNodeEngine[] = [1, 2, 3].map((i) => {
    const dir = path.join(root, `n${i}`);
    const host = `unix://${dir}/d.sock`;
    return { name: i === 1 ? 'manager' : `worker${i - 1}`, netns: `sgs${id}n${i}`, addr: `${subnet}.${i + 1}`, dir, host, pid: undefined, docker: (args, o = {}) => dockerCli(host, args, o.timeoutMs ?? 120_000, o.env) };
  });
  let python: Promise<string> | undefined;
  const h: SwarmHarness = {
    manager: nodes[0]!,
    workers: nodes.slice(1),
    nodes,
    bridgeAddr: `${subnet}.1`,
    baseImage: 'shipgate-node-base:local',
    async pythonBaseImage() {
      python ??= importPythonBaseImage({ host: h.manager.host, dir: h.manager.dir });
      return python;
    },
    async build(dir, tags, baseImage = h.baseImage) {
      await h.manager.docker(['build', '-q', ...tags.flatMap((t) => ['-t', t]), '--build-arg', `BASE_IMAGE=${baseImage}`, dir], { timeoutMs: 600_000, env: { DOCKER_BUILDKIT: '0' } });
    },
    async distribute(tags) {
      for (const w of h.workers) {
        const res = await pipeInto(['docker', '-H', h.manager.host, 'save', ...tags], ['docker', '-H', w.host, 'load', '-q'], { env: process.env, timeoutMs: 600_000, prefix: '', suffix: () => '' });
        if (res.producerCode !== 0 || res.consumerCode !== 0) throw new Error(`docker save | docker load on ${w.name}: ${res.producerStderr}${res.consumerStderr}`);
      }
    },
    async kill(node) {
      if (node.pid) await stopPid(node.pid, 0, 'SIGKILL');
    },
    async restart(node) {
      startDockerd(node);
      await until(`${node.name} dockerd answers again`, async () => (await node.docker(['info', '--format', '{{.Swarm.LocalNodeState}}'], { timeoutMs: 10_000 })).trim() === 'active' || undefined);
    },
    async stop() {
      for (const n of nodes) {
        if (n.pid) await stopPid(n.pid, 20_000);
        // Whatever is left in the namespace (containerd, shims and containers of a killed engine), by PID.
        const pids = existsSync(`/run/netns/${n.netns}`) ? (await localRunner.run(['ip', 'netns', 'pids', n.netns])).stdout.split('\n').map(Number).filter((p) => p > 0) : [];
        for (const p of pids) await stopPid(p, 0, 'SIGKILL');
      }
      await unmountUnder(root);
      for (const n of nodes) await localRunner.run(['ip', 'netns', 'del', n.netns]);
      await localRunner.run(['ip', 'link', 'del', bridge]);
      rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    },
  };
  try {
    await sh(['ip', 'link', 'add', bridge, 'type', 'bridge']);
    await sh(['ip', 'addr', 'add', `${h.bridgeAddr}/24`, 'dev', bridge]);
    await sh(['ip', 'link', 'set', bridge, 'up']);
    for (const [i, n] of nodes.entries()) {
      const [outside, inside] = [`sgs${id}v${i + 1}`, `sgs${id}e${i + 1}`];
      await sh(['ip', 'netns', 'add', n.netns]);
      await sh(['ip', 'link', 'add', outside, 'type', 'veth', 'peer', 'name', inside]);
      await sh(['ip', 'link', 'set', inside, 'netns', n.netns]);
      await sh(['ip', 'link', 'set', outside, 'master', bridge, 'up']);
      await sh(['ip', '-n', n.netns, 'addr', 'add', `${n.addr}/24`, 'dev', inside]);
      await sh(['ip', '-n', n.netns, 'link', 'set', inside, 'up']);
      await sh(['ip', '-n', n.netns, 'link', 'set', 'lo', 'up']);
      mkdirSync(n.dir, { recursive: true });
      startDockerd(n);
    }
    for (const n of nodes) await until(`${n.name} dockerd answers`, async () => (await n.docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 })).trim() || undefined);
    await h.manager.docker(['swarm', 'init', '--advertise-addr', h.manager.addr, '--listen-addr', `${h.manager.addr}:2377`]);
    const token = (await h.manager.docker(['swarm', 'join-token', '-q', 'worker'])).trim();
    for (const w of h.workers) await w.docker(['swarm', 'join', '--token', token, '--advertise-addr', w.addr, '--listen-addr', `${w.addr}:2377`, `${h.manager.addr}:2377`]);
    await until('three ready nodes', async () => ((await h.manager.docker(['node', 'ls', '--format', '{{.Status}}'])).trim().split('\n').filter((s) => s === 'Ready').length === 3 ? true : undefined));
    await importNodeBaseImage({ host: h.manager.host, dir: h.manager.dir }, { name: h.baseImage });
    return h;
  } catch (err) {
    await h.stop();
    throw err;
  }
}
