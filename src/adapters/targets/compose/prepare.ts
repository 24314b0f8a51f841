// Prepare: check the release out and make its images exist, refusing images not pinned to it.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { isInfrastructureImage } from '../../../config/compose/infrastructure.js';
import { failed, refused } from '../../../core/errors.js';
import type { ReleaseSpec } from '../target.js';
import { composeCommands } from './commands.js';
import { floatingImages, floatingImagesHint, floatingImagesMessage, type PinPolicy } from './images.js';
import { activeServices, normalizeImageRef, type ComposeService } from './parse.js';
import { TIMEOUTS, type ComposeSession, type Prepared } from './session.js';

/** Checks the release out and makes its images exist: built (or pulled) once, reused after. */
export async function prepareRelease(cs: ComposeSession, release: ReleaseSpec): Promise<void> {
  const dir = cs.o.layout.releaseDir(release.env, release.version);
  mkdirSync(path.dirname(dir), { recursive: true });
  await cs.o.repo.checkout(dir, release.commit);
  const files = cs.files(dir, release.version);
  const ctx = await cs.context(release, dir, files);
  const { services, present } = await cs.inspectRelease(ctx, cs.cachedConfig(release));
  refuseFloatingImages(cs, release, services);
  const missing = (s: ComposeService) => s.image === undefined || !present.has(normalizeImageRef(s.image));
  // A version's images are reused only when built from the same commit (a moved tag rebuilds).
  const builtFrom = builtCommit(cs, release.version);
  const stale = builtFrom !== undefined && builtFrom !== release.commit;
  if (stale) cs.note(release.env, `images of ${release.version} were built from ${builtFrom}, the version now names ${release.commit}: not reused`);
  let changed = false;
  if (cs.o.spec.pull) {
    // Pulled instead of built (target.pull): every service whose image is missing.
    const toPull = services.filter((s) => stale || missing(s)).map((s) => s.name);
    if (toPull.length) {
      await cs.exec(release.env, composeCommands.pull(ctx.inv, toPull), ctx, TIMEOUTS.pull);
      changed = true;
    } else cs.note(release.env, `images of ${release.version} exist: pull skipped`);
  } else if (cs.o.spec.build) {
    const buildable = services.filter((s) => s.buildable);
    const toBuild = buildable.filter((s) => stale || missing(s)).map((s) => s.name);
    if (toBuild.length) {
      await cs.exec(release.env, composeCommands.build(ctx.inv, toBuild), ctx, TIMEOUTS.build);
      changed = true;
    } else if (buildable.length) cs.note(release.env, `images of ${release.version} exist: build skipped`);
  }
  // What `up` needs to know (the images are listed again when a build or pull changed them).
  const ready = changed ? await cs.inspectRelease(ctx, services) : { services, present };
  refuseMissingImages(cs, release, ready);
  cs.prepared.set(dir, ready);
}

/**
 * Refuses (exit 3, before anything stops) a release whose own services run images that do not
 * change with the release: a later rollback to it would restart whatever the tag names then.
 * Infrastructure (target.dependencies, or recognised by image) is not part of the release.
 */
export function refuseFloatingImages(cs: ComposeSession, release: ReleaseSpec, services: ComposeService[]): void {
  if (cs.o.spec.allowFloatingImages) return;
  const policy = pinPolicy(cs, release);
  const floating = floatingImages(activeServices(services, cs.profiles), policy);
  if (!floating.length) return;
  cs.note(release.env, `refused: ${floatingImagesMessage(release.version, floating)}`);
  throw refused(floatingImagesMessage(release.version, floating), { hint: floatingImagesHint(policy), data: { floating } });
}

export function pinPolicy(cs: ComposeSession, release: ReleaseSpec): PinPolicy {
  return { tag: cs.tagOf(release), versionVariable: cs.o.spec.versionVariable, template: cs.o.spec.images?.tag ?? '{version}', dependencies: cs.o.spec.dependencies ?? [], isInfrastructure: isInfrastructureImage };
}

/** Nothing stops until every image of the release is on the engine (built, pulled, or already there). */
export function refuseMissingImages(cs: ComposeSession, release: ReleaseSpec, ready: Prepared): void {
  const missing = activeServices(ready.services, cs.profiles)
    .map((s) => s.image)
    .filter((i): i is string => i !== undefined && !ready.present.has(normalizeImageRef(i)));
  if (!missing.length) return;
  throw failed(`images of ${release.version} are not on the engine: ${missing.join(', ')}`, {
    hint: cs.o.spec.pull || cs.o.spec.build
      ? 'The build or pull did not produce them: check the image names in the compose file against target.images.tag.'
      : 'target.build and target.pull are both false: push/load these images first, or set pull: true to fetch them from the registry.',
    data: { missing },
  });
}

/** The commit a version's images were built from here, by any environment's record. */
export function builtCommit(cs: ComposeSession, version: string): string | undefined {
  for (const state of cs.allStates()) {
    const r = state.releases.find((x) => x.version === version);
    if (r) return r.commit;
  }
  return undefined;
}
