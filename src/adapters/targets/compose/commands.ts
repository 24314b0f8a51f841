import path from 'node:path';
import type { Argv } from '../../runner/runner.js';

/**
 * Pure builders for every command the compose target runs; tests assert these argv arrays
 * exactly. `v1` is the Python `docker-compose` (1.29, as in the runbook), `v2` the
 * `docker compose` CLI plugin. Both get the same sub-commands and options: only options
 * that 1.29 and 2.x share are used (e.g. `logs --no-log-prefix` exists in both).
 *
 * The state of the containers is read with the engine's own CLI (`docker ps` filtered by the
 * compose project label, then `docker inspect`), not with `compose ps`: v1 has no machine
 * readable `ps` output and v2 changed its JSON shape twice, while the labels and the inspect
 * document (state, exit code, health) are the same for containers made by either.
 */
export type ComposeCli = 'v1' | 'v2';

export interface ComposeInvocation {
  cli: ComposeCli;
  /** Absolute paths of the compose files, in order. */
  files: string[];
  project: string;
  /** Compose profiles to activate (`--profile`, both CLIs: v1 since 1.28). */
  profiles?: string[];
}

export const PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_LABEL = 'com.docker.compose.service';
export const ONEOFF_LABEL = 'com.docker.compose.oneoff';

export function composeBase(inv: ComposeInvocation): Argv {
  const files = inv.files.flatMap((f) => ['-f', f]);
  const profiles = (inv.profiles ?? []).flatMap((p) => ['--profile', p]);
  return inv.cli === 'v1' ? ['docker-compose', ...files, '-p', inv.project, ...profiles] : ['docker', 'compose', ...files, '-p', inv.project, ...profiles];
}

export const composeCommands = {
  /** Builds the images of `services` (all buildable services when empty). */
  build: (inv: ComposeInvocation, services: string[] = []): Argv => [...composeBase(inv), 'build', ...services],
  pull: (inv: ComposeInvocation, services: string[] = []): Argv => [...composeBase(inv), 'pull', ...services],
  /**
   * `noBuild` for a release whose images exist (a rollback): never rebuild them. `up` replaces a
   * changed service's container stop-first (stop, rename, create, start, remove: compose's
   * recreate); `stopTimeout` (`-t`, both CLIs) gives the old containers the grace the running
   * release asked for, which compose would otherwise take from the new release's file.
   */
  up: (inv: ComposeInvocation, options: { noBuild: boolean; stopTimeout?: number | undefined }): Argv => [
    ...composeBase(inv),
    'up',
    '-d',
    ...(options.stopTimeout !== undefined ? ['-t', String(options.stopTimeout)] : []),
    '--remove-orphans',
    ...(options.noBuild ? ['--no-build'] : []),
  ],
  /** Starts one service (e.g. one whose container was removed) without touching the others. */
  upService: (inv: ComposeInvocation, service: string): Argv => [...composeBase(inv), 'up', '-d', '--no-build', '--no-deps', service],
  /** What a person types; shipgate's own `down` works by label (see dockerCommands.stopContainers). */
  down: (inv: ComposeInvocation): Argv => [...composeBase(inv), 'down', '--remove-orphans'],
  /** One service: plain lines. Every service: one call, lines prefixed with the container name to split on. */
  logs: (inv: ComposeInvocation, tail: number, service?: string): Argv => [...composeBase(inv), 'logs', '--tail', String(tail), '--no-color', ...(service ? ['--no-log-prefix', service] : [])],
  restart: (inv: ComposeInvocation, service: string): Argv => [...composeBase(inv), 'restart', service],
  /** The resolved configuration (YAML in v1 and v2): image names, buildable services; `diagnose` shows it. */
  config: (inv: ComposeInvocation): Argv => [...composeBase(inv), 'config'],
  version: (cli: ComposeCli): Argv => (cli === 'v1' ? ['docker-compose', 'version', '--short'] : ['docker', 'compose', 'version', '--short']),
};

export const dockerCommands = {
  /** IDs of every container (running or not) of a compose project, whichever CLI made it. */
  projectContainers: (project: string): Argv => ['docker', 'ps', '-a', '-q', '--no-trunc', '--filter', `label=${PROJECT_LABEL}=${project}`],
  /**
   * Every container of a compose project, one per line: ID, state, service and one-off labels
   * (`id|running|execution_gateway|False`); what `up` will replace is decided from it.
   */
  projectContainerList: (project: string): Argv => ['docker', 'ps', '-a', '--no-trunc', '--filter', `label=${PROJECT_LABEL}=${project}`, '--format', `{{.ID}}|{{.State}}|{{.Label "${SERVICE_LABEL}"}}|{{.Label "${ONEOFF_LABEL}"}}`],
  /** IDs of the project's running containers. */
  runningContainers: (project: string): Argv => ['docker', 'ps', '-q', '--no-trunc', '--filter', `label=${PROJECT_LABEL}=${project}`],
  /** JSON array: labels, image, State.{Status,Running,ExitCode,Pid,StartedAt,Health}. */
  inspect: (ids: string[]): Argv => ['docker', 'inspect', '--type', 'container', ...ids],
  /** The references among `refs` that exist locally, one `repository:tag` per line. */
  imageList: (refs: string[]): Argv => ['docker', 'image', 'ls', ...refs.flatMap((r) => ['--filter', `reference=${r}`]), '--format', '{{.Repository}}:{{.Tag}}'],
  /** Removes tags; the layers go when no tag is left. Refuses images used by any container. */
  imageRemove: (refs: string[]): Argv => ['docker', 'image', 'rm', ...refs],
  /**
   * `down` stops the project's containers by label (each with its own stop signal, which
   * compose stored in it), waiting up to the longest `stop_grace_period` of the release, then
   * removes them and the project's networks. Same effect as `compose down`, without needing
   * the release checkout, and without v1's half-second interpreter start on every rollback.
   */
  stopContainers: (ids: string[], graceSeconds?: number): Argv => ['docker', 'stop', ...(graceSeconds !== undefined ? ['-t', String(graceSeconds)] : []), ...ids],
  /** Anonymous volumes are kept, as `compose down` keeps them. */
  removeContainers: (ids: string[]): Argv => ['docker', 'rm', '--force', ...ids],
  projectNetworks: (project: string): Argv => ['docker', 'network', 'ls', '-q', '--filter', `label=${PROJECT_LABEL}=${project}`],
  removeNetworks: (ids: string[]): Argv => ['docker', 'network', 'rm', ...ids],
  /** The image of every container on the engine: never pruned. */
  containerImages: (): Argv => ['docker', 'ps', '-a', '--format', '{{.Image}}'],
  info: (): Argv => ['docker', 'info', '--format', '{{.ServerVersion}} {{.Driver}}'],
};

/** `<project>_<env>`, made a valid compose project name (lower-case letters, digits, `_`, `-`). */
export function defaultProjectName(project: string, env: string): string {
  const name = `${project}_${env}`.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
  return name || `shipgate_${env}`;
}

/** `signal_service` -> `SIGNAL_SERVICE_PORT`, `api-gw` -> `API_GW_PORT`. */
export function portVariable(service: string): string {
  return `${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PORT`;
}

export function composeFiles(releaseDir: string, files: string[]): string[] {
  return files.map((f) => path.resolve(releaseDir, f));
}
