import os from 'node:os';
import path from 'node:path';
import { httpHealthProbe, type HealthProbe } from '../adapters/health/http-probe.js';
import { fileAuditSeal, type AuditSeal } from '../adapters/store/audit-seal.js';
import type { Store } from '../adapters/store/store.js';
import { OpenConnections } from '../adapters/runner/connections.js';
import { localRunner, type Runner } from '../adapters/runner/runner.js';
import { targetFactory } from '../adapters/targets/factory.js';
import type { Target } from '../adapters/targets/target.js';
import { GitRepository } from '../adapters/vcs/git.js';
import { resolveEnvironment, stateDir, type ResolvedEnvironment } from '../config/resolve.js';
import type { LoadedConfig } from '../config/load.js';
import type { ShipgateConfig } from '../config/schema.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Identity } from '../core/identity.js';
import { failpoint, withStoreFailpoint } from './failpoint.js';
import { silentProgress, type Progress } from './progress.js';
import { inspectState, type StateContinuity } from './state.js';

/** Everything a use case needs, built once per command by the CLI (or by the demo). */
export interface AppContext {
  config: ShipgateConfig;
  configFile: string;
  configDir: string;
  stateDir: string;
  store: Store;
  /** The audit key and checkpoint, kept outside the store. */
  auditSeal: AuditSeal;
  /** Whether the store is the one this state directory was used with (see app/state.ts). */
  continuity: StateContinuity;
  clock: Clock;
  /** Real time, for what guards real processes (lock leases, controller outages, market windows) when `clock` runs faster. */
  wallClock: Clock;
  actor: string;
  host: string;
  pid: number;
  repo: GitRepository;
  runner: Runner;
  probe: HealthProbe;
  progress: Progress;
  /** The environment shipgate runs with: where secrets (urlEnv, tokenEnv, ...) are read from. */
  env: NodeJS.ProcessEnv;
  target(env: string): Target;
  /**
   * The environment resolved once for this command (spec and services, the name checked: an unknown
   * one is a clear error); later calls return the same value. Command entries resolve it and pass
   * it down; inner steps do not go back to the raw config.
   */
  environment(env: string): ResolvedEnvironment;
  /** Connections the command's targets keep open (ssh masters); whoever creates the context closes them. */
  connections: OpenConnections;
  /** How `actor` is proven, when it is (an API request's token); absent for a local command. */
  identity?: Identity;
  /** The fencing generation this process leads at, when it acts as the controller's leader (its store is fenced at it). */
  leaderGeneration?: number;
}

export interface ContextOptions {
  clock?: Clock;
  wallClock?: Clock;
  progress?: Progress;
  probe?: HealthProbe;
  env?: NodeJS.ProcessEnv;
  /** The command only reads: on a state directory it cannot write, it reads a copy instead of refusing. */
  readOnly?: boolean;
}

export async function createContext(loaded: LoadedConfig, options: ContextOptions = {}): Promise<AppContext> {
  const env = options.env ?? process.env;
  const dir = stateDir(loaded.dir, loaded.config);
  const auditSeal = fileAuditSeal(dir, env);
  // The drivers of the target types this config uses, and no other.
  const createTarget = await targetFactory(loaded.config);
  // Loaded here, not at start-up: kysely and pg are a third of the CLI's start-up time, and commands without a project never open the store.
  const { DATABASE_URL_VARIABLE, openStore } = await import('../adapters/store/open.js');
  const store = withStoreFailpoint(await openStore({ url: env[DATABASE_URL_VARIABLE], sqliteFile: path.join(dir, 'state.db'), auditSeal, readOnly: options.readOnly ?? false }));
  let continuity: StateContinuity;
  try {
    continuity = await inspectState(dir, store, auditSeal);
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  const repo = new GitRepository(path.resolve(loaded.dir, loaded.config.repository), localRunner);
  const connections = new OpenConnections();
  const resolved = new Map<string, ResolvedEnvironment>();
  const environment = (name: string): ResolvedEnvironment => {
    let found = resolved.get(name);
    if (!found) resolved.set(name, (found = resolveEnvironment(loaded.config, name)));
    return found;
  };
  const services = (name: string) => environment(name).services;
  return {
    config: loaded.config,
    configFile: loaded.file,
    configDir: loaded.dir,
    stateDir: dir,
    store,
    auditSeal,
    continuity,
    clock: options.clock ?? systemClock,
    wallClock: options.wallClock ?? systemClock,
    actor: await resolveActor(env, repo.dir),
    host: os.hostname(),
    pid: process.pid,
    repo,
    runner: localRunner,
    probe: options.probe ?? httpHealthProbe,
    progress: options.progress ?? silentProgress,
    env,
    target(envName) {
      return createTarget(envName, environment(envName).spec, { config: loaded.config, stateDir: dir, repo, runner: localRunner, env, failpoint, connections, services });
    },
    environment,
    connections,
  };
}

/** SHIPGATE_ACTOR, else the git user, else the OS user: who is recorded in the audit log. */
export async function resolveActor(env: NodeJS.ProcessEnv, repoDir: string): Promise<string> {
  if (env.SHIPGATE_ACTOR?.trim()) return env.SHIPGATE_ACTOR.trim();
  const git = await localRunner.run(['git', '-C', repoDir, 'config', 'user.name'], { env, timeoutMs: 10_000 });
  const name = git.exitCode === 0 ? git.stdout.trim() : '';
  return name || os.userInfo().username;
}
