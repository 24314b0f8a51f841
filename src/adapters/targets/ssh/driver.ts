import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SshTargetSpec } from '../../../config/schema.js';
import { isInfrastructureImage } from '../../../config/compose/infrastructure.js';
import { ExitCode, failed, refused, ShipgateError } from '../../../core/errors.js';
import { describeArgv, type Argv, type RunResult, type Runner } from '../../runner/runner.js';
import { composeCommands, defaultProjectName, dockerCommands, type ComposeCli, type ComposeInvocation } from '../compose/commands.js';
import { floatingImages, floatingImagesHint, floatingImagesMessage, releaseTag, type PinPolicy } from '../compose/images.js';
import { activeServices, normalizeImageRef, parseComposeConfig, parseImageList, parseInspect, plainLogLines, splitPrefixedLogs, type ComposeService, type ComposeServiceStatus } from '../compose/parse.js';
import { composeVariables } from '../compose/variables.js';
import { startMarker, type ReleaseSpec, type ServiceLogs, type Target } from '../target.js';
import { hostLabel, remoteComposeFiles, remoteGit, rolloutBatches, sshArgv, withEnv, type SshEndpoint } from './commands.js';
import type { StreamRunOptions } from './stream-runner.js';

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

/** Where the ssh target keeps its files under the state dir. */
export interface SshLayout {
  /** Host keys of every host, pinned on first contact (StrictHostKeyChecking=accept-new). */
  knownHosts: string;
  stateFile(env: string): string;
  /** One JSON line per remote command (host, command, exit code, duration) and per decision. */
  commandLog(env: string): string;
  /** Output of the commands that change something (fetch, build, up, down), line by line as it comes, prefixed by host. */
  outputLog(env: string): string;
}

export function sshLayout(stateDir: string): SshLayout {
  return {
    knownHosts: path.join(stateDir, 'known_hosts'),
    stateFile: (env) => path.join(stateDir, 'ssh', `${env}.json`),
    commandLog: (env) => path.join(stateDir, 'ssh', `${env}.commands.log`),
    outputLog: (env) => path.join(stateDir, 'ssh', `${env}.output.log`),
  };
}

/** A version of the stack as one host has it. */
interface ReleaseRef {
  version: string;
  commit: string;
}

interface BuiltRelease extends ReleaseRef {
  images: string[];
  stopGraceSeconds?: number;
}

export interface HostState {
  /** The release last started on the host; kept after `down`, so it can be started again. */
  version?: string;
  commit?: string;
  running: boolean;
  /** Compose variables of that start, for down, logs and restart. */
  variables?: Record<string, string>;
  services?: { name: string; port: number | undefined }[];
  cli?: ComposeCli;
  /** Releases whose images were built or pulled here (newest last), with the commit they came from. */
  built: BuiltRelease[];
  lastError?: { at: string; op: string; message: string };
}

/** A rollout of `up` in progress: what each host ran before it, to return to on failure. */
interface RolloutRecord extends ReleaseRef {
  startedAt: string;
  before: Record<string, ReleaseRef | null>;
}

export interface SshEnvState {
  project: string;
  hosts: Record<string, HostState>;
  rollout?: RolloutRecord;
}

export interface SshServiceStatus extends ComposeServiceStatus {
  /** `host` or `host:port`, as in errors and logs. */
  host: string;
}

/** Where command output goes besides the output log (the CLI's progress lines). */
export interface OutputSink {
  info(message: string): void;
}

export interface SshTargetOptions {
  envName: string;
  spec: SshTargetSpec;
  /** `project` from shipgate.yml, for the default compose project name `<project>_<env>`. */
  projectName: string;
  layout: SshLayout;
  /** Runs the local ssh client; `streamingRunner` hands output over line by line. */
  runner: Runner;
  progress?: OutputSink;
  clock?: () => Date;
}

interface Host extends SshEndpoint {
  label: string;
}

interface RemoteCall {
  /** Shown in errors and the command log instead of the whole argv (e.g. without the env prefix). */
  display: string;
  timeoutMs: number;
  /** Stream the output to the output log and progress (commands that change something). */
  stream?: boolean;
}

