// What every ssh operation shares: the hosts, the remote compose CLI and variables, remote commands
// through the local ssh client and the one runner (with the command and output logs), the state file.

import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { SshTargetSpec } from '../../../config/schema.js';
import { failed } from '../../../core/errors.js';
import { describeArgv, type Argv, type RunOptions, type RunResult, type Runner } from '../../runner/runner.js';
import { composeCommands, defaultProjectName, dockerCommands, type ComposeCli, type ComposeInvocation } from '../compose/commands.js';
import { releaseTag } from '../compose/images.js';
import { parseImageList, type ComposeServiceStatus } from '../compose/parse.js';
import { composeVariables } from '../compose/variables.js';
import type { ReleaseSpec } from '../target.js';
import { hostLabel, remoteComposeFiles, sshArgv, withEnv, type Host } from './commands.js';
import { commandError, SSH_FAILED } from './hints.js';
import { readSshState, writeSshState, type ReleaseRef, type SshEnvState, type SshLayout } from './state.js';
import { ControlMasters, type MultiplexOptions } from './masters.js';

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
  /** Runs the local ssh client; the runner hands output over line by line. */
  runner: Runner;
  progress?: OutputSink;
  clock?: () => Date;
  /** One ssh connection per host for the whole command; without it, each remote command connects anew. */
  multiplex?: MultiplexOptions;
}

export type { Host } from './commands.js';

export interface RemoteCall {
  /** Shown in errors and the command log instead of the whole argv (e.g. without the env prefix). */
  display: string;
  timeoutMs: number;
  /** Stream the output to the output log and progress (commands that change something). */
  stream?: boolean;
}

// Builds of real stacks take long; everything else is quick or broken.
export const TIMEOUTS = { fetch: 10 * 60_000, build: 60 * 60_000, pull: 30 * 60_000, up: 10 * 60_000, down: 5 * 60_000, other: 2 * 60_000 };

export class SshSession {
  readonly clock: () => Date;
  readonly hosts: Host[];
  readonly cli = new Map<string, ComposeCli>();
  private readonly masters: ControlMasters | undefined;

  constructor(readonly o: SshTargetOptions) {
    this.clock = o.clock ?? (() => new Date());
    this.masters = o.multiplex ? new ControlMasters(o.multiplex, o.runner) : undefined;
    this.hosts = o.spec.hosts.map((h) => ({ ...h, label: hostLabel(h) }));
    const labels = this.hosts.map((h) => h.label);
    const twice = labels.find((l, i) => labels.indexOf(l) !== i);
    if (twice) throw failed(`host ${twice} is listed twice in the ssh target of ${o.envName}`, { hint: 'List each host once under target.hosts.' });
  }

  get project(): string {
    return this.o.spec.project ?? defaultProjectName(this.o.projectName, this.o.envName);
  }

