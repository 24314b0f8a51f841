import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ComposeTargetSpec } from '../../../config/schema.js';
import { isInfrastructureImage } from '../../../config/compose/infrastructure.js';
import { failed, refused } from '../../../core/errors.js';
import { describeArgv, type Argv, type RunResult, type Runner } from '../../runner/runner.js';
import type { GitRepository } from '../../vcs/git.js';
import { startMarker, type ImageCheck, type ReleaseSpec, type ServiceLogs, type Target } from '../target.js';
import { composeCommands, composeFiles, defaultProjectName, dockerCommands, type ComposeCli, type ComposeInvocation } from './commands.js';
import { detectComposeCli } from './detect.js';
import { filesForV1 } from './flatten.js';
import { floatingImages, floatingImagesHint, floatingImagesMessage, releaseTag, type PinPolicy } from './images.js';
import { activeServices, parseComposeConfig, parseImageList, parseInspect, plainLogLines, splitPrefixedLogs, normalizeImageRef, type ComposeService, type ComposeServiceStatus } from './parse.js';
import { commandEnvironment, composeVariables } from './variables.js';

/** Where the compose target keeps its files under the state dir. */
export interface ComposeLayout {
  /** The release checkout the compose files are read from (same place as the process target's). */
  releaseDir(env: string, version: string): string;
  stateFile(env: string): string;
  /** One JSON line per command run (argv, exit code, duration) and per decision (build skipped). */
  commandLog(env: string): string;
  /** Directory holding every environment's state file (for images other environments keep). */
  stateRoot(): string;
}

export function composeLayout(stateDir: string): ComposeLayout {
  return {
    releaseDir: (env, version) => path.join(stateDir, 'releases', env, version),
    stateFile: (env) => path.join(stateDir, 'compose', `${env}.json`),
    commandLog: (env) => path.join(stateDir, 'compose', `${env}.commands.log`),
    stateRoot: () => path.join(stateDir, 'compose'),
  };
}

interface ReleaseImages {
  version: string;
  commit: string;
  images: string[];
  at: string;
  /** `compose config` of this commit with these variables (`configKey`): not asked again on a rollback. */
  configKey?: string;
  services?: ComposeService[];
}

interface ComposeEnvState {
  /** What runs now; undefined after `down`. */
  version: string | undefined;
  commit: string | undefined;
  /** Checkout, files, project and variables of the last `up`, so down/logs/restart find it. */
  dir: string | undefined;
  files: string[];
  project: string;
  cli: ComposeCli;
  variables: Record<string, string>;
  /** Names only: values are read from shipgate's environment on every command. */
  passEnv: string[];
  services: { name: string; port: number | undefined }[];
  /** Longest `stop_grace_period` of the running release: how long `down` lets services stop. */
  stopGraceSeconds?: number;
  /** Releases started here, least recently started first: the last `keepReleases` keep their images. */
  releases: ReleaseImages[];
  lastPrune?: { at: string; removed: string[]; error?: string };
}

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

interface Prepared {
  services: ComposeService[];
  present: Set<string>;
}

// Builds of real stacks take long; everything else is quick or broken.
const TIMEOUTS = { build: 60 * 60_000, pull: 30 * 60_000, up: 10 * 60_000, down: 5 * 60_000, other: 2 * 60_000 };
const STDERR_LINES = 15;

/**
 * Runs an environment as a docker-compose project: one checkout per release, images tagged
 * with the release version (through `versionVariable`), so a rollback starts images that are
 * already there instead of rebuilding them.
 */
export class ComposeTarget implements Target {
  private cli: ComposeCli | undefined;
  private readonly parentEnv: NodeJS.ProcessEnv;
  private readonly clock: () => Date;
  /** Image check of a release by this process (prepare then up), keyed by checkout dir. */
  private readonly prepared = new Map<string, Prepared>();

  constructor(private readonly o: ComposeTargetOptions) {
    this.parentEnv = o.parentEnv ?? process.env;
    this.clock = o.clock ?? (() => new Date());
  }

  get project(): string {
    return this.o.spec.project ?? defaultProjectName(this.o.projectName, this.o.envName);
  }

