import type { Argv } from '../../runner/runner.js';

/**
 * Pure builders for every command the swarm target runs against a manager; tests assert these
 * argv arrays exactly. The engine is found through DOCKER_HOST (target.dockerHost), never `-H`,
 * so the same argv runs against a local socket or `ssh://manager`.
 *
 * Images are never resolved against a registry at deploy time (`--resolve-image never`): the
 * release pins its tags, and a node without the image fails its task with "No such image",
 * which `diagnose` reports, instead of the deploy silently moving to another digest.
 */

/** Label every container of a release carries (set by shipgate's override file). */
export const RELEASE_LABEL = 'com.shipgate.release';
export const STACK_LABEL = 'com.docker.stack.namespace';

export const swarmCommands = {
  /** Deploys (creates or updates) every service of the stack from `files`, merged in order. */
  deploy: (files: string[], stack: string): Argv => ['docker', 'stack', 'deploy', ...files.flatMap((f) => ['-c', f]), '--with-registry-auth', '--resolve-image', 'never', '--prune', stack],
  /** The merged, interpolated stack file: what shipgate records for each release. */
  config: (files: string[]): Argv => ['docker', 'stack', 'config', ...files.flatMap((f) => ['-c', f])],
  /** Removes every service and network of the stack. */
  remove: (stack: string): Argv => ['docker', 'stack', 'rm', stack],
  /** The stack's services, one `<ID> <name>` a line. */
  services: (stack: string): Argv => ['docker', 'service', 'ls', '--filter', `label=${STACK_LABEL}=${stack}`, '--format', '{{.ID}} {{.Name}}'],
  /** JSON array: Spec (name, image, replicas, update/rollback config), PreviousSpec, UpdateStatus. */
  inspectServices: (ids: string[]): Argv => ['docker', 'service', 'inspect', ...ids],
  /** IDs of every task of the services, current and past (history included). */
  tasks: (services: string[]): Argv => ['docker', 'service', 'ps', '-q', '--no-trunc', ...services],
  /** JSON array of tasks: NodeID, Status.{State,Err,Message}, DesiredState, Spec.ContainerSpec.{Image,Labels}. */
  inspectTasks: (ids: string[]): Argv => ['docker', 'inspect', '--type', 'task', ...ids],
  nodes: (): Argv => ['docker', 'node', 'ls', '-q'],
  /** JSON array: ID, Status.{State,Addr,Message}, Spec.{Availability,Role}, Description.Hostname. */
  inspectNodes: (ids: string[]): Argv => ['docker', 'node', 'inspect', ...ids],
  /** Replaces every task of a service with a fresh one of the same spec (`health --restart-unhealthy`). */
  forceUpdate: (service: string): Argv => ['docker', 'service', 'update', '--force', '--detach', service],
  logs: (service: string, tail: number): Argv => ['docker', 'service', 'logs', '--no-trunc', '--no-task-ids', '--raw', '--tail', String(tail), service],
  /** Which of `refs` exist on the manager, one `repository:tag` per line. */
  imageList: (refs: string[]): Argv => ['docker', 'image', 'ls', ...refs.flatMap((r) => ['--filter', `reference=${r}`]), '--format', '{{.Repository}}:{{.Tag}}'],
  info: (): Argv => ['docker', 'info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'],
};

/** `<project>_<env>`, made a valid stack name. */
export function defaultStackName(project: string, env: string): string {
  const name = `${project}_${env}`.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[^a-z0-9]+/, '');
  return name || `shipgate_${env}`;
}

/** Swarm names a stack's service `<stack>_<service>`. */
export const serviceName = (stack: string, service: string): string => `${stack}_${service}`;

/**
 * The environment of every docker command: the engine variables of shipgate's own environment
 * and the release's variables; DOCKER_SERVICE_PREFER_OFFLINE_IMAGE so a loaded image is used as it is.
 */
export function swarmEnvironment(parentEnv: NodeJS.ProcessEnv, variables: Record<string, string>, dockerHost: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parentEnv)) {
    if (value === undefined) continue;
    if (['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'XDG_RUNTIME_DIR'].includes(name) || name.startsWith('DOCKER_')) out[name] = value;
  }
  Object.assign(out, variables);
  out.DOCKER_SERVICE_PREFER_OFFLINE_IMAGE = '1';
  if (dockerHost) out.DOCKER_HOST = dockerHost;
  return out;
}