interface RolloutResult {
  done: Host[];
  failures: { host: Host; error: Error }[];
  notReached: Host[];
}

// Builds of real stacks take long; everything else is quick or broken.
const TIMEOUTS = { fetch: 10 * 60_000, build: 60 * 60_000, pull: 30 * 60_000, up: 10 * 60_000, down: 5 * 60_000, other: 2 * 60_000 };
const STDERR_LINES = 15;
const SSH_FAILED = 255;

export class SshTarget implements Target {
  private readonly clock: () => Date;
  private readonly hosts: Host[];
  private readonly cli = new Map<string, ComposeCli>();

  constructor(private readonly o: SshTargetOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.hosts = o.spec.hosts.map((h) => ({ ...h, label: hostLabel(h) }));
    const labels = this.hosts.map((h) => h.label);
    const twice = labels.find((l, i) => labels.indexOf(l) !== i);
    if (twice) throw failed(`host ${twice} is listed twice in the ssh target of ${o.envName}`, { hint: 'List each host once under target.hosts.' });
  }

  get project(): string {
    return this.o.spec.project ?? defaultProjectName(this.o.projectName, this.o.envName);
  }

  /** Fetch, checkout and build (or pull) on every host, host by host; nothing running changes. */
  async prepare(release: ReleaseSpec): Promise<void> {
    const res = await this.rollout(release.env, 'prepare', (h) => this.prepareHost(h, release));
    // A release refused by policy (images not pinned to it) is refused as such, not as a failure.
    const refusal = res.failures.map((f) => f.error).find((e) => e instanceof ShipgateError && e.exitCode === ExitCode.refused);
    if (refusal) throw refusal;
    if (res.failures.length) {
      throw this.rolloutError(`prepare of ${release.version}`, res, `Nothing running was changed (prepare only fetches, checks out and builds).`);
    }
  }

  /** Starts the release host by host; on a failure, returns the hosts to what they ran before, then fails. */
  async up(release: ReleaseSpec): Promise<void> {
    const state = this.readState(release.env);
    const rollout = state.rollout;
    if (!rollout || rollout.version !== release.version || rollout.commit !== release.commit) {
      // A resumed `up` of the same release keeps the first attempt's record: hosts it already
      // moved must still return to what they ran before, not to the new release.
      state.rollout = {
        version: release.version,
        commit: release.commit,
        startedAt: this.clock().toISOString(),
        before: Object.fromEntries(this.hosts.map((h) => [h.label, startedRef(state.hosts[h.label])])),
      };
      this.writeState(release.env, state);
    }
    const before = state.rollout!.before;
    const res = await this.rollout(release.env, 'up', (h) => this.upHost(h, release));
    if (!res.failures.length) {
      this.update(release.env, (s) => {
        delete s.rollout;
        for (const h of this.hosts) delete hostState(s, h.label).lastError;
      });
      return;
    }
    // A rollback that fails half-way is not undone: the hosts it reached stay on the earlier
    // release rather than go back to the one being rolled back. ReleaseSpec carries no kind
    // today; when the pipeline passes `kind: 'rollback'`, this applies.
    const isRollback = 'kind' in release && release.kind === 'rollback';
    const returned = isRollback
      ? 'This is a rollback: the hosts it reached stay on the release it returns to.'
      : await this.returnHosts(release.env, release, this.hosts.filter((h) => before[h.label]), (h) => before[h.label]!, release.services);
    this.update(release.env, (s) => delete s.rollout);
    throw this.rolloutError(`rollout of ${release.version}`, res, returned);
  }

  /** Stops what shipgate started on every host (`shipgate stop`): the same as `down`. */
  async stop(env: string): Promise<void> {
    await this.down(env);
  }

