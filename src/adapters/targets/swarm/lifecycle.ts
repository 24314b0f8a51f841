// Prepare (record the release's stack spec), deploy and wait for convergence, stop, restart.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isInfrastructureImage } from '../../../config/compose/infrastructure.js';
import { parseDuration } from '../../../core/duration.js';
import { failed, refused } from '../../../core/errors.js';
import { floatingImages, floatingImagesHint, floatingImagesMessage } from '../compose/images.js';
import { parseImageList, normalizeImageRef } from '../compose/parse.js';
import { composeVariables } from '../compose/variables.js';
import type { ReleaseSpec } from '../target.js';
import { serviceName, swarmCommands } from './commands.js';
import { judge, taskEndpoints, type Convergence } from './convergence.js';
import { TIMEOUTS, type RecordedRelease, type SwarmSession } from './session.js';
import { releaseSpec, specServices } from './stack-file.js';

/**
 * The release's stack spec, from shipgate's record when this commit was recorded before (a
 * rollback deploys exactly what ran then); else checked out, merged by `docker stack config`
 * with the release's variables, labelled and written to the record.
 */
export async function prepareRelease(ss: SwarmSession, release: ReleaseSpec): Promise<RecordedRelease> {
  const state = ss.readState(release.env);
  const known = state.releases.find((r) => r.version === release.version && r.commit === release.commit);
  if (known && existsSync(known.specFile)) {
    ss.note(release.env, `stack spec of ${release.version} from shipgate's record: ${known.specFile}`);
    await refuseMissingImages(ss, release, known.images);
    return known;
  }
  const dir = ss.o.layout.releaseDir(release.env, release.version);
  mkdirSync(path.dirname(dir), { recursive: true });
  await ss.o.repo.checkout(dir, release.commit);
  const files = ss.o.spec.files.map((f) => path.resolve(dir, f));
  const absent = files.filter((f) => !existsSync(f));
  if (absent.length) throw failed(`release ${release.version} has no ${absent.map((f) => path.relative(dir, f)).join(', ')}`, { hint: 'Add the stack file to the release, or list the right ones in target.files in shipgate.yml.' });
  const variables = composeVariables({ env: release.env, version: release.version, versionVariable: ss.o.spec.versionVariable, services: release.services, tag: ss.tagOf(release) });
  const config = await ss.exec(release.env, swarmCommands.config(files), variables, TIMEOUTS.other, dir);
  const text = releaseSpec(config.stdout, { version: release.version, exclusive: ss.o.spec.exclusive });
  const services = specServices(text);
  if (!ss.o.spec.allowFloatingImages) {
    const policy = { tag: ss.tagOf(release), versionVariable: ss.o.spec.versionVariable, template: ss.o.spec.images.tag, dependencies: ss.o.spec.dependencies, isInfrastructure: isInfrastructureImage };
    const floating = floatingImages(services, policy);
    if (floating.length) throw refused(floatingImagesMessage(release.version, floating), { hint: floatingImagesHint(policy), data: { floating } });
  }
  const images = services.map((s) => s.image).filter((i): i is string => i !== undefined);
  await refuseMissingImages(ss, release, images);
  const specFile = ss.o.layout.specFile(release.env, release.version);
  mkdirSync(path.dirname(specFile), { recursive: true });
  writeFileSync(specFile, text);
  const record: RecordedRelease = { version: release.version, commit: release.commit, specFile, images, at: ss.clock().toISOString() };
  const keep = state.releases.filter((r) => r.version !== release.version);
  ss.writeState(release.env, { ...state, releases: [...keep, record].slice(-Math.max(ss.o.spec.keepReleases, 2)) });
  return record;
}

/** The manager must hold the release's images: nothing is pulled (`--resolve-image never`). */
async function refuseMissingImages(ss: SwarmSession, release: ReleaseSpec, images: string[]): Promise<void> {
  if (!images.length) return;
  const present = parseImageList((await ss.exec(release.env, swarmCommands.imageList(images))).stdout);
  const missing = images.filter((i) => !present.has(normalizeImageRef(i)));
  if (missing.length) {
    throw failed(`images of ${release.version} are not on the swarm manager: ${missing.join(', ')}`, {
      hint: 'Push them to the registry the nodes pull from (docker stack deploy runs with --with-registry-auth), or load them on every node (docker save | docker load).',
      data: { missing },
    });
  }
}

