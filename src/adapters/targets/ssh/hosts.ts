// What each operation does on one host (prepare, up, down, ps), and a service restart on every host.

import { isInfrastructureImage } from '../../../config/compose/infrastructure.js';
import { failed, refused } from '../../../core/errors.js';
import { describeArgv } from '../../runner/runner.js';
import { composeCommands, dockerCommands } from '../compose/commands.js';
import { floatingImages, floatingImagesHint, floatingImagesMessage, type PinPolicy } from '../compose/images.js';
import { parseComposeConfig } from '../compose/config-output.js';
import { activeServices, normalizeImageRef, parseInspect, type ComposeService } from '../compose/parse.js';
import type { ReleaseSpec } from '../target.js';
import { remoteGit, withEnv } from './commands.js';
import { TIMEOUTS, type Host, type SshServiceStatus, type SshSession } from './session.js';
import { hostState, type BuiltRelease, type HostState, type ReleaseRef } from './state.js';

export async function prepareHost(ss: SshSession, h: Host, release: ReleaseSpec): Promise<void> {
  const env = release.env;
  const dir = ss.o.spec.dir;
  const fetch = remoteGit.fetch(dir, ss.o.spec.remote);
  await ss.exec(env, h, fetch, { display: describeArgv(fetch), timeoutMs: TIMEOUTS.fetch, stream: true });
  const checkout = remoteGit.checkout(dir, release.commit);
  await ss.exec(env, h, checkout, { display: describeArgv(checkout), timeoutMs: TIMEOUTS.other, stream: true });
  const inv = await ss.invocation(env, h);
  const variables = ss.variables(release);
  const config = composeCommands.config(inv);
  const services = activeServices(parseComposeConfig((await ss.exec(env, h, withEnv(variables, config), { display: ss.composeDisplay(release.version, config), timeoutMs: TIMEOUTS.other })).stdout), ss.o.spec.profiles ?? []);
  if (!ss.o.spec.allowFloatingImages) {
    const policy: PinPolicy = { tag: ss.tagOf(release), versionVariable: ss.o.spec.versionVariable, template: ss.o.spec.images?.tag ?? '{version}', dependencies: ss.o.spec.dependencies ?? [], isInfrastructure: isInfrastructureImage };
    const floating = floatingImages(services, policy);
    if (floating.length) throw refused(`${floatingImagesMessage(release.version, floating)} (host ${h.label})`, { hint: floatingImagesHint(policy), data: { floating } });
  }
  const present = await ss.existingImages(env, h, services.map((s) => s.image).filter((i): i is string => i !== undefined));
  const missing = (s: ComposeService) => s.image === undefined || !present.has(normalizeImageRef(s.image));
  const record = ss.readState(env).hosts[h.label]?.built.find((b) => b.version === release.version);
  const stale = record !== undefined && record.commit !== release.commit;
  if (stale) ss.note(env, `${h.label}: images of ${release.version} were built from ${record.commit}, the version now names ${release.commit}: not reused`);
  if (ss.o.spec.pull) {
    const toPull = services.filter((s) => stale || missing(s)).map((s) => s.name);
    if (toPull.length) {
      const argv = composeCommands.pull(inv, toPull);
      await ss.exec(env, h, withEnv(variables, argv), { display: ss.composeDisplay(release.version, argv), timeoutMs: TIMEOUTS.pull, stream: true });
    } else ss.note(env, `${h.label}: images of ${release.version} exist: pull skipped`);
  } else if (ss.o.spec.build) {
    const buildable = services.filter((s) => s.buildable);
    const toBuild = buildable.filter((s) => stale || missing(s)).map((s) => s.name);
    if (toBuild.length) {
      const argv = composeCommands.build(inv, toBuild);
      await ss.exec(env, h, withEnv(variables, argv), { display: ss.composeDisplay(release.version, argv), timeoutMs: TIMEOUTS.build, stream: true });
    } else if (buildable.length) ss.note(env, `${h.label}: images of ${release.version} exist: build skipped`);
  }
  const images = services.map((s) => s.image).filter((i): i is string => i !== undefined);
  const graces = services.map((s) => s.stopGraceSeconds).filter((g): g is number => g !== undefined);
  const built: BuiltRelease = { version: release.version, commit: release.commit, images, ...(graces.length ? { stopGraceSeconds: Math.max(...graces) } : {}) };
  ss.update(env, (s) => {
    const hs = hostState(s, h.label);
    hs.built = [...hs.built.filter((b) => b.version !== release.version), built].slice(-Math.max(ss.o.spec.keepReleases, 2));
  });
}