  /** Stops the project on every host; on a failure, starts the hosts it stopped again (their release), then fails. */
  async down(env: string): Promise<void> {
    const state = this.readState(env);
    const wasRunning = new Map(this.hosts.map((h) => [h.label, state.hosts[h.label]?.running === true ? startedRef(state.hosts[h.label]) : null]));
    const res = await this.rollout(env, 'down', (h) => this.downHost(env, h));
    if (!res.failures.length) return;
    const stopped = res.done.filter((h) => wasRunning.get(h.label));
    const returned = await this.returnHosts(env, undefined, stopped, (h) => wasRunning.get(h.label)!);
    throw this.rolloutError(`stop of ${env}`, res, returned);
  }

  /** Every host's containers (each with `host`); a host that cannot be asked is left out, and said so. */
  async ps(env: string): Promise<SshServiceStatus[]> {
    const state = this.readState(env);
    const out: SshServiceStatus[] = [];
    for (const h of this.hosts) {
      try {
        out.push(...(await this.psHost(env, h, state.hosts[h.label])));
      } catch (err) {
        this.note(env, `ps on ${h.label}: ${(err as Error).message}`);
        this.o.progress?.info(`[${h.label}] containers unknown: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    return out;
  }

  /** Last lines of each service, every line prefixed with its host (`host | line`). */
  async logs(env: string, service: string | undefined, tail: number): Promise<ServiceLogs[]> {
    const state = this.readState(env);
    const known = this.hosts.map((h) => state.hosts[h.label]?.services ?? []).find((s) => s.length) ?? [];
    const names = service ? [service] : known.map((s) => s.name);
    const byService = new Map(names.map((n) => [n, [] as string[]]));
    const startedAt = new Map<string, string>();
    let complete = true;
    const version = this.hosts.map((h) => state.hosts[h.label]).find((s) => s?.running)?.version;
    for (const h of this.hosts) {
      const hs = state.hosts[h.label];
      if (!hs?.variables || !hs.version) continue;
      try {
        const inv = await this.invocation(env, h);
        const res = await this.exec(env, h, withEnv(hs.variables, composeCommands.logs(inv, tail, service)), { display: this.composeDisplay(hs.version, composeCommands.logs(inv, tail, service)), timeoutMs: TIMEOUTS.other });
        const lines = service ? new Map([[service, plainLogLines(res.stdout)]]) : splitPrefixedLogs(res.stdout, names);
        for (const name of names) {
          const mine = (lines.get(name) ?? []).slice(-tail);
          if (mine.length >= tail) complete = false;
          byService.get(name)!.push(...mine.map((l) => `${h.label} | ${l}`));
        }
        for (const c of hs.running ? await this.psHost(env, h, hs) : []) {
          if (c.startedAt && (startedAt.get(c.service) ?? '') < c.startedAt) startedAt.set(c.service, c.startedAt);
        }
      } catch (err) {
        complete = false;
        for (const name of names) byService.get(name)!.push(`${h.label} | (no logs: ${(err as Error).message.split('\n')[0]})`);
      }
    }
    return names.map((name) => {
      const lines = byService.get(name)!;
      // Container logs hold one release only: the marker tells the monitor where it starts.
      const at = startedAt.get(name);
      if (version && at && complete) lines.unshift(`${startMarker(name, version)} at ${at}`);
      return { service: name, lines };
    });
  }

  /** Restarts the service on every host that runs the stack (starts it where its container is gone). */
  async restart(env: string, service: string): Promise<void> {
    const state = this.readState(env);
    const started = this.hosts.filter((h) => state.hosts[h.label]?.version && state.hosts[h.label]?.variables);
    if (!started.length) throw failed(`service ${service} has never been started in ${env}`, { hint: `Deploy first: shipgate deploy ${env} --version <tag>.` });
    const errors: string[] = [];
    for (const h of started) {
      const hs = state.hosts[h.label]!;
      try {
        const inv = await this.invocation(env, h);
        const exists = (await this.psHost(env, h, hs)).some((s) => s.service === service);
        if (!exists) await this.exec(env, h, remoteGit.checkout(this.o.spec.dir, hs.commit!), { display: describeArgv(remoteGit.checkout(this.o.spec.dir, hs.commit!)), timeoutMs: TIMEOUTS.other, stream: true });
        const argv = exists ? composeCommands.restart(inv, service) : composeCommands.upService(inv, service);
        await this.exec(env, h, withEnv(hs.variables!, argv), { display: this.composeDisplay(hs.version!, argv), timeoutMs: TIMEOUTS.up, stream: true });
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length) throw failed(`restart of ${service} failed on ${errors.length} of ${started.length} hosts: ${errors.join('; ')}`);
  }

  // ---- one host

  private async prepareHost(h: Host, release: ReleaseSpec): Promise<void> {
    const env = release.env;
    const dir = this.o.spec.dir;
    const fetch = remoteGit.fetch(dir, this.o.spec.remote);
    await this.exec(env, h, fetch, { display: describeArgv(fetch), timeoutMs: TIMEOUTS.fetch, stream: true });
    const checkout = remoteGit.checkout(dir, release.commit);
    await this.exec(env, h, checkout, { display: describeArgv(checkout), timeoutMs: TIMEOUTS.other, stream: true });
    const inv = await this.invocation(env, h);
    const variables = this.variables(release);
    const config = composeCommands.config(inv);
    const services = activeServices(parseComposeConfig((await this.exec(env, h, withEnv(variables, config), { display: this.composeDisplay(release.version, config), timeoutMs: TIMEOUTS.other })).stdout), this.o.spec.profiles ?? []);
    if (!this.o.spec.allowFloatingImages) {
      const policy: PinPolicy = { tag: this.tagOf(release), versionVariable: this.o.spec.versionVariable, template: this.o.spec.images?.tag ?? '{version}', dependencies: this.o.spec.dependencies ?? [], isInfrastructure: isInfrastructureImage };
      const floating = floatingImages(services, policy);
      if (floating.length) throw refused(`${floatingImagesMessage(release.version, floating)} (host ${h.label})`, { hint: floatingImagesHint(policy), data: { floating } });
    }
    const present = await this.existingImages(env, h, services.map((s) => s.image).filter((i): i is string => i !== undefined));
    const missing = (s: ComposeService) => s.image === undefined || !present.has(normalizeImageRef(s.image));
    const record = this.readState(env).hosts[h.label]?.built.find((b) => b.version === release.version);
    const stale = record !== undefined && record.commit !== release.commit;
    if (stale) this.note(env, `${h.label}: images of ${release.version} were built from ${record.commit}, the version now names ${release.commit}: not reused`);
    if (this.o.spec.pull) {
      const toPull = services.filter((s) => stale || missing(s)).map((s) => s.name);
      if (toPull.length) {
        const argv = composeCommands.pull(inv, toPull);
        await this.exec(env, h, withEnv(variables, argv), { display: this.composeDisplay(release.version, argv), timeoutMs: TIMEOUTS.pull, stream: true });
      } else this.note(env, `${h.label}: images of ${release.version} exist: pull skipped`);
    } else if (this.o.spec.build) {
      const buildable = services.filter((s) => s.buildable);
      const toBuild = buildable.filter((s) => stale || missing(s)).map((s) => s.name);
      if (toBuild.length) {
        const argv = composeCommands.build(inv, toBuild);
        await this.exec(env, h, withEnv(variables, argv), { display: this.composeDisplay(release.version, argv), timeoutMs: TIMEOUTS.build, stream: true });
      } else if (buildable.length) this.note(env, `${h.label}: images of ${release.version} exist: build skipped`);
    }
    const images = services.map((s) => s.image).filter((i): i is string => i !== undefined);
    const graces = services.map((s) => s.stopGraceSeconds).filter((g): g is number => g !== undefined);
    const built: BuiltRelease = { version: release.version, commit: release.commit, images, ...(graces.length ? { stopGraceSeconds: Math.max(...graces) } : {}) };
    this.update(env, (s) => {
      const hs = hostState(s, h.label);
      hs.built = [...hs.built.filter((b) => b.version !== release.version), built].slice(-Math.max(this.o.spec.keepReleases, 2));
    });
  }

  /**
   * Checkout of the release's commit (already fetched) and `up -d --no-build`. Without
   * `services` (returning a host to what it ran), the variables of the host's last start are
   * reused with the version swapped.
   */
  private async upHost(h: Host, release: ReleaseRef & { env: string; services?: ReleaseSpec['services'] }): Promise<void> {
    const env = release.env;
    const checkout = remoteGit.checkout(this.o.spec.dir, release.commit);
    await this.exec(env, h, checkout, { display: describeArgv(checkout), timeoutMs: TIMEOUTS.other, stream: true });
    const inv = await this.invocation(env, h);
    const previous = this.readState(env).hosts[h.label];
    const services = release.services ? release.services.map((s) => ({ name: s.name, port: s.port })) : (previous?.services ?? []);
    const variables = release.services ? this.variables({ env, version: release.version, commit: release.commit, services: release.services }) : { ...(previous?.variables ?? {}), ...this.versionVariables(release) };
    const argv = composeCommands.up(inv, { noBuild: true });
    // Recorded as running before starting, so `down` finds the project even if `up` dies half-way.
    this.update(env, (s) => Object.assign(hostState(s, h.label), { running: true }));
    await this.exec(env, h, withEnv(variables, argv), { display: this.composeDisplay(release.version, argv), timeoutMs: TIMEOUTS.up, stream: true });
    this.update(env, (s) => Object.assign(hostState(s, h.label), { version: release.version, commit: release.commit, running: true, variables, services }));
  }

  /** Stops and removes the project's containers and networks on the host, found by label. */
  private async downHost(env: string, h: Host): Promise<void> {
    const project = this.project;
    const hs = this.readState(env).hosts[h.label];
    const grace = hs?.built.find((b) => b.version === hs.version && b.commit === hs.commit)?.stopGraceSeconds;
    const running = await this.lines(env, h, dockerCommands.runningContainers(project));
    if (running.length) await this.engine(env, h, dockerCommands.stopContainers(running, grace), TIMEOUTS.down, true);
    const all = await this.lines(env, h, dockerCommands.projectContainers(project));
    if (all.length) await this.engine(env, h, dockerCommands.removeContainers(all), TIMEOUTS.down, true);
    const networks = await this.lines(env, h, dockerCommands.projectNetworks(project));
    if (networks.length) await this.engine(env, h, dockerCommands.removeNetworks(networks), TIMEOUTS.other, true);
    this.update(env, (s) => Object.assign(hostState(s, h.label), { running: false }));
  }

  private async psHost(env: string, h: Host, hs: HostState | undefined): Promise<SshServiceStatus[]> {
    const ids = await this.lines(env, h, dockerCommands.projectContainers(this.project));
    if (!ids.length) return [];
    const res = await this.engine(env, h, dockerCommands.inspect(ids), TIMEOUTS.other);
    const services = hs?.services ?? [];
    return parseInspect(res.stdout, { version: hs?.version, ports: Object.fromEntries(services.map((s) => [s.name, s.port])), order: services.map((s) => s.name) }).map((s) => ({ ...s, host: h.label }));
  }

  /**
   * Returns hosts to a release they ran (checkout + `up --no-build`), best effort, in order.
   * Returns a sentence for the error: which hosts are back on what, which could not be.
   */
  private async returnHosts(env: string, failedRelease: ReleaseRef | undefined, hosts: Host[], to: (h: Host) => ReleaseRef, services?: ReleaseSpec['services']): Promise<string> {
    const back: string[] = [];
    const not: string[] = [];
    for (const h of hosts) {
      const ref = to(h);
      try {
        if (failedRelease && ref.version === failedRelease.version && ref.commit === failedRelease.commit) continue;
        this.o.progress?.info(`[${h.label}] returning to ${ref.version}`);
        await this.upHost(h, { env, version: ref.version, commit: ref.commit, ...(services ? { services } : {}) });
        back.push(`${h.label} (${ref.version})`);
      } catch (err) {
        not.push(`${h.label} (${(err as Error).message.split('\n')[0]})`);
      }
    }
    this.note(env, `returned: ${back.join(', ') || 'none'}; could not return: ${not.join(', ') || 'none'}`);
    return [back.length ? `Returned to the release they ran before: ${back.join(', ')}.` : '', not.length ? `Could not be returned: ${not.join('; ')}.` : ''].filter(Boolean).join(' ');
  }

  // ---- rollout

  /** Runs `op` on the hosts in batches of `parallelism`; stops after the first batch with a failure. */
  private async rollout(env: string, op: string, run: (h: Host) => Promise<void>): Promise<RolloutResult> {
    const result: RolloutResult = { done: [], failures: [], notReached: [] };
    const batches = rolloutBatches(this.hosts, this.o.spec.parallelism);
    for (const [i, batch] of batches.entries()) {
      const settled = await Promise.allSettled(batch.map((h) => run(h)));
      settled.forEach((s, j) => {
        const h = batch[j]!;
        if (s.status === 'fulfilled') result.done.push(h);
        else {
          const error = s.reason instanceof Error ? s.reason : new Error(String(s.reason));
          result.failures.push({ host: h, error });
          this.update(env, (st) => (hostState(st, h.label).lastError = { at: this.clock().toISOString(), op, message: error.message }));
        }
      });
      if (result.failures.length) {
        result.notReached = batches.slice(i + 1).flat();
        break;
      }
    }
    return result;
  }

  private rolloutError(what: string, res: RolloutResult, after: string): ShipgateError {
    const first = res.failures[0]!;
    const others = res.failures.slice(1).map((f) => f.error.message.split('\n')[0]);
    const parts = [
      `${what} stopped at host ${first.host.label}: ${first.error.message}`,
      others.length ? `Also failed: ${others.join('; ')}.` : '',
      res.done.length ? `Done before the failure: ${res.done.map((h) => h.label).join(', ')}.` : '',
      res.notReached.length ? `Not reached: ${res.notReached.map((h) => h.label).join(', ')}.` : '',
      after,
    ];
    const hint = first.error instanceof ShipgateError ? first.error.hint : undefined;
    return failed(parts.filter(Boolean).join(' '), {
      ...(hint ? { hint } : {}),
      data: { host: first.host.label, failed: res.failures.map((f) => f.host.label), done: res.done.map((h) => h.label), notReached: res.notReached.map((h) => h.label), ...(first.error instanceof ShipgateError ? first.error.data : {}) },
    });
  }

  // ---- remote commands

  /** The compose CLI on the host: configured, else `docker-compose` (v1) when it answers, else `docker compose`. */
  private async invocation(env: string, h: Host): Promise<ComposeInvocation> {
    let cli = this.cli.get(h.label) ?? (this.o.spec.cli === 'docker-compose' ? 'v1' : this.o.spec.cli === 'docker compose' ? 'v2' : undefined);
    if (!cli) {
      for (const candidate of ['v1', 'v2'] as const) {
        const res = await this.run(env, h, composeCommands.version(candidate), { display: describeArgv(composeCommands.version(candidate)), timeoutMs: TIMEOUTS.other });
        if (res.exitCode === SSH_FAILED) throw this.commandError(h, res, describeArgv(composeCommands.version(candidate)));
        if (res.exitCode === 0) {
          cli = candidate;
          break;
        }
      }
      if (!cli) {
        throw failed(`neither docker-compose nor the docker compose plugin works on host ${h.label}`, {
          hint: `Install one there (Debian: apt-get install docker-compose), or set target.cli in shipgate.yml.`,
          data: { host: h.label },
        });
      }
    }
    this.cli.set(h.label, cli);
    const profiles = this.o.spec.profiles ?? [];
    return { cli, files: remoteComposeFiles(this.o.spec.dir, this.o.spec.files), project: this.project, ...(profiles.length ? { profiles } : {}) };
  }

  private variables(release: Pick<ReleaseSpec, 'env' | 'version' | 'services'> & { commit: string }): Record<string, string> {
    const vars = composeVariables({ env: release.env, version: release.version, versionVariable: this.o.spec.versionVariable, services: release.services, tag: this.tagOf(release) });
    if (this.o.spec.dockerHost) vars.DOCKER_HOST = this.o.spec.dockerHost;
    return vars;
  }

  private versionVariables(release: ReleaseRef): Record<string, string> {
    return { SHIPGATE_VERSION: release.version, [this.o.spec.versionVariable]: this.tagOf(release) };
  }

  /** The release's value of versionVariable (target.images.tag). */
  private tagOf(release: { version: string; commit: string }): string {
    return releaseTag(this.o.spec.images?.tag ?? '{version}', release);
  }

  private composeDisplay(version: string, argv: Argv): string {
    return `${this.o.spec.versionVariable}=${version} ${describeArgv(argv)}`;
  }

  /** A plain docker command on the host's engine (`DOCKER_HOST` from target.dockerHost when set). */
  private engine(env: string, h: Host, argv: Argv, timeoutMs: number, stream = false): Promise<RunResult> {
    const remote = this.o.spec.dockerHost ? withEnv({ DOCKER_HOST: this.o.spec.dockerHost }, argv) : argv;
    return this.exec(env, h, remote, { display: describeArgv(argv), timeoutMs, stream });
  }

  private async lines(env: string, h: Host, argv: Argv): Promise<string[]> {
    const res = await this.engine(env, h, argv, TIMEOUTS.other);
    return res.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  private async existingImages(env: string, h: Host, refs: string[]): Promise<Set<string>> {
    if (!refs.length) return new Set();
    return parseImageList((await this.engine(env, h, dockerCommands.imageList(refs), TIMEOUTS.other)).stdout);
  }

  /** Runs a remote command; throws a ShipgateError naming the host when it fails. */
  private async exec(env: string, h: Host, remote: Argv, call: RemoteCall): Promise<RunResult> {
    const res = await this.run(env, h, remote, call);
    if (res.exitCode !== 0) throw this.commandError(h, res, call.display);
    return res;
  }

  private async run(env: string, h: Host, remote: Argv, call: RemoteCall): Promise<RunResult> {
    mkdirSync(path.dirname(this.o.layout.knownHosts), { recursive: true });
    const argv = sshArgv(h, this.o.layout.knownHosts, remote);
    let streamed = false;
    const onLine = call.stream
      ? (line: string) => {
          streamed = true;
          this.output(env, h, line);
        }
      : undefined;
    const options: StreamRunOptions = { timeoutMs: call.timeoutMs, ...(onLine ? { onLine } : {}) };
    const started = Date.now();
    const res = await this.o.runner.run(argv, options);
    this.log(env, { host: h.label, cmd: call.display, exitCode: res.exitCode, ms: Date.now() - started });
    // A runner that cannot stream (tests, localRunner): the output is passed on when it ends.
    if (call.stream && !streamed) for (const line of `${res.stdout}${res.stderr}`.split('\n').filter(Boolean)) this.output(env, h, line);
    return res;
  }

  private commandError(h: Host, res: RunResult, display: string): ShipgateError {
    const output = lastLines(res.stderr) || lastLines(res.stdout) || 'no output';
    const data = { host: h.label, command: display, exitCode: res.exitCode };
    if (res.exitCode === SSH_FAILED) {
      return failed(`ssh to host ${h.label} failed (exit 255: connection refused, lost or not allowed) running \`${display}\`: ${output}`, { hint: this.sshHint(h, res.stderr), data });
    }
    if (res.exitCode === 127 && res.argv[0] === 'ssh' && /ENOENT|spawn ssh/.test(res.stderr)) {
      return failed('the ssh client is not installed here', { hint: 'Install it (Debian: apt-get install openssh-client).', data });
    }
    return failed(`on host ${h.label}: \`${display}\` failed (exit ${res.exitCode}): ${output}`, { hint: this.commandHint(h, res), data });
  }

  private commandHint(h: Host, res: RunResult): string {
    const { dir, remote } = this.o.spec;
    const text = `${res.stderr}\n${res.stdout}`;
    if (/cannot change to|not a git repository/i.test(text)) {
      return `${h.label} has no checkout at ${dir}: clone the stack's repository there once (git clone <url> ${dir}), with the remote "${remote}" shipgate fetches.`;
    }
    if (/reference is not a tree|unable to read tree|did not match any|bad object/i.test(text)) {
      return `The release's commit is not in ${h.label}'s checkout even after fetching "${remote}": push the tag to the repository that remote points at (git -C ${dir} remote get-url ${remote} on the host).`;
    }
    if (/Cannot connect to the Docker daemon|Couldn't connect to Docker daemon|Is the docker daemon running/i.test(text)) {
      return `The Docker engine on ${h.label} does not answer${this.o.spec.dockerHost ? ` at ${this.o.spec.dockerHost}` : ''}: start it there, or set target.dockerHost in shipgate.yml.`;
    }
    return `Run it on the host to see the whole output (ssh -p ${h.port} ${h.user}@${h.host}, in ${dir}); shipgate's command log is .shipgate/ssh/<env>.commands.log.`;
  }

  private sshHint(h: Host, stderr: string): string {
    const check = `ssh -i ${h.keyFile} -p ${h.port} ${h.user}@${h.host} true`;
    if (/Permission denied|Too many authentication failures/i.test(stderr)) {
      return `${h.user}@${h.host} refused the key ${h.keyFile}: add its public key to the user's authorized_keys on the host, then check with \`${check}\`.`;
    }
    if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/i.test(stderr)) {
      return `The host key of ${h.label} is not the one pinned in ${this.o.layout.knownHosts}. If the host was rebuilt on purpose, remove the old key (ssh-keygen -R '[${h.host}]:${h.port}' -f ${this.o.layout.knownHosts}); otherwise find out who answers there before deploying.`;
    }
    return `Check that ${h.label} is up and its sshd answers: \`${check}\`. The step failed and the deployment with it; every step is idempotent, so once the host answers, deploy the same version again to finish.`;
  }