  /** Checks the release out and makes its images exist: built (or pulled) once, reused after. */
  async prepare(release: ReleaseSpec): Promise<void> {
    const dir = this.o.layout.releaseDir(release.env, release.version);
    mkdirSync(path.dirname(dir), { recursive: true });
    await this.o.repo.checkout(dir, release.commit);
    const files = this.files(dir, release.version);
    const ctx = await this.context(release, dir, files);
    const { services, present } = await this.inspectRelease(ctx, this.cachedConfig(release));
    this.refuseFloatingImages(release, services);
    const missing = (s: ComposeService) => s.image === undefined || !present.has(normalizeImageRef(s.image));
    // A version's images are reused only when built from the same commit (a moved tag rebuilds).
    const builtFrom = this.builtCommit(release.version);
    const stale = builtFrom !== undefined && builtFrom !== release.commit;
    if (stale) this.note(release.env, `images of ${release.version} were built from ${builtFrom}, the version now names ${release.commit}: not reused`);
    let changed = false;
    if (this.o.spec.pull) {
      // Pulled instead of built (target.pull): every service whose image is missing.
      const toPull = services.filter((s) => stale || missing(s)).map((s) => s.name);
      if (toPull.length) {
        await this.exec(release.env, composeCommands.pull(ctx.inv, toPull), ctx, TIMEOUTS.pull);
        changed = true;
      } else this.note(release.env, `images of ${release.version} exist: pull skipped`);
    } else if (this.o.spec.build) {
      const buildable = services.filter((s) => s.buildable);
      const toBuild = buildable.filter((s) => stale || missing(s)).map((s) => s.name);
      if (toBuild.length) {
        await this.exec(release.env, composeCommands.build(ctx.inv, toBuild), ctx, TIMEOUTS.build);
        changed = true;
      } else if (buildable.length) this.note(release.env, `images of ${release.version} exist: build skipped`);
    }
    // What `up` needs to know (the images are listed again when a build or pull changed them).
    const ready = changed ? await this.inspectRelease(ctx, services) : { services, present };
    this.refuseMissingImages(release, ready);
    this.prepared.set(dir, ready);
  }

  /** Stops what shipgate started in the environment (`shipgate stop`): the same as `down`. */
  async stop(env: string): Promise<void> {
    await this.down(env);
  }

  /**
   * For a service whose health answer does not report its release (`version: ignore`): whether
   * each of the release's containers runs the image this release's compose config names.
   */
  async releaseImageCheck(release: ReleaseSpec): Promise<ReleaseImageCheck[]> {
    const dir = this.o.layout.releaseDir(release.env, release.version);
    const ctx = await this.context(release, dir, this.files(dir, release.version));
    const prepared = this.prepared.get(dir) ?? (await this.inspectRelease(ctx, this.cachedConfig(release)));
    return compareReleaseImages(activeServices(prepared.services, this.profiles), await this.ps(release.env));
  }

  /** For services whose health does not report their release (`version: ignore`): their containers run its image. */
  async verifyImages(release: ReleaseSpec, services: string[]): Promise<ImageCheck[]> {
    const wanted = new Set(services);
    return (await this.releaseImageCheck(release)).filter((c) => wanted.has(c.service)).map(({ service, ok, detail }) => ({ service, ok, detail }));
  }

  async up(release: ReleaseSpec): Promise<void> {
    const dir = this.o.layout.releaseDir(release.env, release.version);
    if (!existsSync(dir)) throw failed(`the checkout of ${release.version} is missing at ${dir}`, { hint: 'Run the prepare step again: resume the deployment or deploy the version again.' });
    const files = this.files(dir, release.version);
    const ctx = await this.context(release, dir, files);
    const prepared = this.prepared.get(dir) ?? (await this.inspectRelease(ctx, this.cachedConfig(release)));
    // Images that exist are never rebuilt (a rollback); with `build: false` compose never builds.
    const noBuild = !this.o.spec.build || this.o.spec.pull || prepared.services.filter((s) => s.buildable).every((s) => s.image !== undefined && prepared.present.has(normalizeImageRef(s.image)));
    const state = this.readState(release.env);
    // Recorded before starting, so `down` can find the project even if `up` dies half-way.
    const next: ComposeEnvState = {
      ...state,
      version: release.version,
      commit: release.commit,
      dir,
      files,
      project: ctx.inv.project,
      cli: ctx.inv.cli,
      variables: ctx.variables,
      passEnv: ctx.passEnv,
      services: release.services.map((s) => ({ name: s.name, port: s.port })),
      stopGraceSeconds: maxGrace(prepared.services),
    };
    this.writeState(release.env, next);
    await this.exec(release.env, composeCommands.up(ctx.inv, { noBuild }), ctx, TIMEOUTS.up);
    const images = prepared.services.map((s) => s.image).filter((i): i is string => i !== undefined);
    next.releases = [...next.releases.filter((r) => r.version !== release.version), { version: release.version, commit: release.commit, images, at: this.clock().toISOString(), configKey: configKey(ctx), services: prepared.services }];
    this.writeState(release.env, next);
    await this.prune(release.env, next, ctx);
  }

