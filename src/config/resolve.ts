import path from 'node:path';
import { badInput } from '../core/errors.js';
import { nameProblem } from './names.js';
import type { HealthContract } from '../core/health.js';
import type { EnvironmentSpec, ShipgateConfig } from './schema.js';

/** A service as one environment runs it: overrides applied, URLs filled in. */
export interface ResolvedService {
  name: string;
  command: string[];
  /** Relative to the release checkout. */
  cwd: string;
  port: number | undefined;
  healthUrl: string | undefined;
  /** The health contract when it says more than the URL (status or version); else healthUrl with the defaults. */
  health?: HealthContract | undefined;
  metricsUrl: string | undefined;
  /** Every replica's metrics URL when a target runs several (swarm: each task on its node); else metricsUrl alone. */
  metricsUrls?: string[];
  /** Where a target that places tasks itself (swarm) found this service running; set by Target.reachable. */
  placement?: ServicePlacement;
  env: Record<string, string>;
  passEnv: string[];
}

/** A service's running tasks as its target placed them: what `config check --live` says it read where. */
export interface ServicePlacement {
  /** The address of each running task's node, in slot order: the health URL is read on the first. */
  nodes: string[];
  /** Replicas wanted; undefined for a global service (one task per node). */
  desired: number | undefined;
  /** Why nothing of the service can be read where it runs (not in the stack, no task running). */
  missing?: string;
}

/**
 * One environment as a command uses it, resolved once at the command's entry (CLI command, API
 * route, controller tick) and passed down: its spec (target, health contract, analysis, trading,
 * database, policies) and its services with overrides applied. Inner steps read this value
 * instead of going back to the raw config.
 */
export interface ResolvedEnvironment {
  readonly name: string;
  readonly spec: EnvironmentSpec;
  readonly services: ResolvedService[];
}

/** Checks the name (a clear error for an unknown environment) and resolves its spec and services. */
export function resolveEnvironment(config: ShipgateConfig, env: string): ResolvedEnvironment {
  const spec = environmentSpec(config, env);
  return Object.freeze({ name: env, spec, services: servicesOf(config, spec) });
}

export function environmentSpec(config: ShipgateConfig, env: string): EnvironmentSpec {
  assertName('environment', env);
  // hasOwn: a plain lookup of "constructor" finds Object.prototype's and would pass as an environment.
  const spec = Object.hasOwn(config.environments, env) ? config.environments[env] : undefined;
  if (!spec) {
    throw badInput(`unknown environment "${env}"`, {
      where: 'shipgate.yml: environments',
      hint: `Use one of: ${Object.keys(config.environments).join(', ')}; or add "${env}" under environments.`,
    });
  }
  return spec;
}

/** Rejects a name typed by a user (CLI argument, flag) that no config could declare. */
export function assertName(kind: 'environment' | 'service', name: string, where = kind === 'environment' ? '<env>' : '<service>'): void {
  const problem = nameProblem(name);
  if (problem) throw badInput(`${JSON.stringify(name)} is not a valid ${kind} name: ${problem}`, { where, hint: `Use ${kind === 'environment' ? 'an environment' : 'a service'} declared in shipgate.yml, e.g. ${kind === 'environment' ? 'staging' : 'execution_gateway'}.` });
}

export function hasService(config: ShipgateConfig, name: string): boolean {
  return nameProblem(name) === undefined && Object.hasOwn(config.services, name);
}

export function resolveServices(config: ShipgateConfig, env: string): ResolvedService[] {
  return servicesOf(config, environmentSpec(config, env));
}

function servicesOf(config: ShipgateConfig, envSpec: EnvironmentSpec): ResolvedService[] {
  return Object.entries(config.services).map(([name, base]) => {
    const o = (Object.hasOwn(envSpec.services, name) ? envSpec.services[name] : undefined) ?? {};
    const port = o.port ?? base.port;
    const fill = (url: string | undefined) => url?.replaceAll('{port}', String(port ?? '')).replaceAll('{service}', name);
    const health = resolveHealth(base.health, o.health, fill);
    return {
      name,
      // Required on the process target (rule process-command); compose runs its own.
      command: (o.command ?? base.command ?? []).map((arg) => (port === undefined ? arg : arg.replaceAll('{port}', String(port)))),
      cwd: o.cwd ?? base.cwd,
      port,
      healthUrl: health?.url,
      ...(health && (health.status || health.version) ? { health } : {}),
      metricsUrl: fill(o.metrics ?? base.metrics),
      env: { ...envSpec.env, ...base.env, ...(o.env ?? {}) },
      passEnv: [...base.passEnv, ...(o.passEnv ?? [])],
    };
  });
}

export function stateDir(configDir: string, config: ShipgateConfig): string {
  return path.resolve(configDir, config.stateDir);
}

type HealthSetting = string | Partial<HealthContract> | undefined;

/** The base contract with the environment's override on top; a string sets the URL only. */
function resolveHealth(base: HealthSetting, override: HealthSetting, fill: (url: string | undefined) => string | undefined): HealthContract | undefined {
  const asObject = (h: HealthSetting): Partial<HealthContract> => (typeof h === 'string' ? { url: h } : (h ?? {}));
  const merged = { ...asObject(base), ...asObject(override) };
  const url = fill(merged.url);
  if (!url) return undefined;
  return { url, ...(merged.status ? { status: merged.status } : {}), ...(merged.version ? { version: merged.version } : {}) };
}
