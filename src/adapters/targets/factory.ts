import { resolveServices, type ResolvedService } from '../../config/resolve.js';
import type { EnvironmentSpec, ShipgateConfig } from '../../config/schema.js';
import os from 'node:os';
import type { OpenConnections } from '../runner/connections.js';
import type { Runner } from '../runner/runner.js';
import type { GitRepository } from '../vcs/git.js';
import type { Target } from './target.js';

export interface TargetDeps {
  config: ShipgateConfig;
  stateDir: string;
  repo: GitRepository;
  runner: Runner;
  env: NodeJS.ProcessEnv;
  /** Crash-testing seam passed to targets that start processes (app/failpoint.ts). */
  failpoint?: (kind: string, step: string, when: 'before' | 'after') => void;
  /** Connections the command closes when it ends: given, the ssh target keeps one per host. */
  connections?: OpenConnections;
  /** An environment's services as the command resolved them once (AppContext.environment); else resolved from config. */
  services?: (env: string) => ResolvedService[];
}

export type TargetType = EnvironmentSpec['target']['type'];
type Build = (envName: string, spec: EnvironmentSpec, deps: TargetDeps) => Target;

export interface FactoryOptions {
  /** The clock of the reads a target keeps across evaluations (swarm: service IDs, nodes); Date.now by default. */
  now?: () => number;
}

/** Each driver is loaded only when a config uses its type: a process-only project never loads compose, ssh or swarm code. */
const drivers: Record<TargetType, (o: FactoryOptions) => Promise<Build>> = {
  async process() {
    const [{ ProcessTarget }, { processLayout }] = await Promise.all([import('./process/driver.js'), import('./process/launch.js')]);
    return (_envName, _spec, deps) =>
      new ProcessTarget(processLayout(deps.stateDir), deps.repo, deps.env, { services: deps.services ?? ((env) => resolveServices(deps.config, env)), ...(deps.failpoint ? { failpoint: deps.failpoint } : {}) });
  },
  async compose() {
    const { ComposeTarget, composeLayout } = await import('./compose/driver.js');
    return (envName, spec, deps) => {
      if (spec.target.type !== 'compose') throw new Error(`environment ${envName} is not a compose target`);
      return new ComposeTarget({ envName, spec: spec.target, projectName: deps.config.project, layout: composeLayout(deps.stateDir), repo: deps.repo, runner: deps.runner, parentEnv: deps.env });
    };
  },
  async ssh() {
    const [{ SshTarget, sshLayout }, { controlDirectory }] = await Promise.all([import('./ssh/driver.js'), import('./ssh/commands.js')]);
    return (envName, spec, deps) => {
      if (spec.target.type !== 'ssh') throw new Error(`environment ${envName} is not an ssh target`);
      // Output of remote commands streams line by line into .shipgate/ssh/<env>.output.log.
      return new SshTarget({
        envName,
        spec: spec.target,
        projectName: deps.config.project,
        layout: sshLayout(deps.stateDir),
        runner: deps.runner,
        ...(deps.connections ? { multiplex: { connections: deps.connections, dir: controlDirectory(deps.stateDir, os.tmpdir(), process.getuid?.() ?? 0) } } : {}),
      });
    };
  },
  async swarm(o) {
    const [{ SwarmTarget, swarmLayout }, { SwarmReadCache }] = await Promise.all([import('./swarm/driver.js'), import('./swarm/reads.js')]);
    // One per factory (one context: a command, or a `serve` process): what its targets may share across evaluations.
    const reads = new SwarmReadCache(o.now);
    return (envName, spec, deps) => {
      if (spec.target.type !== 'swarm') throw new Error(`environment ${envName} is not a swarm target`);
      return new SwarmTarget({ envName, spec: spec.target, projectName: deps.config.project, layout: swarmLayout(deps.stateDir), repo: deps.repo, runner: deps.runner, parentEnv: deps.env, reads });
    };
  },
};

/** Builds the driver for an environment's target type; made by targetFactory for the types it may meet. */
export type TargetFactory = (envName: string, spec: EnvironmentSpec, deps: TargetDeps) => Target;

/** A factory for every target type the config's environments use, their drivers loaded now. */
export async function targetFactory(config: ShipgateConfig, options: FactoryOptions = {}): Promise<TargetFactory> {
  const types = [...new Set(Object.values(config.environments).map((e) => e.target.type))];
  const built = new Map(await Promise.all(types.map(async (t) => [t, await drivers[t](options)] as const)));
  return (envName, spec, deps) => {
    const build = built.get(spec.target.type);
    if (!build) throw new Error(`no driver loaded for target type ${spec.target.type} (environment ${envName})`);
    return build(envName, spec, deps);
  };
}
