// What every compose operation shares: the options, the contexts commands run in, the one runner
// (with the command log), the state file and the engine's image list.

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ComposeTargetSpec } from '../../../config/schema.js';
import { failed } from '../../../core/errors.js';
import { describeArgv, type Argv, type RunResult, type Runner } from '../../runner/runner.js';
import type { GitRepository } from '../../vcs/git.js';
import type { ReleaseSpec } from '../target.js';
import { composeCommands, composeFiles, defaultProjectName, dockerCommands, type ComposeCli, type ComposeInvocation } from './commands.js';
import type { CommandContext } from './command-context.js';
import { configKey } from './compare.js';
import { detectComposeCli } from './detect.js';
import { filesForV1 } from './flatten.js';
import { hintFor, lastLines } from './hints.js';
import { releaseTag } from './images.js';
import { parseImageList, type ComposeService } from './parse.js';
import { readAllComposeStates, readComposeState, writeComposeState, type ComposeEnvState, type ComposeLayout } from './state.js';
import { commandEnvironment, composeVariables } from './variables.js';
import { appendCommandLog } from '../command-log.js';

export interface ComposeTargetOptions {
  envName: string;
  spec: ComposeTargetSpec;
  /** `project` from shipgate.yml, for the default compose project name `<project>_<env>`. */
  projectName: string;
  layout: ComposeLayout;
  repo: GitRepository;
  runner: Runner;
  parentEnv?: NodeJS.ProcessEnv;
  clock?: () => Date;
}

export interface Prepared {
  services: ComposeService[];
  present: Set<string>;
}

export type { CommandContext } from './command-context.js';

// Builds of real stacks take long; everything else is quick or broken.
export const TIMEOUTS = { build: 60 * 60_000, pull: 30 * 60_000, up: 10 * 60_000, down: 5 * 60_000, other: 2 * 60_000 };

export class ComposeSession {
  cli: ComposeCli | undefined;
  readonly parentEnv: NodeJS.ProcessEnv;
  readonly clock: () => Date;
  /** Image check of a release by this process (prepare then up), keyed by checkout dir. */
  readonly prepared = new Map<string, Prepared>();

  constructor(readonly o: ComposeTargetOptions) {
    this.parentEnv = o.parentEnv ?? process.env;
    this.clock = o.clock ?? (() => new Date());
  }

  get project(): string {
    return this.o.spec.project ?? defaultProjectName(this.o.projectName, this.o.envName);
  }

  files(dir: string, version: string): string[] {
    const files = composeFiles(dir, this.o.spec.files);
    const absent = files.filter((f) => !existsSync(f));
    if (absent.length) {
      throw failed(`release ${version} has no ${absent.map((f) => path.relative(dir, f)).join(', ')}`, {
        hint: 'Add the compose file to the release, or list the right ones in target.files in shipgate.yml.',
      });
    }
    return files;
  }

  async context(release: ReleaseSpec, dir: string, files: string[]): Promise<CommandContext> {
    const tag = this.tagOf(release);
    const variables = composeVariables({ env: release.env, version: release.version, versionVariable: this.o.spec.versionVariable, services: release.services, tag });
    const passEnv = [...new Set(release.services.flatMap((s) => s.passEnv))];
    const env = commandEnvironment(this.parentEnv, variables, passEnv, this.o.spec.dockerHost);
    const cli = await this.detect(env);
    // v1 cannot nest defaults (${A:-${B:-x}}): it gets a copy with those resolved.
    const given = cli === 'v1' ? filesForV1(files, env) : files;
    return { inv: { cli, files: given, project: this.project, ...this.profileOption() }, cwd: dir, env, variables, passEnv, display: `${this.o.spec.versionVariable}=${tag} ` };
  }

  get profiles(): string[] {
    return this.o.spec.profiles ?? [];
  }

  /** Only when set, so the invocation (and the config cache key) of a stack without profiles stays as it was. */
  profileOption(): { profiles?: string[] } {
    return this.profiles.length ? { profiles: this.profiles } : {};
  }

  tagOf(release: { version: string; commit: string }): string {
    return releaseTag(this.o.spec.images?.tag ?? '{version}', release);
  }

  storedContext(state: ComposeEnvState): CommandContext {
    const env = commandEnvironment(this.parentEnv, state.variables, state.passEnv, this.o.spec.dockerHost);
    const version = state.variables[this.o.spec.versionVariable];
    return { inv: { cli: state.cli, files: state.files, project: state.project, ...this.profileOption() }, cwd: state.dir, env, variables: state.variables, passEnv: state.passEnv, display: version ? `${this.o.spec.versionVariable}=${version} ` : '' };
  }

