import type { ImageCheck, ReleaseSpec, ServiceLogs, Target } from '../target.js';
import { restartService } from './hosts.js';
import { prepareRelease, startRelease, stopRelease } from './rollout.js';
import { SshSession, type SshServiceStatus, type SshTargetOptions } from './session.js';
import type { SshEnvState } from './state.js';
import { listContainers, serviceLogs } from './status.js';
import { verifyReleaseImages } from './verify-images.js';

export type { OutputSink, SshServiceStatus, SshTargetOptions } from './session.js';
export { sshLayout, type HostState, type SshEnvState, type SshLayout } from './state.js';


/**
 * The ssh target: the runbook's production deploy, on one or more hosts.
 *
 *     ssh prod-server; cd /opt/trading_platform; git fetch && git checkout v1.2.3
 *     docker-compose -f docker-compose.prod.yml build && docker-compose -f docker-compose.prod.yml up -d
 *
 * Every remote command is an argv array sent through the local `ssh` client (see
 * commands.ts for the quoting and the client options); the compose and docker argv come from
 * the compose target's builders, and their output is read with its parsers.
 *
 * - prepare: on each host, `git -C <dir> fetch <remote> --tags --force`, `git -C <dir>
 *   checkout --detach --force <commit>` (the SHA shipgate resolved locally, never a tag the
 *   host might see differently), then compose build (or pull) of the services whose
 *   `<image>:<TAG>` does not exist on that host yet, or was built there from another commit.
 *   Nothing running is touched.
 * - up: on each host, checkout of the commit (no fetch: prepare did it) and `compose up -d
 *   --remove-orphans --no-build`, with `TAG=<version>`, the ports and the env settings passed
 *   as `env NAME=value ...` on the remote side. prepare built the images; up never builds.
 * - down / ps / logs / restart: by compose project label (docker CLI) or compose, per host;
 *   ps returns each host's containers (with `host`), logs prefix every line with its host.
 *
 * Several hosts are rolled out one batch of `parallelism` hosts (default 1) at a time; the
 * first failure stops the rollout. For the two operations that change what runs (up, down),
 * shipgate then returns the hosts of the rollout to the release each ran before it started
 * (`up` of that version with `--no-build`: its images are still on the host), and the step
 * fails with an error naming the failed host and what was returned. The release each host
 * runs, and the "before" of a rollout in progress, are kept in `<stateDir>/ssh/<env>.json`,
 * so a resumed or repeated step still knows where to return. The pipeline's own automatic
 * rollback (a deploy that fails start-new or verify) then deploys the previous release on
 * every host again: prepare finds its images, down and up are idempotent, so hosts already
 * returned by the target just restart on the same release; when a host is unreachable that
 * rollback fails at prepare, and the hosts the target returned keep serving the previous
 * release. (A release marked `kind: 'rollback'` is not returned: a rollback stopped half-way
 * leaves the hosts it reached on the earlier release.)
 *
 * ssh exit status 255 (connection refused, lost, timed out, key refused) fails the operation
 * with an error that names the host and says how to check it. The pipeline records the step
 * as failed: once the host answers again, deploying the same version again finishes the job,
 * since every operation here is idempotent.
 *
 * Secrets (`passEnv`) are not sent: they would sit on the remote command line, visible in the
 * host's process list. Put them in the host's own environment or the checkout's `.env` file.
 */
//
// The code lives by job: rollout.ts (batches, and prepare/up/down across hosts), compensation.ts
// (returning hosts after a failure), hosts.ts (one host), status.ts (ps, logs), hints.ts (errors),
// state.ts (the state file), session.ts (what they share, and the one runner).
export class SshTarget implements Target {
  private readonly s: SshSession;

  constructor(o: SshTargetOptions) {
    this.s = new SshSession(o);
  }

  get project(): string {
    return this.s.project;
  }

  /** Fetch, checkout and build (or pull) on every host, host by host; nothing running changes. */
  prepare(release: ReleaseSpec): Promise<void> {
    return prepareRelease(this.s, release);
  }

  /** Starts the release host by host; on a failure, returns the hosts to what they ran before, then fails. */
  up(release: ReleaseSpec): Promise<void> {
    return startRelease(this.s, release);
  }

  /** Stops what shipgate started on every host (`shipgate stop`): the same as `down`. */
  async stop(env: string): Promise<void> {
    await this.down(env);
  }

  /** Stops the project on every host; on a failure, starts the hosts it stopped again (their release), then fails. */
  down(env: string): Promise<void> {
    return stopRelease(this.s, env);
  }

  /** Every host's containers (each with `host`); a host that cannot be asked is left out, and said so. */
  ps(env: string): Promise<SshServiceStatus[]> {
    return listContainers(this.s, env);
  }

  /** Last lines of each service, every line prefixed with its host (`host | line`). */
  logs(env: string, service: string | undefined, tail: number): Promise<ServiceLogs[]> {
    return serviceLogs(this.s, env, service, tail);
  }

  /** Restarts the service on every host that runs the stack (starts it where its container is gone). */
  restart(env: string, service: string): Promise<void> {
    return restartService(this.s, env, service);
  }

  /** For services whose health does not report their release: on every host, their containers run its image. */
  verifyImages(release: ReleaseSpec, services: string[]): Promise<ImageCheck[]> {
    return verifyReleaseImages(this.s, release, services);
  }

  readState(env: string): SshEnvState {
    return this.s.readState(env);
  }
}
