import path from 'node:path';
import type { ResolvedService } from '../../../config/resolve.js';
import type { Argv } from '../../runner/runner.js';
import type { ReleaseSpec } from '../target.js';

export interface LaunchSpec {
  service: string;
  argv: Argv;
  cwd: string;
  env: Record<string, string>;
  logFile: string;
}

export interface ProcessLayout {
  releaseDir(env: string, version: string): string;
  logFile(env: string, service: string): string;
  stateFile(env: string): string;
}

export function processLayout(stateDir: string): ProcessLayout {
  return {
    releaseDir: (env, version) => path.join(stateDir, 'releases', env, version),
    logFile: (env, service) => path.join(stateDir, 'logs', env, `${service}.log`),
    stateFile: (env) => path.join(stateDir, 'run', `${env}.json`),
  };
}

// Only these are inherited from shipgate's own environment, so secrets given to shipgate do
// not leak into services unless the config passes them on by name.
const INHERITED = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'];

/** Pure: how one service of a release is started. Tests assert it exactly. */
export function launchSpec(release: ReleaseSpec, service: ResolvedService, layout: ProcessLayout, parentEnv: NodeJS.ProcessEnv): LaunchSpec {
  const pick = (names: string[]) => Object.fromEntries(names.filter((n) => parentEnv[n] !== undefined).map((n) => [n, parentEnv[n]!]));
  const [program, ...args] = service.command;
  return {
    service: service.name,
    argv: [program!, ...args],
    cwd: path.resolve(layout.releaseDir(release.env, release.version), service.cwd),
    env: {
      ...pick(INHERITED),
      ...pick(service.passEnv),
      ...service.env,
      ...(service.port !== undefined ? { PORT: String(service.port) } : {}),
      SERVICE_NAME: service.name,
      SHIPGATE_ENV: release.env,
      SHIPGATE_VERSION: release.version,
    },
    logFile: layout.logFile(release.env, service.name),
  };
}
