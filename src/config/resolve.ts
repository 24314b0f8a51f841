import path from 'node:path';
import { badInput } from '../core/errors.js';
import type { EnvironmentSpec, ShipgateConfig } from './schema.js';

/** A service as one environment runs it: overrides applied, URLs filled in. */
export interface ResolvedService {
  name: string;
  command: string[];
  /** Relative to the release checkout. */
  cwd: string;
  port: number | undefined;
  healthUrl: string | undefined;
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
    return {
      name,
      // Required on the process target (rule process-command); compose runs its own.
      command: o.command ?? base.command ?? [],
      cwd: o.cwd ?? base.cwd,
      port,
      healthUrl: fill(o.health ?? base.health),
      metricsUrl: fill(o.metrics ?? base.metrics),
      env: { ...envSpec.env, ...base.env, ...(o.env ?? {}) },
      passEnv: [...base.passEnv, ...(o.passEnv ?? [])],
    };
  });
}

export function stateDir(configDir: string, config: ShipgateConfig): string {
  return path.resolve(configDir, config.stateDir);
}