  /** Stops and removes the project's containers and networks, found by label (see dockerCommands.stopContainers). */
  async down(env: string): Promise<void> {
    const state = this.readState(env);
    const engine = this.engineContext();
    const running = await this.lines(env, dockerCommands.runningContainers(state.project));
    if (running.length) await this.exec(env, dockerCommands.stopContainers(running, state.stopGraceSeconds), engine, TIMEOUTS.down);
    const all = await this.containerIds(env, state.project);
    if (all.length) await this.exec(env, dockerCommands.removeContainers(all), engine, TIMEOUTS.down);
    const networks = await this.lines(env, dockerCommands.projectNetworks(state.project));
    if (networks.length) await this.exec(env, dockerCommands.removeNetworks(networks), engine, TIMEOUTS.other);
    if (existsSync(this.o.layout.stateFile(env))) this.writeState(env, { ...state, version: undefined });
  }

  async ps(env: string): Promise<ComposeServiceStatus[]> {
    const state = this.readState(env);
    const ids = await this.containerIds(env, state.project);
    if (!ids.length) return [];
    const res = await this.exec(env, dockerCommands.inspect(ids), this.engineContext(), TIMEOUTS.other);
    return parseInspect(res.stdout, {
      version: state.version,
      ports: Object.fromEntries(state.services.map((s) => [s.name, s.port])),
      order: state.services.map((s) => s.name),
    });
  }

  async logs(env: string, service: string | undefined, tail: number): Promise<ServiceLogs[]> {
    const state = this.readState(env);
    const names = service ? [service] : state.services.map((s) => s.name);
    if (!state.dir || !existsSync(state.dir)) return names.map((name) => ({ service: name, lines: [] }));
    const ctx = this.storedContext(state);
    const res = await this.exec(env, composeCommands.logs(ctx.inv, tail, service), ctx, TIMEOUTS.other);
    const byService = service ? new Map([[service, plainLogLines(res.stdout)]]) : splitPrefixedLogs(res.stdout, names);
    const containers = state.version ? await this.ps(env) : [];
    return names.map((name) => {
      const lines = (byService.get(name) ?? []).slice(-tail);
      // Container logs hold one release only; the marker says so to readers that look for it
      // (the monitor), when the whole log fits in the tail and so really starts here.
      const c = containers.find((x) => x.service === name);
      if (c?.startedAt && state.version && lines.length < tail) lines.unshift(`${startMarker(name, state.version)} at ${c.startedAt}`);
      return { service: name, lines };
    });
  }

  async restart(env: string, service: string): Promise<void> {
    const state = this.readState(env);
    if (!state.dir || !state.version || !existsSync(state.dir)) {
      throw failed(`service ${service} has never been started in ${env}`, { hint: `Deploy first: shipgate deploy ${env} --version <tag>.` });
    }
    const ctx = this.storedContext(state);
    const exists = (await this.ps(env)).some((s) => s.service === service);
    await this.exec(env, exists ? composeCommands.restart(ctx.inv, service) : composeCommands.upService(ctx.inv, service), ctx, TIMEOUTS.up);
  }