/**
 * Checkout of the release's commit (already fetched) and `up -d --no-build`. Without
 * `services` (returning a host to what it ran), the variables of the host's last start are
 * reused with the version swapped.
 */
export async function upHost(ss: SshSession, h: Host, release: ReleaseRef & { env: string; services?: ReleaseSpec['services'] }): Promise<void> {
  const env = release.env;
  const checkout = remoteGit.checkout(ss.o.spec.dir, release.commit);
  await ss.exec(env, h, checkout, { display: describeArgv(checkout), timeoutMs: TIMEOUTS.other, stream: true });
  const inv = await ss.invocation(env, h);
  const previous = ss.readState(env).hosts[h.label];
  const services = release.services ? release.services.map((s) => ({ name: s.name, port: s.port })) : (previous?.services ?? []);
  const variables = release.services ? ss.variables({ env, version: release.version, commit: release.commit, services: release.services }) : { ...(previous?.variables ?? {}), ...ss.versionVariables(release) };
  const argv = composeCommands.up(inv, { noBuild: true });
  // Recorded as running before starting, so `down` finds the project even if `up` dies half-way.
  ss.update(env, (s) => Object.assign(hostState(s, h.label), { running: true }));
  await ss.exec(env, h, withEnv(variables, argv), { display: ss.composeDisplay(release.version, argv), timeoutMs: TIMEOUTS.up, stream: true });
  ss.update(env, (s) => Object.assign(hostState(s, h.label), { version: release.version, commit: release.commit, running: true, variables, services }));
}

/** Stops and removes the project's containers and networks on the host, found by label. */
export async function downHost(ss: SshSession, env: string, h: Host): Promise<void> {
  const project = ss.project;
  const hs = ss.readState(env).hosts[h.label];
  const grace = hs?.built.find((b) => b.version === hs.version && b.commit === hs.commit)?.stopGraceSeconds;
  const running = await ss.lines(env, h, dockerCommands.runningContainers(project));
  if (running.length) await ss.engine(env, h, dockerCommands.stopContainers(running, grace), TIMEOUTS.down, true);
  const all = await ss.lines(env, h, dockerCommands.projectContainers(project));
  if (all.length) await ss.engine(env, h, dockerCommands.removeContainers(all), TIMEOUTS.down, true);
  const networks = await ss.lines(env, h, dockerCommands.projectNetworks(project));
  if (networks.length) await ss.engine(env, h, dockerCommands.removeNetworks(networks), TIMEOUTS.other, true);
  ss.update(env, (s) => Object.assign(hostState(s, h.label), { running: false }));
}

export async function psHost(ss: SshSession, env: string, h: Host, hs: HostState | undefined): Promise<SshServiceStatus[]> {
  const ids = await ss.lines(env, h, dockerCommands.projectContainers(ss.project));
  if (!ids.length) return [];
  const res = await ss.engine(env, h, dockerCommands.inspect(ids), TIMEOUTS.other);
  const services = hs?.services ?? [];
  return parseInspect(res.stdout, { version: hs?.version, ports: Object.fromEntries(services.map((s) => [s.name, s.port])), order: services.map((s) => s.name) }).map((s) => ({ ...s, host: h.label }));
}

/** Restarts the service on every host that runs the stack (starts it where its container is gone). */
export async function restartService(ss: SshSession, env: string, service: string): Promise<void> {
  const state = ss.readState(env);
  const started = ss.hosts.filter((h) => state.hosts[h.label]?.version && state.hosts[h.label]?.variables);
  if (!started.length) throw failed(`service ${service} has never been started in ${env}`, { hint: `Deploy first: shipgate deploy ${env} --version <tag>.` });
  const errors: string[] = [];
  for (const h of started) {
    const hs = state.hosts[h.label]!;
    try {
      const inv = await ss.invocation(env, h);
      const exists = (await psHost(ss, env, h, hs)).some((s) => s.service === service);
      if (!exists) await ss.exec(env, h, remoteGit.checkout(ss.o.spec.dir, hs.commit!), { display: describeArgv(remoteGit.checkout(ss.o.spec.dir, hs.commit!)), timeoutMs: TIMEOUTS.other, stream: true });
      const argv = exists ? composeCommands.restart(inv, service) : composeCommands.upService(inv, service);
      await ss.exec(env, h, withEnv(hs.variables!, argv), { display: ss.composeDisplay(hs.version!, argv), timeoutMs: TIMEOUTS.up, stream: true });
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (errors.length) throw failed(`restart of ${service} failed on ${errors.length} of ${started.length} hosts: ${errors.join('; ')}`);
}