  /** For plain `docker` commands: only what finds the engine. */
  engineContext(): CommandContext {
    const env = commandEnvironment(this.parentEnv, {}, [], this.o.spec.dockerHost);
    return { inv: { cli: 'v1', files: [], project: this.project }, cwd: undefined, env, variables: {}, passEnv: [], display: '' };
  }

  async detect(env: Record<string, string>): Promise<ComposeCli> {
    this.cli ??= await detectComposeCli(this.o.spec.cli, this.o.runner, env);
    return this.cli;
  }

  /** The release's services from `compose config` (or its cached answer), and which of their images exist. */
  async inspectRelease(ctx: CommandContext, cached?: ComposeService[]): Promise<Prepared> {
    const services = cached ?? (await import('./config-output.js')).parseComposeConfig((await this.exec(this.o.envName, composeCommands.config(ctx.inv), ctx, TIMEOUTS.other)).stdout);
    const refs = services.map((s) => s.image).filter((i): i is string => i !== undefined);
    return { services, present: await this.existingImages(refs) };
  }

  async existingImages(refs: string[]): Promise<Set<string>> {
    if (!refs.length) return new Set();
    const res = await this.exec(this.o.envName, dockerCommands.imageList(refs), this.engineContext(), TIMEOUTS.other);
    return parseImageList(res.stdout);
  }

  containerIds(env: string, project: string): Promise<string[]> {
    return this.lines(env, dockerCommands.projectContainers(project));
  }

  async lines(env: string, argv: Argv): Promise<string[]> {
    const res = await this.exec(env, argv, this.engineContext(), TIMEOUTS.other);
    return res.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  /** The services `compose config` gave for this commit and these variables when it last started here. */
  cachedConfig(release: ReleaseSpec): ComposeService[] | undefined {
    const key = configKey({ variables: composeVariables({ env: release.env, version: release.version, versionVariable: this.o.spec.versionVariable, services: release.services, tag: this.tagOf(release) }), inv: { cli: this.cli ?? 'v1', files: composeFiles(this.o.layout.releaseDir(release.env, release.version), this.o.spec.files), project: this.project, ...this.profileOption() } });
    const hit = this.readState(release.env).releases.find((r) => r.version === release.version && r.commit === release.commit && r.configKey === key);
    return hit?.services;
  }

  /** Runs a command and throws a ShipgateError (exit 1) naming it when it fails. */
  async exec(env: string, argv: Argv, ctx: CommandContext, timeoutMs: number): Promise<RunResult> {
    const res = await this.run(env, argv, ctx, timeoutMs);
    if (res.exitCode === 0) return res;
    const shown = `${ctx.display}${describeArgv(argv)}`;
    throw failed(`\`${shown}\` failed (exit ${res.exitCode}): ${lastLines(res.stderr) || lastLines(res.stdout) || 'no output'}`, {
      hint: hintFor(res, ctx),
      data: { command: argv, exitCode: res.exitCode, cwd: ctx.cwd },
    });
  }

  async run(env: string, argv: Argv, ctx: CommandContext, timeoutMs: number): Promise<RunResult> {
    const started = Date.now();
    const res = await this.o.runner.run(argv, { ...(ctx.cwd ? { cwd: ctx.cwd } : {}), env: ctx.env, timeoutMs });
    this.log(env, { cmd: `${ctx.display}${describeArgv(argv)}`, exitCode: res.exitCode, ms: Date.now() - started });
    return res;
  }

  note(env: string, note: string): void {
    this.log(env, { note });
  }

  log(env: string, entry: Record<string, unknown>): void {
    appendCommandLog(this.o.layout.commandLog(env), this.clock(), entry);
  }

  readState(env: string): ComposeEnvState {
    const empty: ComposeEnvState = { version: undefined, commit: undefined, dir: undefined, files: [], project: this.project, cli: this.cli ?? 'v1', variables: {}, passEnv: [], services: [], releases: [] };
    return readComposeState(this.o.layout.stateFile(env), empty);
  }

  allStates(): ComposeEnvState[] {
    return readAllComposeStates(this.o.layout.stateRoot());
  }

  writeState(env: string, state: ComposeEnvState): void {
    writeComposeState(this.o.layout.stateFile(env), state);
  }
}
