// Deploy and rollback on a real three-node swarm (issue 14): one manager and two workers, each a
// dockerd in its own network namespace (dist/adapters/targets/swarm/local-swarm.js, the harness the
// swarm stories use). The sample stack (demo/stack/base/docker-stack.yml: signal_service x2 on two
// nodes, execution_gateway, orchestrator; rolling updates one task at a time, delay 1s, monitor 5s)
// goes v1.0.0 -> v1.1.0 (deploy) and back (rollback), timed two ways:
// - shipgate: `shipgate deploy staging --version v1.1.0`, then `shipgate rollback staging`; each
//   returns once every service converged and every health answers (its own poll: 1s).
// - raw: what a person types: `git checkout <v>` then `TAG=<v> docker stack deploy -c
//   docker-stack.yml --resolve-image never <stack>` with the same variables, then polling once a
//   second until every service has its desired replicas, all tasks of the new image running and no
//   update in progress, and every task's /health (on its node's address) answers the version.
// Both arms start from v1.0.0 running and end when v1.1.0 (deploy) / v1.0.0 (rollback) serves
// everywhere; images are loaded on every node beforehand (nothing is built or pulled while timed).
// Arms alternate; medians. SWARM_BENCH_REPETITIONS (default 2). `node bench/run.mjs swarm`.
// Needs root, iproute2, util-linux and Debian's docker.io (scripts/ensure-system-deps.sh).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemoRepo } from '../demo/stack/build-repo.mjs';
import { startSwarm } from '../dist/adapters/targets/swarm/local-swarm.js';
import { buildReleaseImages, DEMO_SWARM, swarmStackConfig } from '../dist/adapters/targets/swarm/local-swarm-stack.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPETITIONS = Number(process.env.SWARM_BENCH_REPETITIONS ?? 2);
const { services: SERVICES, ports: PORTS, replicas: REPLICAS } = DEMO_SWARM;
const STACK = 'trading_staging';
const POLL_MS = 1000;
const POLL_LIMIT_MS = 180_000;

function exec(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, timeout: 300_000, ...options }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

function shipgate(dir, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'shipgate'), ...args], { cwd: dir, env: { ...process.env, SHIPGATE_ACTOR: 'bench', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`shipgate ${args.join(' ')} exited ${code}: ${err.trim() || out.trim()}`))));
  });
}