export interface DeployReport {
  convergence: Convergence;
  /** Per task: its node endpoint and what its health URL answered. */
  probes: { service: string; url: string; ok: boolean; detail: string }[];
  /** Nodes seen down, drained or paused while the deploy waited. */
  nodeEvents: string[];
}

/** `docker stack deploy` of the recorded spec, then waits until every service has converged and each task answers its health URL. */
export async function deployRelease(ss: SwarmSession, release: ReleaseSpec, wait: { poll: () => Promise<void> }): Promise<DeployReport> {
  const record = ss.readState(release.env).releases.find((r) => r.version === release.version && r.commit === release.commit) ?? (await prepareRelease(ss, release));
  const wanted = specServices(readFileSync(record.specFile, 'utf8')).map((s) => s.name);
  const state = ss.readState(release.env);
  ss.writeState(release.env, { ...state, deploying: release.version });
  ss.forget();
  await ss.exec(release.env, swarmCommands.deploy([record.specFile], ss.stack), {}, TIMEOUTS.deploy);
  const timeoutMs = parseDuration(ss.o.spec.convergenceTimeout) ?? 300_000;
  const deadline = Date.now() + timeoutMs;
  let last: Convergence | undefined;
  let probes: DeployReport['probes'] = [];
  const seen = new Set<string>();
  const nodeEvents: string[] = [];
  for (;;) {
    const final = Date.now() >= deadline;
    const services = await ss.services(release.env);
    const [tasks, nodes] = await Promise.all([ss.tasks(release.env, services), ss.nodes(release.env)]);
    last = judge({ stack: ss.stack, version: release.version, wanted, services, tasks, nodes, final });
    for (const n of nodes.filter((x) => (x.state !== 'ready' || x.availability !== 'active') && !seen.has(`${x.id}:${x.state}:${x.availability}`))) {
      seen.add(`${n.id}:${n.state}:${n.availability}`);
      const what = n.state !== 'ready' ? `went down during the deploy of ${release.version}: ${n.state}${n.message ? ` (${n.message})` : ''}` : `is ${n.availability} during the deploy of ${release.version}: its tasks move to other nodes`;
      ss.note(release.env, `node ${n.addr || n.hostname} ${what}`);
      nodeEvents.push(`node ${n.addr || n.hostname} ${what}`);
    }
    if (last.verdict === 'converged') {
      probes = await probeTasks(ss, release, services, tasks, nodes);
      const bad = probes.filter((p) => !p.ok);
      if (!bad.length) break;
      if (final) throw convergenceFailure(ss, release, last, [`tasks do not answer their health URL: ${bad.map((p) => `${p.service} ${p.url}: ${p.detail}`).join('; ')}`, ...nodeEvents]);
    } else if (last.verdict === 'failed') {
      throw convergenceFailure(ss, release, last, nodeEvents);
    }
    await wait.poll();
  }
  ss.writeState(release.env, { ...ss.readState(release.env), version: release.version, deploying: undefined });
  ss.note(release.env, `${release.version} converged: ${last.services.map((s) => `${s.service} ${s.reason}`).join('; ')}`);
  return { convergence: last, probes, nodeEvents };
}

async function probeTasks(ss: SwarmSession, release: ReleaseSpec, services: Awaited<ReturnType<SwarmSession['services']>>, tasks: Awaited<ReturnType<SwarmSession['tasks']>>, nodes: Awaited<ReturnType<SwarmSession['nodes']>>): Promise<DeployReport['probes']> {
  const out: DeployReport['probes'] = [];
  for (const s of release.services) {
    const svc = services.find((x) => x.name === serviceName(ss.stack, s.name));
    if (!svc || !s.healthUrl) continue;
    for (const e of taskEndpoints(svc, tasks, nodes, s.healthUrl)) out.push({ service: s.name, url: e.url, ...(await probe(ss, e.url)) });
  }
  return out;
}