  /** For `diagnose`: what a person would look at (runbook: logs, `docker-compose config`, `docker images`). */
  async diagnose(env: string): Promise<ComposeDiagnosis> {
    const state = this.readState(env);
    const services = await this.ps(env).catch(() => []);
    const out: ComposeDiagnosis = { project: state.project, dir: state.dir, version: state.version, services, config: undefined, missingImages: [], logs: {} };
    if (!state.dir || !existsSync(state.dir)) return out;
    const ctx = this.storedContext(state);
    const res = await this.run(env, composeCommands.config(ctx.inv), ctx, TIMEOUTS.other);
    out.configCommand = `${ctx.display}${describeArgv(res.argv)}`;
    out.config = { ok: res.exitCode === 0, services: res.exitCode === 0 ? parseComposeConfig(res.stdout) : [], warnings: res.stderr.split('\n').filter((l) => /WARN/i.test(l)).map((l) => l.trim()), error: res.exitCode === 0 ? undefined : lastLines(res.stderr) };
    const images = out.config.services.map((s) => s.image).filter((i): i is string => i !== undefined);
    const present = await this.existingImages(images).catch(() => new Set<string>());
    out.missingImages = images.filter((i) => !present.has(normalizeImageRef(i)));
    for (const s of services.filter((x) => x.state !== 'running' || x.health === 'unhealthy')) {
      const logs = await this.run(env, composeCommands.logs(ctx.inv, 20, s.service), ctx, TIMEOUTS.other);
      out.logs[s.service] = logs.exitCode === 0 ? plainLogLines(logs.stdout) : [];
    }
    out.logsCommand = (service: string) => `${ctx.display}${describeArgv(composeCommands.logs(ctx.inv, 100, service))}`;
    return out;
  }

  // ---- internals

  private files(dir: string, version: string): string[] {
    const files = composeFiles(dir, this.o.spec.files);
    const absent = files.filter((f) => !existsSync(f));
    if (absent.length) {
      throw failed(`release ${version} has no ${absent.map((f) => path.relative(dir, f)).join(', ')}`, {
        hint: 'Add the compose file to the release, or list the right ones in target.files in shipgate.yml.',
      });
    }
    return files;
  }

  private async context(release: ReleaseSpec, dir: string, files: string[]): Promise<CommandContext> {
    const tag = this.tagOf(release);
    const variables = composeVariables({ env: release.env, version: release.version, versionVariable: this.o.spec.versionVariable, services: release.services, tag });
    const passEnv = [...new Set(release.services.flatMap((s) => s.passEnv))];
    const env = commandEnvironment(this.parentEnv, variables, passEnv, this.o.spec.dockerHost);
    const cli = await this.detect(env);
    // v1 cannot nest defaults (${A:-${B:-x}}): it gets a copy with those resolved.
    const given = cli === 'v1' ? filesForV1(files, env) : files;
    return { inv: { cli, files: given, project: this.project, ...this.profileOption() }, cwd: dir, env, variables, passEnv, display: `${this.o.spec.versionVariable}=${tag} ` };
  }

  private get profiles(): string[] {
    return this.o.spec.profiles ?? [];
  }

  /** Only when set, so the invocation (and the config cache key) of a stack without profiles stays as it was. */
  private profileOption(): { profiles?: string[] } {
    return this.profiles.length ? { profiles: this.profiles } : {};
  }

  private tagOf(release: { version: string; commit: string }): string {
    return releaseTag(this.o.spec.images?.tag ?? '{version}', release);
  }

  /**
   * Refuses (exit 3, before anything stops) a release whose own services run images that do not
   * change with the release: a later rollback to it would restart whatever the tag names then.
   * Infrastructure (target.dependencies, or recognised by image) is not part of the release.
   */
  private refuseFloatingImages(release: ReleaseSpec, services: ComposeService[]): void {
    if (this.o.spec.allowFloatingImages) return;
    const policy = this.pinPolicy(release);
    const floating = floatingImages(activeServices(services, this.profiles), policy);
    if (!floating.length) return;
    this.note(release.env, `refused: ${floatingImagesMessage(release.version, floating)}`);
    throw refused(floatingImagesMessage(release.version, floating), { hint: floatingImagesHint(policy), data: { floating } });
  }

  private pinPolicy(release: ReleaseSpec): PinPolicy {
    return { tag: this.tagOf(release), versionVariable: this.o.spec.versionVariable, template: this.o.spec.images?.tag ?? '{version}', dependencies: this.o.spec.dependencies ?? [], isInfrastructure: isInfrastructureImage };
  }

