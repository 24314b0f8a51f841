import type { ImageCheck, ReleaseSpec, ServiceLogs, Target } from '../target.js';
import type { ReleaseImageCheck } from './compare.js';
import { releaseImageCheck, restartService, startRelease, stopProject, verifyImages } from './lifecycle.js';
import type { ComposeServiceStatus } from './parse.js';
import { prepareRelease } from './prepare.js';
import { ComposeSession, type ComposeTargetOptions } from './session.js';
import { diagnoseProject, listContainers, serviceLogs, type ComposeDiagnosis } from './status.js';

export { compareReleaseImages, selectPrunable, type ReleaseImageCheck } from './compare.js';
export type { ComposeTargetOptions } from './session.js';
export { composeLayout, type ComposeLayout } from './state.js';
export type { ComposeDiagnosis } from './status.js';

/**
 * Runs an environment as a docker-compose project: one checkout per release, images tagged
 * with the release version (through `versionVariable`), so a rollback starts images that are
 * already there instead of rebuilding them.
 *
 * The operations live by job: prepare.ts (checkout and images), lifecycle.ts (up, down,
 * restart, image checks), prune.ts, status.ts (ps, logs, diagnose); session.ts holds what they
 * share (contexts, the one runner, the state file).
 */
export class ComposeTarget implements Target {
  private readonly s: ComposeSession;
  /** `up` replaces containers stop-first, one service at a time (see startRelease). */
  readonly stopsOldOnStart = true;

  constructor(o: ComposeTargetOptions) {
    this.s = new ComposeSession(o);
  }

  get project(): string {
    return this.s.project;
  }

  /** Checks the release out and makes its images exist: built (or pulled) once, reused after. */
  prepare(release: ReleaseSpec): Promise<void> {
    return prepareRelease(this.s, release);
  }

  /** Stops what shipgate started in the environment (`shipgate stop`): the same as `down`. */
  async stop(env: string): Promise<void> {
    await this.down(env);
  }

  /**
   * For a service whose health answer does not report its release (`version: ignore`): whether
   * each of the release's containers runs the image this release's compose config names.
   */
  releaseImageCheck(release: ReleaseSpec): Promise<ReleaseImageCheck[]> {
    return releaseImageCheck(this.s, release);
  }

  /** For services whose health does not report their release (`version: ignore`): their containers run its image. */
  verifyImages(release: ReleaseSpec, services: string[]): Promise<ImageCheck[]> {
    return verifyImages(this.s, release, services);
  }

  up(release: ReleaseSpec): Promise<void> {
    return startRelease(this.s, release);
  }

  /** Stops and removes the project's containers and networks, found by label (see dockerCommands.stopContainers). */
  down(env: string): Promise<void> {
    return stopProject(this.s, env);
  }

  ps(env: string): Promise<ComposeServiceStatus[]> {
    return listContainers(this.s, env);
  }

  logs(env: string, service: string | undefined, tail: number): Promise<ServiceLogs[]> {
    return serviceLogs(this.s, env, service, tail);
  }

  restart(env: string, service: string): Promise<void> {
    return restartService(this.s, env, service);
  }

  /** For `diagnose`: what a person would look at (runbook: logs, `docker-compose config`, `docker images`). */
  diagnose(env: string): Promise<ComposeDiagnosis> {
    return diagnoseProject(this.s, env);
  }
}