async function probe(ss: SwarmSession, url: string): Promise<{ ok: boolean; detail: string }> {
  if (ss.o.probe) return ss.o.probe(url);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    await res.body?.cancel();
    return { ok: res.ok, detail: `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function convergenceFailure(ss: SwarmSession, release: ReleaseSpec, c: Convergence, extra: string[] = []): Error {
  const bad = c.services.filter((s) => s.verdict !== 'converged');
  const swarm = c.services.filter((s) => s.swarmRollback);
  if (swarm.length) {
    const state = ss.readState(release.env);
    ss.writeState(release.env, { ...state, swarmRollbacks: [...(state.swarmRollbacks ?? []), ...swarm.map((s) => ({ at: ss.clock().toISOString(), version: release.version, detail: s.swarmRollback! }))] });
  }
  const lines = [...bad.map((s) => `${s.service}: ${s.reason}${s.errors.length ? ` (${s.errors.slice(-3).join('; ')})` : ''}`), ...extra];
  ss.note(release.env, `${release.version} did not converge: ${lines.join(' | ')}`);
  return failed(`stack ${ss.stack} did not converge on ${release.version}: ${lines.join('; ')}`, {
    hint: swarm.length ? 'Swarm already rolled these services back (update_config.failure_action: rollback); shipgate rolls the whole stack back to its last good release.' : `See why: shipgate diagnose ${release.env}; docker service ps --no-trunc ${ss.stack}_<service>`,
    data: { convergence: c, ...(swarm.length ? { swarmRollback: swarm.map((s) => s.swarmRollback) } : {}) },
  });
}

/** `docker stack rm`; waits until the stack's services are gone. */
export async function removeStack(ss: SwarmSession, env: string, wait: { poll: () => Promise<void> }): Promise<void> {
  ss.forget();
  await ss.exec(env, swarmCommands.remove(ss.stack));
  const deadline = Date.now() + TIMEOUTS.other;
  for (let left = await ss.services(env); left.length; left = await ss.services(env)) {
    if (Date.now() > deadline) throw failed(`stack ${ss.stack} still has ${left.map((s) => s.name).join(', ')} after docker stack rm`, { hint: `See what holds them: docker service ps --no-trunc ${left[0]!.name}; then run shipgate stop ${env} again.` });
    await wait.poll();
  }
  if (existsSync(ss.o.layout.stateFile(env))) ss.writeState(env, { ...ss.readState(env), version: undefined, deploying: undefined });
}

/**
 * Fresh tasks of the same spec (`docker service update --force`), then waits until they replaced
 * the old ones (Swarm's rolling update, update_config of the service), as a deploy does.
 */
export async function restartService(ss: SwarmSession, env: string, service: string, wait: { poll: () => Promise<void> }): Promise<void> {
  const before = (await ss.services(env)).find((s) => s.name === serviceName(ss.stack, service));
  if (!before) throw failed(`service ${service} does not run in stack ${ss.stack}`, { hint: `Deploy first: shipgate deploy ${env} --version <tag>.` });
  ss.forget();
  await ss.exec(env, swarmCommands.forceUpdate(before.name), {}, TIMEOUTS.deploy);
  if (before.release === undefined) return; // not deployed by shipgate: no release to judge its tasks against
  const deadline = Date.now() + (parseDuration(ss.o.spec.convergenceTimeout) ?? 300_000);
  for (;;) {
    const final = Date.now() >= deadline;
    const services = await ss.services(env);
    const [tasks, nodes] = await Promise.all([ss.tasks(env, services), ss.nodes(env)]);
    const c = judge({ stack: ss.stack, version: before.release, wanted: [service], services, tasks, nodes, final });
    const now = services.find((s) => s.name === before.name);
    if (c.verdict === 'converged' && now && now.forceUpdate !== before.forceUpdate) {
      ss.note(env, `${service} restarted (docker service update --force): ${c.services[0]!.reason}`);
      return;
    }
    if (c.verdict === 'failed') {
      const s = c.services[0]!;
      throw failed(`service ${service} did not come back after docker service update --force: ${s.reason}${s.errors.length ? ` (${s.errors.slice(-3).join('; ')})` : ''}`, { hint: `See why: shipgate diagnose ${env}; docker service ps --no-trunc ${before.name}` });
    }
    await wait.poll();
  }
}