  private output(env: string, h: Host, line: string): void {
    this.o.progress?.info(`[${h.label}] ${line}`);
    this.append(this.o.layout.outputLog(env), `${this.clock().toISOString()} ${h.label} | ${line}\n`);
  }

  private note(env: string, note: string): void {
    this.log(env, { note });
  }

  private log(env: string, entry: Record<string, unknown>): void {
    this.append(this.o.layout.commandLog(env), `${JSON.stringify({ at: this.clock().toISOString(), ...entry })}\n`);
  }

  private append(file: string, text: string): void {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      appendFileSync(file, text);
    } catch {
      /* logs are for people; never fail a deploy over them */
    }
  }

  // ---- state

  readState(env: string): SshEnvState {
    const file = this.o.layout.stateFile(env);
    const empty: SshEnvState = { project: this.project, hosts: {} };
    if (!existsSync(file)) return empty;
    const state = { ...empty, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<SshEnvState>) };
    for (const hs of Object.values(state.hosts)) hs.built ??= [];
    return state;
  }

  /** Read, change, write: synchronous, so hosts of one batch never lose each other's changes. */
  private update(env: string, change: (state: SshEnvState) => unknown): void {
    const state = this.readState(env);
    change(state);
    this.writeState(env, state);
  }

  private writeState(env: string, state: SshEnvState): void {
    const file = this.o.layout.stateFile(env);
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2));
    renameSync(tmp, file);
  }
}

function hostState(state: SshEnvState, label: string): HostState {
  return (state.hosts[label] ??= { running: false, built: [] });
}

/** The release a host was last started with, if any. */
function startedRef(hs: HostState | undefined): ReleaseRef | null {
  return hs?.version && hs.commit ? { version: hs.version, commit: hs.commit } : null;
}

function lastLines(text: string, count = STDERR_LINES): string {
  return text.trim().split('\n').slice(-count).join('\n').trim();
}
