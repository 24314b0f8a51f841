import type { ResolvedService } from '../../../config/resolve.js';
import type { ReleaseSpec, ServiceLogs, Target } from '../target.js';
import { deployRelease, prepareRelease, removeStack, restartService, type DeployReport } from './lifecycle.js';
import { SwarmSession, type SwarmTargetOptions } from './session.js';
import { diagnoseStack, listServices, reachableServices, serviceLogs, type SwarmFinding, type SwarmServiceStatus } from './status.js';

export { swarmLayout, type SwarmLayout, type SwarmTargetOptions } from './session.js';

/**
 * Runs an environment as a Docker Swarm stack, driven by the same compose files: `docker stack
 * deploy` of a spec shipgate records per release (so a rollback deploys exactly what ran, not
 * Swarm's one-step `PreviousSpec`), Swarm's own rolling update (update_config), then
 * convergence and each task's health checked through its node's address.
 *
 * lifecycle.ts (prepare, deploy, stop, restart), status.ts (ps, logs, diagnose),
 * convergence.ts (the pure judgement), commands.ts (every argv).
 */
export class SwarmTarget implements Target {
  private readonly s: SwarmSession;
  /** The pipeline's stop-old step leaves the stack running: `docker stack deploy` updates it in place. */
  readonly updatesInPlace = true;
  /** What the last `up` saw, for reports. */
  lastDeploy: DeployReport | undefined;

  constructor(o: SwarmTargetOptions, private readonly pollMs = 1_000) {
    this.s = new SwarmSession(o);
  }

  get stack(): string {
    return this.s.stack;
  }

  private readonly wait = { poll: () => new Promise<void>((r) => setTimeout(r, this.pollMs)) };

  async prepare(release: ReleaseSpec): Promise<void> {
    await prepareRelease(this.s, release);
  }

  async up(release: ReleaseSpec): Promise<void> {
    this.lastDeploy = await deployRelease(this.s, release, this.wait);
  }

  /** `docker stack rm` (`shipgate stop`, or cleanup of a failed first deploy). */
  down(env: string): Promise<void> {
    return removeStack(this.s, env, this.wait);
  }

  stop(env: string): Promise<void> {
    return this.down(env);
  }

  ps(env: string): Promise<SwarmServiceStatus[]> {
    return listServices(this.s, env);
  }

  logs(env: string, service: string | undefined, tail: number): Promise<ServiceLogs[]> {
    return serviceLogs(this.s, env, service, tail);
  }

  restart(env: string, service: string): Promise<void> {
    return restartService(this.s, env, service, this.wait);
  }

  reachable(env: string, services: ResolvedService[]): Promise<ResolvedService[]> {
    return reachableServices(this.s, env, services);
  }

  diagnose(env: string): Promise<SwarmFinding[]> {
    return diagnoseStack(this.s, env);
  }
}
