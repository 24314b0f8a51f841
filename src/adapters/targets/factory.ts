import { resolveServices } from '../../config/resolve.js';
import type { EnvironmentSpec, ShipgateConfig } from '../../config/schema.js';
import os from 'node:os';
import type { OpenConnections } from '../runner/connections.js';
import type { Runner } from '../runner/runner.js';
import type { GitRepository } from '../vcs/git.js';
import { ComposeTarget, composeLayout } from './compose/driver.js';
import { ProcessTarget } from './process/driver.js';
import { controlDirectory } from './ssh/commands.js';
import { SshTarget, sshLayout } from './ssh/driver.js';
import { SwarmTarget, swarmLayout } from './swarm/driver.js';
import { processLayout } from './process/launch.js';
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
}

/** The driver for an environment's target type. */
export function createTarget(envName: string, spec: EnvironmentSpec, deps: TargetDeps): Target {
  switch (spec.target.type) {
    case 'process':
      return new ProcessTarget(processLayout(deps.stateDir), deps.repo, deps.env, { services: (env) => resolveServices(deps.config, env), ...(deps.failpoint ? { failpoint: deps.failpoint } : {}) });
    case 'compose':
      return new ComposeTarget({ envName, spec: spec.target, projectName: deps.config.project, layout: composeLayout(deps.stateDir), repo: deps.repo, runner: deps.runner, parentEnv: deps.env });
    case 'ssh':
      // Output of remote commands streams line by line into .shipgate/ssh/<env>.output.log.
      return new SshTarget({
        envName,
        spec: spec.target,
        projectName: deps.config.project,
        layout: sshLayout(deps.stateDir),
        runner: deps.runner,
        ...(deps.connections ? { multiplex: { connections: deps.connections, dir: controlDirectory(deps.stateDir, os.tmpdir(), process.getuid?.() ?? 0) } } : {}),
      });
    case 'swarm':
      return new SwarmTarget({ envName, spec: spec.target, projectName: deps.config.project, layout: swarmLayout(deps.stateDir), repo: deps.repo, runner: deps.runner, parentEnv: deps.env });
  }
}