  /** The compose CLI on the host: configured, else `docker-compose` (v1) when it answers, else `docker compose`. */
  async invocation(env: string, h: Host): Promise<ComposeInvocation> {
    let cli = this.cli.get(h.label) ?? (this.o.spec.cli === 'docker-compose' ? 'v1' : this.o.spec.cli === 'docker compose' ? 'v2' : undefined);
    if (!cli) {
      for (const candidate of ['v1', 'v2'] as const) {
        const res = await this.run(env, h, composeCommands.version(candidate), { display: describeArgv(composeCommands.version(candidate)), timeoutMs: TIMEOUTS.other });
        if (res.exitCode === SSH_FAILED) throw commandError(this, h, res, describeArgv(composeCommands.version(candidate)));
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

  variables(release: Pick<ReleaseSpec, 'env' | 'version' | 'services'> & { commit: string }): Record<string, string> {
    const vars = composeVariables({ env: release.env, version: release.version, versionVariable: this.o.spec.versionVariable, services: release.services, tag: this.tagOf(release) });
    if (this.o.spec.dockerHost) vars.DOCKER_HOST = this.o.spec.dockerHost;
    return vars;
  }

  versionVariables(release: ReleaseRef): Record<string, string> {
    return { SHIPGATE_VERSION: release.version, [this.o.spec.versionVariable]: this.tagOf(release) };
  }

  /** The release's value of versionVariable (target.images.tag). */
  tagOf(release: { version: string; commit: string }): string {
    return releaseTag(this.o.spec.images?.tag ?? '{version}', release);
  }

  composeDisplay(version: string, argv: Argv): string {
    return `${this.o.spec.versionVariable}=${version} ${describeArgv(argv)}`;
  }

  /** A plain docker command on the host's engine (`DOCKER_HOST` from target.dockerHost when set). */
  engine(env: string, h: Host, argv: Argv, timeoutMs: number, stream = false): Promise<RunResult> {
    const remote = this.o.spec.dockerHost ? withEnv({ DOCKER_HOST: this.o.spec.dockerHost }, argv) : argv;
    return this.exec(env, h, remote, { display: describeArgv(argv), timeoutMs, stream });
  }

  async lines(env: string, h: Host, argv: Argv): Promise<string[]> {
    const res = await this.engine(env, h, argv, TIMEOUTS.other);
    return res.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  async existingImages(env: string, h: Host, refs: string[]): Promise<Set<string>> {
    if (!refs.length) return new Set();
    return parseImageList((await this.engine(env, h, dockerCommands.imageList(refs), TIMEOUTS.other)).stdout);
  }

  /** Runs a remote command; throws a ShipgateError naming the host when it fails. */
  async exec(env: string, h: Host, remote: Argv, call: RemoteCall): Promise<RunResult> {
    const res = await this.run(env, h, remote, call);
    if (res.exitCode !== 0) throw commandError(this, h, res, call.display);
    return res;
  }

  async run(env: string, h: Host, remote: Argv, call: RemoteCall): Promise<RunResult> {
    mkdirSync(path.dirname(this.o.layout.knownHosts), { recursive: true });
    const argv = sshArgv(h, this.o.layout.knownHosts, remote, this.masters?.for(h));
    let streamed = false;
    const onLine = call.stream
      ? (line: string) => {
          streamed = true;
          this.output(env, h, line);
        }
      : undefined;
    const options: RunOptions = { timeoutMs: call.timeoutMs, ...(onLine ? { onLine } : {}) };
    const started = Date.now();
    const res = await this.o.runner.run(argv, options);
    this.log(env, { host: h.label, cmd: call.display, exitCode: res.exitCode, ms: Date.now() - started });
    // A runner that cannot stream (tests, localRunner): the output is passed on when it ends.
    if (call.stream && !streamed) for (const line of `${res.stdout}${res.stderr}`.split('\n').filter(Boolean)) this.output(env, h, line);
    return res;
  }

  output(env: string, h: Host, line: string): void {
    this.o.progress?.info(`[${h.label}] ${line}`);
    this.append(this.o.layout.outputLog(env), `${this.clock().toISOString()} ${h.label} | ${line}\n`);
  }

  note(env: string, note: string): void {
    this.log(env, { note });
  }

  log(env: string, entry: Record<string, unknown>): void {
    this.append(this.o.layout.commandLog(env), `${JSON.stringify({ at: this.clock().toISOString(), ...entry })}\n`);
  }

  append(file: string, text: string): void {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      appendFileSync(file, text);
    } catch {
      /* logs are for people; never fail a deploy over them */
    }
  }

  readState(env: string): SshEnvState {
    return readSshState(this.o.layout.stateFile(env), this.project);
  }

  /** Read, change, write: synchronous, so hosts of one batch never lose each other's changes. */
  update(env: string, change: (state: SshEnvState) => unknown): void {
    const state = this.readState(env);
    change(state);
    this.writeState(env, state);
  }

  writeState(env: string, state: SshEnvState): void {
    writeSshState(this.o.layout.stateFile(env), state);
  }
}
