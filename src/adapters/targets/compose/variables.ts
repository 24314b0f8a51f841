import type { ResolvedService } from '../../../config/resolve.js';
import { portVariable } from './commands.js';

/**
 * The variables a compose file is interpolated with (pure; tests assert them exactly). The
 * release reaches compose only through these, never by rewriting its files:
 *
 * - each service's `env` settings from shipgate.yml (environment-wide `env` included), one
 *   value per name: a name two services set differently takes the later service's value;
 * - `<SERVICE>_PORT` for every service with a port: `signal_service` -> `SIGNAL_SERVICE_PORT`;
 * - `SHIPGATE_ENV`, `SHIPGATE_VERSION`;
 * - the version variable (`target.versionVariable`, default `TAG`) = the release's image tag
 *   (`target.images.tag`, the version by default), so `image: trading/gateway:${TAG}` gives
 *   every release its own images.
 *
 * Later entries win. Secrets are never here: they are passed by name (`passEnv`) and read from
 * shipgate's environment on every command (see `commandEnvironment`).
 */
export function composeVariables(input: { env: string; version: string; versionVariable: string; services: ResolvedService[]; tag?: string }): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const s of input.services) Object.assign(vars, s.env);
  for (const s of input.services) if (s.port !== undefined) vars[portVariable(s.name)] = String(s.port);
  vars.SHIPGATE_ENV = input.env;
  vars.SHIPGATE_VERSION = input.version;
  // The release's image tag (target.images.tag, `{version}` by default).
  vars[input.versionVariable] = input.tag ?? input.version;
  return vars;
}

// What compose and the docker CLI need from shipgate's own environment to find the engine,
// their config and their temp dir; everything else stays out unless passed by name.
const INHERITED = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'XDG_RUNTIME_DIR'];
const INHERITED_PREFIXES = ['DOCKER_', 'COMPOSE_', 'BUILDKIT_'];
// -f and -p are always given; these would otherwise add files or rename the project.
const DROPPED = ['COMPOSE_FILE', 'COMPOSE_PROJECT_NAME', 'COMPOSE_PATH_SEPARATOR', 'COMPOSE_PROFILES'];

/** The environment every compose and docker command runs with. `dockerHost` (config) beats DOCKER_HOST. */
export function commandEnvironment(parentEnv: NodeJS.ProcessEnv, variables: Record<string, string>, passEnv: string[], dockerHost: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parentEnv)) {
    if (value === undefined || DROPPED.includes(name)) continue;
    if (INHERITED.includes(name) || INHERITED_PREFIXES.some((p) => name.startsWith(p)) || passEnv.includes(name)) out[name] = value;
  }
  Object.assign(out, variables);
  if (dockerHost) out.DOCKER_HOST = dockerHost;
  return out;
}