  /** Nothing stops until every image of the release is on the engine (built, pulled, or already there). */
  private refuseMissingImages(release: ReleaseSpec, ready: Prepared): void {
    const missing = activeServices(ready.services, this.profiles)
      .map((s) => s.image)
      .filter((i): i is string => i !== undefined && !ready.present.has(normalizeImageRef(i)));
    if (!missing.length) return;
    throw failed(`images of ${release.version} are not on the engine: ${missing.join(', ')}`, {
      hint: this.o.spec.pull || this.o.spec.build
        ? 'The build or pull did not produce them: check the image names in the compose file against target.images.tag.'
        : 'target.build and target.pull are both false: push/load these images first, or set pull: true to fetch them from the registry.',
      data: { missing },
    });
  }

  private storedContext(state: ComposeEnvState): CommandContext {
    const env = commandEnvironment(this.parentEnv, state.variables, state.passEnv, this.o.spec.dockerHost);
    const version = state.variables[this.o.spec.versionVariable];
    return { inv: { cli: state.cli, files: state.files, project: state.project, ...this.profileOption() }, cwd: state.dir, env, variables: state.variables, passEnv: state.passEnv, display: version ? `${this.o.spec.versionVariable}=${version} ` : '' };
  }

  /** For plain `docker` commands: only what finds the engine. */
  private engineContext(): CommandContext {
    const env = commandEnvironment(this.parentEnv, {}, [], this.o.spec.dockerHost);
    return { inv: { cli: 'v1', files: [], project: this.project }, cwd: undefined, env, variables: {}, passEnv: [], display: '' };
  }

  private async detect(env: Record<string, string>): Promise<ComposeCli> {
    this.cli ??= await detectComposeCli(this.o.spec.cli, this.o.runner, env);
    return this.cli;
  }

  /** The release's services from `compose config` (or its cached answer), and which of their images exist. */
  private async inspectRelease(ctx: CommandContext, cached?: ComposeService[]): Promise<Prepared> {
    const services = cached ?? parseComposeConfig((await this.exec(this.o.envName, composeCommands.config(ctx.inv), ctx, TIMEOUTS.other)).stdout);
    const refs = services.map((s) => s.image).filter((i): i is string => i !== undefined);
    return { services, present: await this.existingImages(refs) };
  }

  private async existingImages(refs: string[]): Promise<Set<string>> {
    if (!refs.length) return new Set();
    const res = await this.exec(this.o.envName, dockerCommands.imageList(refs), this.engineContext(), TIMEOUTS.other);
    return parseImageList(res.stdout);
  }

  private containerIds(env: string, project: string): Promise<string[]> {
    return this.lines(env, dockerCommands.projectContainers(project));
  }

  private async lines(env: string, argv: Argv): Promise<string[]> {
    const res = await this.exec(env, argv, this.engineContext(), TIMEOUTS.other);
    return res.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
  }

  /** The services `compose config` gave for this commit and these variables when it last started here. */
  private cachedConfig(release: ReleaseSpec): ComposeService[] | undefined {
    const key = configKey({ variables: composeVariables({ env: release.env, version: release.version, versionVariable: this.o.spec.versionVariable, services: release.services, tag: this.tagOf(release) }), inv: { cli: this.cli ?? 'v1', files: composeFiles(this.o.layout.releaseDir(release.env, release.version), this.o.spec.files), project: this.project, ...this.profileOption() } });
    const hit = this.readState(release.env).releases.find((r) => r.version === release.version && r.commit === release.commit && r.configKey === key);
    return hit?.services;
  }

  /** The commit a version's images were built from here, by any environment's record. */
  private builtCommit(version: string): string | undefined {
    for (const state of this.allStates()) {
      const r = state.releases.find((x) => x.version === version);
      if (r) return r.commit;
    }
    return undefined;
  }