async function healthVersion(addr, port) {
  try {
    const res = await fetch(`http://${addr}:${port}/health`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200 ? (await res.json()).version : undefined;
  } catch {
    return undefined;
  }
}

/** The person's "is it done": every service converged on `version` and every task answers it. */
async function converged(swarm, version) {
  const mgr = (args) => swarm.manager.docker(args);
  const nodes = JSON.parse(await mgr(['node', 'inspect', ...(await mgr(['node', 'ls', '-q'])).trim().split('\n')]));
  const addrOf = new Map(nodes.map((n) => [n.ID, n.Status.Addr]));
  for (const s of SERVICES) {
    const name = `${STACK}_${s}`;
    const state = (await mgr(['service', 'inspect', '--format', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}', name])).trim();
    if (state === 'updating' || state === 'rollback_started') return false;
    const ids = (await mgr(['service', 'ps', '-q', '--no-trunc', '--filter', 'desired-state=running', name])).trim().split('\n').filter(Boolean);
    if (!ids.length) return false;
    const tasks = JSON.parse(await mgr(['inspect', '--type', 'task', ...ids]));
    if (tasks.length !== REPLICAS[s]) return false;
    for (const t of tasks) {
      if (t.Status.State !== 'running' || t.Spec.ContainerSpec.Image.split('@')[0] !== `shipgate-demo/${s}:${version}`) return false;
      if ((await healthVersion(addrOf.get(t.NodeID), PORTS[s])) !== version) return false;
    }
  }
  return true;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (ms) => Math.round(ms);
const ratio = (a, b) => Math.round((a / b) * 100) / 100;

export async function run() {
  const loadBefore = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const setupStarted = performance.now();
  const swarm = await startSwarm();
  const work = mkdtempSync(path.join(os.tmpdir(), 'sg-swarm-bench-'));
  try {
    const repo = await buildDemoRepo(path.join(work, 'repo'), { releases: ['v1.0.0', 'v1.1.0'] });
    await buildReleaseImages(swarm, { repoDir: repo.dir, workDir: work, versions: ['v1.0.0', 'v1.1.0'], images: DEMO_SWARM.images });
    writeFileSync(
      path.join(work, 'shipgate.yml'),
      swarmStackConfig({
        project: 'trading',
        repository: repo.dir,
        dockerHost: swarm.manager.host,
        services: Object.fromEntries(SERVICES.map((s) => [s, { port: PORTS[s] }])),
        target: { convergenceTimeout: '3m' },
        environment: { health: { timeout: '120s', interval: `${POLL_MS}ms` } },
      }),
    );
    const person = path.join(work, 'person');
    await exec('git', ['clone', '--quiet', repo.dir, person]);
    const personEnv = {
      ...process.env,
      DOCKER_HOST: swarm.manager.host,
      DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1',
      SHIPGATE_ENV: 'staging',
      SIGNAL_SERVICE_PORT: String(PORTS.signal_service),
      EXECUTION_GATEWAY_PORT: String(PORTS.execution_gateway),
      ORCHESTRATOR_PORT: String(PORTS.orchestrator),
    };
    const raw = async (version) => {
      const t0 = performance.now();
      await exec('git', ['-C', person, 'checkout', '--quiet', version]);
      await exec('docker', ['stack', 'deploy', '-c', path.join(person, 'docker-stack.yml'), '--resolve-image', 'never', STACK], { cwd: person, env: { ...personEnv, TAG: version } });
      const deadline = Date.now() + POLL_LIMIT_MS;
      while (!(await converged(swarm, version))) {
        if (Date.now() > deadline) throw new Error(`raw docker stack deploy of ${version} did not converge in ${POLL_LIMIT_MS / 1000}s`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      return performance.now() - t0;
    };
    const viaShipgate = async (args, version) => {
      const t0 = performance.now();
      await shipgate(work, args);
      const ms = performance.now() - t0;
      if (!(await converged(swarm, version))) throw new Error(`shipgate ${args[0]} returned before ${version} converged`);
      return ms;
    };

    // First deploy (creates the stack; untimed).
    await shipgate(work, ['deploy', 'staging', '--version', 'v1.0.0', '--json']);
    if (!(await converged(swarm, 'v1.0.0'))) throw new Error('v1.0.0 did not converge after the first deploy');
    const setupMs = performance.now() - setupStarted;

    const samples = { shipgateDeploy: [], shipgateRollback: [], rawDeploy: [], rawRollback: [] };
    const arms = {
      shipgate: async () => {
        samples.shipgateDeploy.push(await viaShipgate(['deploy', 'staging', '--version', 'v1.1.0', '--allow-bad', '--reason', 'bench: the release under test again', '--json'], 'v1.1.0'));
        samples.shipgateRollback.push(await viaShipgate(['rollback', 'staging', '--reason', 'bench', '--json'], 'v1.0.0'));
      },
      raw: async () => {
        samples.rawDeploy.push(await raw('v1.1.0'));
        samples.rawRollback.push(await raw('v1.0.0'));
      },
    };
    for (let i = 0; i < REPETITIONS; i++) {
      const order = i % 2 ? ['raw', 'shipgate'] : ['shipgate', 'raw'];
      for (const arm of order) await arms[arm]();
    }
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    return {
      what: 'v1.0.0 -> v1.1.0 (deploy) and back (rollback) of the 3-service sample stack (4 tasks) on a 3-node swarm (1 manager, 2 workers; dockerd per network namespace); until every service converged and every task /health answers the version',
      engine: { serverVersion: (await swarm.manager.docker(['version', '--format', '{{.Server.Version}}'])).trim() },
      repetitions: REPETITIONS,
      pollIntervalMs: POLL_MS,
      setupSecondsUntimed: Math.round(setupMs / 1000),
      loadAverageBefore: loadBefore,
      loadAverageAfter: os.loadavg().map((l) => Math.round(l * 100) / 100),
      shipgate: {
        deploy: { command: 'shipgate deploy staging --version v1.1.0', medianMs: round(m.shipgateDeploy), samplesMs: samples.shipgateDeploy.map(round) },
        rollback: { command: 'shipgate rollback staging --reason bench', medianMs: round(m.shipgateRollback), samplesMs: samples.shipgateRollback.map(round) },
      },
      raw: {
        deploy: { commands: 'git checkout v1.1.0 && TAG=v1.1.0 docker stack deploy -c docker-stack.yml --resolve-image never <stack> && poll services, tasks and every /health every 1s', medianMs: round(m.rawDeploy), samplesMs: samples.rawDeploy.map(round) },
        rollback: { commands: 'git checkout v1.0.0 && TAG=v1.0.0 docker stack deploy -c docker-stack.yml --resolve-image never <stack> && poll as above', medianMs: round(m.rawRollback), samplesMs: samples.rawRollback.map(round) },
      },
      ratio: { deploy: ratio(m.shipgateDeploy, m.rawDeploy), rollback: ratio(m.shipgateRollback, m.rawRollback) },
    };
  } finally {
    await swarm.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
