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
export interface Target {
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