  /**
   * Removes the images of releases older than the last `keepReleases` started here. Never
   * those of a release another environment keeps, nor those any container (running or not)
   * uses. A failure is recorded, not thrown: the deploy itself succeeded.
   */
  private async prune(env: string, state: ComposeEnvState, ctx: CommandContext): Promise<void> {
    const keep = this.o.spec.keepReleases;
    const { drop } = selectPrunable(state.releases, keep);
    if (!drop.length) return;
    const at = this.clock().toISOString();
    try {
      const others = this.allStates().filter((s) => s.project !== state.project).flatMap((s) => s.releases.slice(-keep));
      const inUse = await this.exec(env, dockerCommands.containerImages(), this.engineContext(), TIMEOUTS.other);
      const protectedRefs = new Set([...state.releases.slice(-keep), ...others].flatMap((r) => r.images).concat(inUse.stdout.split('\n').filter(Boolean)).map(normalizeImageRef));
      const candidates = [...new Set(drop.flatMap((r) => r.images))].filter((i) => !protectedRefs.has(normalizeImageRef(i)));
      const present = candidates.length ? await this.existingImages(candidates) : new Set<string>();
      const removable = candidates.filter((i) => present.has(normalizeImageRef(i)));
      let error: string | undefined;
      if (removable.length) {
        const res = await this.run(env, dockerCommands.imageRemove(removable), this.engineContext(), TIMEOUTS.other);
        if (res.exitCode !== 0) error = lastLines(res.stderr);
      }
      state.releases = state.releases.slice(-keep);
      state.lastPrune = { at, removed: removable, ...(error ? { error } : {}) };
    } catch (err) {
      state.lastPrune = { at, removed: [], error: (err as Error).message };
    }
    this.writeState(env, state);
  }

  /** Runs a command and throws a ShipgateError (exit 1) naming it when it fails. */
  private async exec(env: string, argv: Argv, ctx: CommandContext, timeoutMs: number): Promise<RunResult> {
    const res = await this.run(env, argv, ctx, timeoutMs);
    if (res.exitCode === 0) return res;
    const shown = `${ctx.display}${describeArgv(argv)}`;
    throw failed(`\`${shown}\` failed (exit ${res.exitCode}): ${lastLines(res.stderr) || lastLines(res.stdout) || 'no output'}`, {
      hint: hintFor(res, ctx),
      data: { command: argv, exitCode: res.exitCode, cwd: ctx.cwd },
    });
  }

  private async run(env: string, argv: Argv, ctx: CommandContext, timeoutMs: number): Promise<RunResult> {
    const started = Date.now();
    const res = await this.o.runner.run(argv, { ...(ctx.cwd ? { cwd: ctx.cwd } : {}), env: ctx.env, timeoutMs });
    this.log(env, { cmd: `${ctx.display}${describeArgv(argv)}`, exitCode: res.exitCode, ms: Date.now() - started });
    return res;
  }

  private note(env: string, note: string): void {
    this.log(env, { note });
  }

  private log(env: string, entry: Record<string, unknown>): void {
    try {
      const file = this.o.layout.commandLog(env);
      mkdirSync(path.dirname(file), { recursive: true });
      appendFileSync(file, `${JSON.stringify({ at: this.clock().toISOString(), ...entry })}\n`);
    } catch {
      /* the log is for people; never fail a deploy over it */
    }
  }

  private readState(env: string): ComposeEnvState {
    const file = this.o.layout.stateFile(env);
    const empty: ComposeEnvState = { version: undefined, commit: undefined, dir: undefined, files: [], project: this.project, cli: this.cli ?? 'v1', variables: {}, passEnv: [], services: [], releases: [] };
    if (!existsSync(file)) return empty;
    return { ...empty, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<ComposeEnvState>) };
  }

  private allStates(): ComposeEnvState[] {
    const root = this.o.layout.stateRoot();
    if (!existsSync(root)) return [];
    return readdirSync(root)
      .filter((f) => f.endsWith('.json'))
      .map((f) => {
        try {
          const s = JSON.parse(readFileSync(path.join(root, f), 'utf8')) as Partial<ComposeEnvState>;
          return { ...s, project: s.project ?? '', releases: s.releases ?? [] } as ComposeEnvState;
        } catch {
          return undefined;
        }
      })
      .filter((s): s is ComposeEnvState => s !== undefined);
  }

  private writeState(env: string, state: ComposeEnvState): void {
    const file = this.o.layout.stateFile(env);
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2));
    renameSync(tmp, file);
  }
}

