import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDemoRepo } from '../../demo/stack/build-repo.mjs';
import { freePorts } from '../../src/demo/free-port.js';
import { demoStackConfig, type StackConfigOptions, type StackPorts } from '../../src/demo/stack-config.js';
import { shipgate } from './cli.js';
import { scaledSeconds } from './pace.js';

export interface StackWorkspace {
  dir: string;
  repoDir: string;
  ports: Record<string, StackPorts>;
  run(args: string[], env?: NodeJS.ProcessEnv): ReturnType<typeof shipgate>;
  /** Stops every service shipgate started here (by PID, through shipgate's own records), then deletes the dir. */
  cleanup(): Promise<void>;
}

export interface StackWorkspaceOptions extends Pick<StackConfigOptions, 'healthTimeout' | 'analysis'> {
  // healthTimeout (whole seconds, 20s unless given) is what an idle machine needs: it is stretched
  // by the machine's load (pace.ts), as services start that much slower on a busy one.
  /** Rewrites the generated shipgate.yml before it is written (e.g. shorter soaks); gets the ports too. */
  patch?: (yaml: string, ports: Record<string, StackPorts>) => string;
}

/** A temp dir with the sample stack's git repo and a shipgate.yml on free ports. */
export async function stackWorkspace(envs: string[] = ['staging', 'production'], releases = ['v1.0.0', 'v1.1.0'], options: StackWorkspaceOptions = {}): Promise<StackWorkspace> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-test-'));
  const repo = await buildDemoRepo(path.join(dir, 'repo'), { releases });
  const ports: Record<string, StackPorts> = {};
  for (const env of envs) {
    const [signal, gateway, orchestrator] = await freePorts(3);
    ports[env] = { signal: signal!, gateway: gateway!, orchestrator: orchestrator! };
  }
  const { patch, ...configOptions } = options;
  const yaml = demoStackConfig(repo.dir, ports, { ...configOptions, healthTimeout: scaledSeconds(options.healthTimeout ?? '20s') });
  writeFileSync(path.join(dir, 'shipgate.yml'), patch ? patch(yaml, ports) : yaml);
  const run = (args: string[], env?: NodeJS.ProcessEnv) => shipgate(args, { cwd: dir, env });
  return {
    dir,
    repoDir: repo.dir,
    ports,
    run,
    async cleanup() {
      const { stopEnvironments } = await import('./stop.js');
      await stopEnvironments(dir, envs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
