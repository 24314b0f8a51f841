import path from 'node:path';
import { badInput } from '../core/errors.js';
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
  env: Record<string, string>;
  passEnv: string[];
}

export function environmentSpec(config: ShipgateConfig, env: string): EnvironmentSpec {
  const spec = config.environments[env];
  if (!spec) {
    throw badInput(`unknown environment "${env}"`, {
      where: 'shipgate.yml: environments',
      hint: `Use one of: ${Object.keys(config.environments).join(', ')}; or add "${env}" under environments.`,
    });
  }
  return spec;
}

export function resolveServices(config: ShipgateConfig, env: string): ResolvedService[] {
  const envSpec = environmentSpec(config, env);
  return Object.entries(config.services).map(([name, base]) => {
    const o = envSpec.services[name] ?? {};
    const port = o.port ?? base.port;
    const fill = (url: string | undefined) => url?.replaceAll('{port}', String(port ?? '')).replaceAll('{service}', name);
    const health = resolveHealth(base.health, o.health, fill);
    return {
      name,
      command: (o.command ?? base.command).map((arg) => (port === undefined ? arg : arg.replaceAll('{port}', String(port)))),
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
