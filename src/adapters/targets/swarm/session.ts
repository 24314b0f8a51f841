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
import { snapshot, SwarmReadCache, type ServiceIndexEntry, type SwarmSnapshot } from './reads.js';
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
  /** Service IDs and nodes kept across evaluations, shared by the targets of one context (reads.ts); else this session's own. */
  reads?: SwarmReadCache;
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
  readonly reads: SwarmReadCache;

  constructor(readonly o: SwarmTargetOptions) {
    this.parentEnv = o.parentEnv ?? process.env;
    this.clock = o.clock ?? (() => new Date());
    this.reads = o.reads ?? new SwarmReadCache();
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
    const host = this.engine;
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

  private get engine(): string {
    return this.env().DOCKER_HOST ?? 'the default socket';
  }

  private get keys(): { services: string; nodes: string } {
    return { services: `services ${this.engine} ${this.stack}`, nodes: `nodes ${this.engine}` };
  }

  /** The stack's service IDs and names, read now (and kept for later evaluations). */
  async serviceIndex(env: string): Promise<ServiceIndexEntry[]> {
    const entries = (await this.lines(env, swarmCommands.services(this.stack))).map((l) => {
      const [id = '', name = ''] = l.split(' ');
      return { id, name };
    });
    return this.reads.set(this.keys.services, entries);
  }

  async inspectServices(env: string, ids: string[]): Promise<SwarmService[]> {
    return ids.length ? parseServices((await this.exec(env, swarmCommands.inspectServices(ids))).stdout) : [];
  }

  /** Every service of the stack, read now (a deploy's convergence, diagnose). */
  async services(env: string): Promise<SwarmService[]> {
    return this.inspectServices(env, (await this.serviceIndex(env)).map((e) => e.id));
  }

  /**
   * Services, tasks and nodes for one evaluation (reachable, ps, logs): specs and tasks read now,
   * the service IDs and the node list reused from an earlier evaluation when still fresh (reads.ts).
   */
  observe(env: string, wanted: string[] = []): Promise<SwarmSnapshot> {
    return snapshot(this.stack, {
      index: async (fresh) => {
        const kept = fresh ? undefined : this.reads.get<ServiceIndexEntry[]>(this.keys.services);
        return kept ? { entries: kept, cached: true } : { entries: await this.serviceIndex(env), cached: false };
      },
      inspect: (ids) => this.inspectServices(env, ids),
      tasks: (services) => this.tasks(env, services),
      nodes: async (fresh) => {
        const kept = fresh ? undefined : this.reads.get<SwarmNode[]>(this.keys.nodes);
        return kept ? { nodes: kept, cached: true } : { nodes: await this.nodes(env), cached: false };
      },
    }, wanted);
  }

  /** The stack's names (short) as last listed: what `logs` reads without a service named. */
  async serviceNames(env: string): Promise<string[]> {
    const entries = this.reads.get<ServiceIndexEntry[]>(this.keys.services) ?? (await this.serviceIndex(env));
    const prefix = `${this.stack}_`;
    return entries.map((e) => (e.name.startsWith(prefix) ? e.name.slice(prefix.length) : e.name));
  }

  /** This process changed the stack (deploy, stop, restart): what it kept about it is read again. */
  forget(): void {
    this.reads.forget(this.keys.services);
    this.reads.forget(this.keys.nodes);
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

  /** Every node of the swarm, read now (and kept for later evaluations). */
  async nodes(env: string): Promise<SwarmNode[]> {
    const ids = await this.lines(env, swarmCommands.nodes());
    return this.reads.set(this.keys.nodes, ids.length ? parseNodes((await this.exec(env, swarmCommands.inspectNodes(ids))).stdout) : []);
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
