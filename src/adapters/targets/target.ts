import type { ResolvedService } from '../../config/resolve.js';

/** One release of the stack, ready to run in one environment. */
export interface ReleaseSpec {
  env: string;
  version: string;
  commit: string;
  services: ResolvedService[];
}

export type ServiceState = 'running' | 'stopped';

export interface ServiceStatus {
  service: string;
  state: ServiceState;
  version: string | undefined;
  pid?: number;
  port?: number | undefined;
  startedAt?: string;
  logFile?: string;
}

/** Written into a service's log when a release of it starts, so readers can tell runs apart. */
export const startMarker = (service: string, version: string) => `---- shipgate: ${service} ${version} started`;

export interface ServiceLogs {
  service: string;
  lines: string[];
}

/**
 * The target port: where an environment runs. Every operation is idempotent, because a deploy
 * interrupted at any point is finished by running the same step again.
 */
export interface Target extends TargetEvidence {
  /** Makes the release's code (or images) available without touching what runs. */
  prepare(release: ReleaseSpec): Promise<void>;
  /** Starts every service of the release, replacing whatever of it runs now. */
  up(release: ReleaseSpec): Promise<void>;
  /** Stops every service of the environment. */
  down(env: string): Promise<void>;
  ps(env: string): Promise<ServiceStatus[]>;
  logs(env: string, service: string | undefined, tail: number): Promise<ServiceLogs[]>;
  restart(env: string, service: string): Promise<void>;
}

/** Whether what listens on a service's port is what this target started for it. */
export interface ListenerCheck {
  ok: boolean;
  reason: string;
}

/** Whether a service runs the release's image (for services whose health does not report their release). */
export interface ImageCheck {
  service: string;
  ok: boolean;
  /** e.g. "3/3 containers run registry.example/gw:sha-1a2b3c4", or what runs instead. */
  detail: string;
}

/** A process or container of an environment that is not on record (a crash between start and record). */
export interface StrayRunning {
  pid: number;
  command: string;
  service: string | undefined;
  version: string | undefined;
}

/**
 * What a target can prove beyond the core port; optional so each target adds them as it can.
 * `down` stops strays too; `strays` lets every command report them.
 */
export interface TargetEvidence {
  /** Processes of `env` not on record. Found through /proc on the process target. */
  strays?(env: string): Promise<StrayRunning[]>;
  /** Proof that `port` is served by the process started for `service` (or its child). */
  checkListener?(env: string, service: string, port: number): Promise<ListenerCheck>;
  /**
   * swarm: `up` replaces running services itself (a rolling update), so a deploy's stop-old step
   * must not stop them first; `down` is for `shipgate stop` only.
   */
  readonly updatesInPlace?: boolean;
  /**
   * compose: `up` stops each old container right before starting its replacement (and stops
   * first whatever it would not replace), so the stop-old step is left to it unless something
   * must happen while nothing runs in between (a database restore).
   */
  readonly stopsOldOnStart?: boolean;
  /**
   * swarm: the services with loopback health URLs pointed at a node that runs one of their
   * tasks (no routing mesh: a task answers on its node's address only).
   */
  reachable?(env: string, services: ResolvedService[]): Promise<ResolvedService[]>;
  /** compose/ssh: every container of each service runs the release's image. */
  verifyImages?(release: ReleaseSpec, services: string[]): Promise<ImageCheck[]>;
}
