// What every swarm operation shares: options, the one runner with its command log, the record
// of each release's stack spec, and the reads of services, tasks and nodes.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SwarmTargetSpec } from '../../../config/schema.js';
import { failed } from '../../../core/errors.js';
import { describeArgv, type Argv, type RunResult, type Runner } from '../../runner/runner.js';
import type { GitRepository } from '../../vcs/git.js';
import { lastLines } from '../compose/hints.js';
import { releaseTag } from '../compose/images.js';
import { defaultStackName, swarmCommands, swarmEnvironment } from './commands.js';
import { parseNodes, parseServices, parseTasks, type SwarmNode, type SwarmService, type SwarmTask } from './parse.js';
import { appendCommandLog } from '../command-log.js';

export interface SwarmLayout {
  releaseDir(env: string, version: string): string;
  stateFile(env: string): string;
  /** The stack spec deployed for a release: what a rollback deploys again. */
  specFile(env: string, version: string): string;
  commandLog(env: string): string;
}

export function swarmLayout(stateDir: string): SwarmLayout {
  return {
    releaseDir: (env, version) => path.join(stateDir, 'releases', env, version),
    stateFile: (env) => path.join(stateDir, 'swarm', `${env}.json`),
    specFile: (env, version) => path.join(stateDir, 'swarm', env, `${version}.stack.yml`),
    commandLog: (env) => path.join(stateDir, 'swarm', `${env}.commands.log`),
  };
}

export interface SwarmTargetOptions {
  envName: string;
  spec: SwarmTargetSpec;
  projectName: string;
  layout: SwarmLayout;
  repo: GitRepository;
  runner: Runner;
  parentEnv?: NodeJS.ProcessEnv;
  clock?: () => Date;
  /** Probes a task's health URL (GET, 2xx is healthy); fetch by default. */
  probe?: (url: string) => Promise<{ ok: boolean; detail: string }>;
}

export interface RecordedRelease {
  version: string;
  commit: string;
  specFile: string;
  images: string[];
  at: string;
}

export interface SwarmEnvState {
  stack: string;
  /** What runs now (the last converged deploy); undefined after stop. */
  version: string | undefined;
  /** Release being deployed, written before `docker stack deploy`. */
  deploying?: string;
  releases: RecordedRelease[];
  /** Swarm's own rollbacks seen by shipgate, newest last. */
  swarmRollbacks?: { at: string; version: string; detail: string }[];
}

export const TIMEOUTS = { deploy: 10 * 60_000, other: 2 * 60_000 };

export class SwarmSession {
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly clock: () => Date;

  constructor(readonly o: SwarmTargetOptions) {
    this.parentEnv = o.parentEnv ?? process.env;
    this.clock = o.clock ?? (() => new Date());
  }

  get stack(): string {
    return this.o.spec.stack ?? defaultStackName(this.o.projectName, this.o.envName);
  }

  tagOf(release: { version: string; commit: string }): string {
    return releaseTag(this.o.spec.images.tag, release);
  }

  env(variables: Record<string, string> = {}): Record<string, string> {
    return swarmEnvironment(this.parentEnv, variables, this.o.spec.dockerHost);
  }

  async exec(env: string, argv: Argv, variables: Record<string, string> = {}, timeoutMs = TIMEOUTS.other, cwd?: string): Promise<RunResult> {
    const res = await this.run(env, argv, variables, timeoutMs, cwd);
    if (res.exitCode === 0) return res;
    const host = this.env().DOCKER_HOST ?? 'the default socket';
    throw failed(`\`${describeArgv(argv)}\` failed (exit ${res.exitCode}): ${lastLines(res.stderr) || lastLines(res.stdout) || 'no output'}`, {
      hint: /not a swarm manager|This node is not a swarm manager/i.test(res.stderr)
        ? `The engine at ${host} is not a swarm manager: point target.dockerHost at a manager (docker node ls lists them).`
        : /Cannot connect to the Docker daemon|connection refused/i.test(res.stderr)
          ? `The Docker engine does not answer at ${host}: start it, or set target.dockerHost in shipgate.yml.`
          : `Run it by hand to see the whole output; shipgate's command log is ${this.o.layout.commandLog(env)}.`,
      data: { command: argv, exitCode: res.exitCode },
    });
  }

  async run(env: string, argv: Argv, variables: Record<string, string> = {}, timeoutMs = TIMEOUTS.other, cwd?: string): Promise<RunResult> {
    const started = Date.now();
    const res = await this.o.runner.run(argv, { env: this.env(variables), timeoutMs, ...(cwd ? { cwd } : {}) });
    this.log(env, { cmd: describeArgv(argv), exitCode: res.exitCode, ms: Date.now() - started });
    return res;
  }

  async lines(env: string, argv: Argv): Promise<string[]> {
    return (await this.exec(env, argv)).stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  async services(env: string): Promise<SwarmService[]> {
    const ids = await this.lines(env, swarmCommands.services(this.stack));
    return ids.length ? parseServices((await this.exec(env, swarmCommands.inspectServices(ids))).stdout) : [];
  }

  async tasks(env: string, services: SwarmService[]): Promise<SwarmTask[]> {
    if (!services.length) return [];
    const ids = await this.lines(env, swarmCommands.tasks(services.map((s) => s.id)));
    if (!ids.length) return [];
    // Swarm prunes task history between the two calls: a task gone by then is no evidence either way.
    const res = await this.run(env, swarmCommands.inspectTasks(ids));
    const gone = res.stderr.trim().split('\n').every((l) => /task \S+ not found|No such task/i.test(l));
    if (res.exitCode === 0 || (gone && res.stdout.trim().startsWith('['))) return parseTasks(res.stdout);
    return parseTasks((await this.exec(env, swarmCommands.inspectTasks(ids))).stdout);
  }

  async nodes(env: string): Promise<SwarmNode[]> {
    const ids = await this.lines(env, swarmCommands.nodes());
    return ids.length ? parseNodes((await this.exec(env, swarmCommands.inspectNodes(ids))).stdout) : [];
  }

  note(env: string, note: string): void {
    this.log(env, { note });
  }

  log(env: string, entry: Record<string, unknown>): void {
    appendCommandLog(this.o.layout.commandLog(env), this.clock(), entry);
  }

  readState(env: string): SwarmEnvState {
    const file = this.o.layout.stateFile(env);
    const empty: SwarmEnvState = { stack: this.stack, version: undefined, releases: [] };
    if (!existsSync(file)) return empty;
    return { ...empty, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<SwarmEnvState>) };
  }

  writeState(env: string, state: SwarmEnvState): void {
    const file = this.o.layout.stateFile(env);
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2));
    renameSync(tmp, file);
  }
}