export interface ComposeDiagnosis {
  project: string;
  dir: string | undefined;
  version: string | undefined;
  services: ComposeServiceStatus[];
  /** `compose config` of the running release: its services, the variable warnings, or its error. */
  config: { ok: boolean; services: ComposeService[]; warnings: string[]; error: string | undefined } | undefined;
  configCommand?: string;
  missingImages: string[];
  /** Last lines of each stopped or unhealthy service. */
  logs: Record<string, string[]>;
  logsCommand?: (service: string) => string;
}

interface CommandContext {
  inv: ComposeInvocation;
  cwd: string | undefined;
  env: Record<string, string>;
  variables: Record<string, string>;
  passEnv: string[];
  /** Shown before the argv in errors and the command log, e.g. `TAG=v1.0.0 `. */
  display: string;
}

/** Identifies a `compose config` answer: same commit (checked by the caller), files, project, profiles and variables. */
function configKey(ctx: { variables: Record<string, string>; inv: ComposeInvocation }): string {
  const sorted = Object.fromEntries(Object.entries(ctx.variables).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify({ files: ctx.inv.files, project: ctx.inv.project, variables: sorted, ...(ctx.inv.profiles?.length ? { profiles: ctx.inv.profiles } : {}) })).digest('hex').slice(0, 16);
}

export interface ReleaseImageCheck {
  service: string;
  /** The image the release's compose config names. */
  expected: string | undefined;
  /** What the service's container runs; undefined when it has no container. */
  running: string | undefined;
  ok: boolean;
  detail: string;
}

/** Pure: every service of the release has a running container on the release's image. */
export function compareReleaseImages(services: ComposeService[], containers: ComposeServiceStatus[]): ReleaseImageCheck[] {
  return services.map((s) => {
    const c = containers.find((x) => x.service === s.name);
    const expected = s.image;
    if (!c) return { service: s.name, expected, running: undefined, ok: false, detail: `${s.name} has no container` };
    if (c.state !== 'running') return { service: s.name, expected, running: c.image, ok: false, detail: `${s.name}'s container ${c.container} is ${c.status}` };
    if (!expected) return { service: s.name, expected, running: c.image, ok: false, detail: `${s.name} has no image in the release's compose config to compare with` };
    const ok = normalizeImageRef(c.image) === normalizeImageRef(expected);
    return { service: s.name, expected, running: c.image, ok, detail: ok ? `${s.name} runs ${expected}` : `${s.name} runs ${c.image}, not the release's ${expected}` };
  });
}

function maxGrace(services: ComposeService[]): number | undefined {
  const graces = services.map((s) => s.stopGraceSeconds).filter((g): g is number => g !== undefined);
  return graces.length ? Math.max(...graces) : undefined;
}

/** Pure: which releases lose their images: all but the `keep` most recently started. */
export function selectPrunable<T>(releases: T[], keep: number): { keep: T[]; drop: T[] } {
  const cut = Math.max(0, releases.length - keep);
  return { keep: releases.slice(cut), drop: releases.slice(0, cut) };
}

function lastLines(text: string, count = STDERR_LINES): string {
  return text.trim().split('\n').slice(-count).join('\n').trim();
}

function hintFor(res: RunResult, ctx: CommandContext): string {
  const text = `${res.stderr}\n${res.stdout}`;
  if (res.exitCode === 127 && /EACCES/.test(text)) {
    return `${res.argv[0]} is not executable by this user: fix its permissions (chmod +x), or set target.cli in shipgate.yml to the CLI you can run.`;
  }
  if (res.exitCode === 127) {
    return `${res.argv[0]} is not installed here: install it (Debian: apt-get install docker.io docker-compose), or set target.cli in shipgate.yml.`;
  }
  if (/Cannot connect to the Docker daemon|Is the docker daemon running|Couldn't connect to Docker daemon|connection refused|no such file or directory.*\.sock/i.test(text)) {
    return `The Docker engine does not answer at ${ctx.env.DOCKER_HOST ?? 'the default socket'}: start it, or set target.dockerHost in shipgate.yml.`;
  }
  return `Run it by hand${ctx.cwd ? ` in ${ctx.cwd}` : ''} to see the whole output; shipgate's command log is .shipgate/compose/<env>.commands.log.`;
}
