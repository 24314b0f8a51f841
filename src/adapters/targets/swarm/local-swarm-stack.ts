// What the swarm stories and the swarm bench both need on the three-node swarm of local-swarm.ts:
// each release's images built from its git tag and loaded on every node, and a shipgate.yml with
// a swarm environment pointed at the manager.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { localRunner } from '../../runner/runner.js';
import type { SwarmHarness } from './local-swarm.js';

/** The sample stack (demo/stack/base/docker-stack.yml) as the stories and the bench run it. */
export const DEMO_SWARM = {
  services: ['signal_service', 'execution_gateway', 'orchestrator'],
  ports: { signal_service: 8001, execution_gateway: 8002, orchestrator: 8003 } as Record<string, number>,
  replicas: { signal_service: 2, execution_gateway: 1, orchestrator: 1 } as Record<string, number>,
  images: (version: string): string[] => DEMO_SWARM.services.map((s) => `shipgate-demo/${s}:${version}`),
};

/**
 * For each version: `git archive <version>` of `repoDir` into `workDir`, `docker build` there on
 * the manager (FROM `baseImage`, default the node base) tagged `images(version)`; then every tag
 * is loaded on each worker. Returns the tags.
 */
export async function buildReleaseImages(swarm: SwarmHarness, o: { repoDir: string; workDir: string; versions: string[]; images: (version: string) => string[]; baseImage?: string }): Promise<string[]> {
  const tags: string[] = [];
  for (const version of o.versions) {
    const src = path.join(o.workDir, `src-${version}`);
    mkdirSync(src, { recursive: true });
    const tar = `${src}.tar`;
    for (const argv of [['git', '-C', o.repoDir, 'archive', '-o', tar, version], ['tar', '-xf', tar, '-C', src]] as [string, ...string[]][]) {
      const res = await localRunner.run(argv, { timeoutMs: 120_000 });
      if (res.exitCode !== 0) throw new Error(`${argv.join(' ')}: exit ${res.exitCode}: ${res.stderr.trim()}`);
    }
    rmSync(tar);
    const mine = o.images(version);
    await swarm.build(src, mine, o.baseImage);
    tags.push(...mine);
  }
  await swarm.distribute(tags);
  return tags;
}

export interface SwarmConfigOptions {
  project: string;
  repository: string;
  dockerHost: string;
  env?: string;
  /** Each service's port in the environment, its health (URL or contract) and metrics URL. */
  services: Record<string, { port: number; health?: string | Record<string, unknown>; metrics?: string }>;
  /** More fields of the swarm target (convergenceTimeout, files, exclusive). */
  target?: Record<string, unknown>;
  /** More fields of the environment (health, analysis, monitor). */
  environment?: Record<string, unknown>;
}

/** A shipgate.yml with one swarm environment (default `staging`). */
export function swarmStackConfig(o: SwarmConfigOptions): string {
  const services = Object.fromEntries(Object.entries(o.services).map(([name, s]) => [name, { health: s.health ?? 'http://127.0.0.1:{port}/health', ...(s.metrics ? { metrics: s.metrics } : {}) }]));
  const ports = Object.fromEntries(Object.entries(o.services).map(([name, s]) => [name, { port: s.port }]));
  return stringify({
    version: 1,
    project: o.project,
    repository: o.repository,
    stateDir: '.shipgate',
    approvals: { identity: 'trust-local' },
    services,
    environments: { [o.env ?? 'staging']: { target: { type: 'swarm', dockerHost: o.dockerHost, ...o.target }, services: ports, ...o.environment } },
  });
}
