// Reading `docker service|node inspect` and `docker inspect --type task` output (pure).

import { RELEASE_LABEL, STACK_LABEL } from './commands.js';

export interface SwarmNode {
  id: string;
  hostname: string;
  /** The address Swarm reaches the node at: where host-network and mode=host tasks listen. */
  addr: string;
  /** ready, down, unknown, disconnected. */
  state: string;
  /** active, pause, drain. */
  availability: string;
  role: string;
  message: string;
}

export interface SwarmTask {
  id: string;
  serviceId: string;
  nodeId: string;
  slot: number | undefined;
  /** new, pending, assigned, preparing, starting, running, complete, failed, shutdown, rejected, orphaned, remove. */
  state: string;
  desired: string;
  err: string;
  message: string;
  image: string;
  release: string | undefined;
  forceUpdate: number;
  at: string;
  exitCode: number | undefined;
}

export interface SwarmService {
  id: string;
  /** Full Swarm name, `<stack>_<service>`. */
  name: string;
  stack: string | undefined;
  image: string;
  /** Desired replicas; undefined for a global service. */
  replicas: number | undefined;
  release: string | undefined;
  forceUpdate: number;
  /** UpdateStatus.State: updating, paused, completed, rollback_started, rollback_paused, rollback_completed; undefined before any update. */
  updateState: string | undefined;
  updateMessage: string;
  previousRelease: string | undefined;
}

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function array(text: string): J[] {
  const v = JSON.parse(text || '[]') as unknown;
  return Array.isArray(v) ? (v as J[]) : [];
}

/** The image without the `@sha256:` digest Swarm may append. */
export const bareImage = (image: string): string => image.split('@')[0]!;

export function parseNodes(text: string): SwarmNode[] {
  return array(text).map((n) => ({
    id: String(n.ID ?? ''),
    hostname: String(n.Description?.Hostname ?? ''),
    addr: String(n.Status?.Addr ?? ''),
    state: String(n.Status?.State ?? 'unknown'),
    availability: String(n.Spec?.Availability ?? 'unknown'),
    role: String(n.Spec?.Role ?? ''),
    message: String(n.Status?.Message ?? ''),
  }));
}

export function parseTasks(text: string): SwarmTask[] {
  return array(text).map((t) => ({
    id: String(t.ID ?? ''),
    serviceId: String(t.ServiceID ?? ''),
    nodeId: String(t.NodeID ?? ''),
    slot: typeof t.Slot === 'number' ? t.Slot : undefined,
    state: String(t.Status?.State ?? 'unknown'),
    desired: String(t.DesiredState ?? ''),
    err: String(t.Status?.Err ?? ''),
    message: String(t.Status?.Message ?? ''),
    image: bareImage(String(t.Spec?.ContainerSpec?.Image ?? '')),
    release: t.Spec?.ContainerSpec?.Labels?.[RELEASE_LABEL] as string | undefined,
    forceUpdate: Number(t.Spec?.ForceUpdate ?? 0),
    at: String(t.Status?.Timestamp ?? ''),
    exitCode: typeof t.Status?.ContainerStatus?.ExitCode === 'number' ? t.Status.ContainerStatus.ExitCode : undefined,
  }));
}

export function parseServices(text: string): SwarmService[] {
  return array(text).map((s) => {
    const spec = s.Spec ?? {};
    const replicas = spec.Mode?.Replicated?.Replicas;
    return {
      id: String(s.ID ?? ''),
      name: String(spec.Name ?? ''),
      stack: spec.Labels?.[STACK_LABEL] as string | undefined,
      image: bareImage(String(spec.TaskTemplate?.ContainerSpec?.Image ?? '')),
      replicas: spec.Mode?.Global ? undefined : typeof replicas === 'number' ? replicas : 1,
      release: spec.TaskTemplate?.ContainerSpec?.Labels?.[RELEASE_LABEL] as string | undefined,
      forceUpdate: Number(spec.TaskTemplate?.ForceUpdate ?? 0),
      updateState: s.UpdateStatus?.State as string | undefined,
      updateMessage: String(s.UpdateStatus?.Message ?? ''),
      previousRelease: s.PreviousSpec?.TaskTemplate?.ContainerSpec?.Labels?.[RELEASE_LABEL] as string | undefined,
    };
  });
}

/** Service logs with `--raw`: plain lines. */
export const logLines = (text: string): string[] => text.split('\n').filter((l) => l.length > 0);
