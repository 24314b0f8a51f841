// Starting, stopping and restarting the project, and checking a release's containers run its images.

import { existsSync } from 'node:fs';
import { failed } from '../../../core/errors.js';
import type { ImageCheck, ReleaseSpec } from '../target.js';
import { composeCommands, dockerCommands } from './commands.js';
import { compareReleaseImages, configKey, containersUpWillNotReplace, maxGrace, parseProjectContainers, type ReleaseImageCheck } from './compare.js';
import { activeServices, normalizeImageRef } from './parse.js';
import { pruneImages } from './prune.js';
import { TIMEOUTS, type ComposeSession } from './session.js';
import type { ComposeEnvState } from './state.js';
import { listContainers } from './status.js';

export async function startRelease(cs: ComposeSession, release: ReleaseSpec): Promise<void> {
  const dir = cs.o.layout.releaseDir(release.env, release.version);
  if (!existsSync(dir)) throw failed(`the checkout of ${release.version} is missing at ${dir}`, { hint: 'Run the prepare step again: resume the deployment or deploy the version again.' });
  const files = cs.files(dir, release.version);
  const ctx = await cs.context(release, dir, files);
  const prepared = cs.prepared.get(dir) ?? (await cs.inspectRelease(ctx, cs.cachedConfig(release)));
  // Images that exist are never rebuilt (a rollback); with `build: false` compose never builds.
  const noBuild = !cs.o.spec.build || cs.o.spec.pull || prepared.services.filter((s) => s.buildable).every((s) => s.image !== undefined && prepared.present.has(normalizeImageRef(s.image)));
  const state = cs.readState(release.env);
  // `up` replaces each running service stop-first; what it would not replace is stopped before it.
  await stopWhatUpWillNotReplace(cs, release.env, state, ctx.inv.project, activeServices(prepared.services, cs.profiles).map((s) => s.name));
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
  cs.writeState(release.env, next);
  await cs.exec(release.env, composeCommands.up(ctx.inv, { noBuild, stopTimeout: state.version ? state.stopGraceSeconds : undefined }), ctx, TIMEOUTS.up);
  const images = prepared.services.map((s) => s.image).filter((i): i is string => i !== undefined);
  next.releases = [...next.releases.filter((r) => r.version !== release.version), { version: release.version, commit: release.commit, images, at: cs.clock().toISOString(), configKey: configKey(ctx), services: prepared.services }];
  cs.writeState(release.env, next);
  await pruneImages(cs, release.env, next, ctx);
}

/** Stops and removes the project's containers and networks, found by label (see dockerCommands.stopContainers). */
export async function stopProject(cs: ComposeSession, env: string): Promise<void> {
  const state = cs.readState(env);
  await removeProject(cs, env, state.project, state.stopGraceSeconds);
  if (existsSync(cs.o.layout.stateFile(env))) cs.writeState(env, { ...state, version: undefined });
}

async function removeProject(cs: ComposeSession, env: string, project: string, graceSeconds: number | undefined): Promise<void> {
  const engine = cs.engineContext();
  const running = await cs.lines(env, dockerCommands.runningContainers(project));
  if (running.length) await cs.exec(env, dockerCommands.stopContainers(running, graceSeconds), engine, TIMEOUTS.down);
  const all = await cs.containerIds(env, project);
  if (all.length) await cs.exec(env, dockerCommands.removeContainers(all), engine, TIMEOUTS.down);
  const networks = await cs.lines(env, dockerCommands.projectNetworks(project));
  if (networks.length) await cs.exec(env, dockerCommands.removeNetworks(networks), engine, TIMEOUTS.other);
}

/**
 * Before `up`: stops (with the running release's grace) and removes every container that `up`
 * would not stop right before starting its replacement (containersUpWillNotReplace), and the
 * whole project last started under another name. One `docker ps` when there is none.
 */
async function stopWhatUpWillNotReplace(cs: ComposeSession, env: string, state: ComposeEnvState, project: string, services: string[]): Promise<void> {
  if (state.project !== project) await removeProject(cs, env, state.project, state.stopGraceSeconds);
  const listed = parseProjectContainers((await cs.exec(env, dockerCommands.projectContainerList(project), cs.engineContext(), TIMEOUTS.other)).stdout);
  const doomed = containersUpWillNotReplace(listed, services);
  if (!doomed.length) return;
  cs.note(env, `stopped before up, which would not replace them: ${doomed.map((c) => `${c.service}${c.oneoff ? ' (one-off)' : ''} ${c.id.slice(0, 12)}`).join(', ')}`);
  const engine = cs.engineContext();
  const running = doomed.filter((c) => c.state !== 'exited' && c.state !== 'created' && c.state !== 'dead').map((c) => c.id);
  if (running.length) await cs.exec(env, dockerCommands.stopContainers(running, state.stopGraceSeconds), engine, TIMEOUTS.down);
  await cs.exec(env, dockerCommands.removeContainers(doomed.map((c) => c.id)), engine, TIMEOUTS.down);
}

export async function restartService(cs: ComposeSession, env: string, service: string): Promise<void> {
  const state = cs.readState(env);
  if (!state.dir || !state.version || !existsSync(state.dir)) {
    throw failed(`service ${service} has never been started in ${env}`, { hint: `Deploy first: shipgate deploy ${env} --version <tag>.` });
  }
  const ctx = cs.storedContext(state);
  const exists = (await listContainers(cs, env)).some((s) => s.service === service);
  await cs.exec(env, exists ? composeCommands.restart(ctx.inv, service) : composeCommands.upService(ctx.inv, service), ctx, TIMEOUTS.up);
}

/**
 * For a service whose health answer does not report its release (`version: ignore`): whether
 * each of the release's containers runs the image this release's compose config names.
 */
export async function releaseImageCheck(cs: ComposeSession, release: ReleaseSpec): Promise<ReleaseImageCheck[]> {
  const dir = cs.o.layout.releaseDir(release.env, release.version);
  const ctx = await cs.context(release, dir, cs.files(dir, release.version));
  const prepared = cs.prepared.get(dir) ?? (await cs.inspectRelease(ctx, cs.cachedConfig(release)));
  return compareReleaseImages(activeServices(prepared.services, cs.profiles), await listContainers(cs, release.env));
}

/** For services whose health does not report their release (`version: ignore`): their containers run its image. */
export async function verifyImages(cs: ComposeSession, release: ReleaseSpec, services: string[]): Promise<ImageCheck[]> {
  const wanted = new Set(services);
  return (await releaseImageCheck(cs, release)).filter((c) => wanted.has(c.service)).map(({ service, ok, detail }) => ({ service, ok, detail }));
}
