// Pure helpers: does a release's config match its containers, which releases lose their images,
// when is a cached `compose config` answer still valid.

import { createHash } from 'node:crypto';
import type { ComposeInvocation } from './commands.js';
import { normalizeImageRef, type ComposeService, type ComposeServiceStatus } from './parse.js';

/** Identifies a `compose config` answer: same commit (checked by the caller), files, project, profiles and variables. */
export function configKey(ctx: { variables: Record<string, string>; inv: ComposeInvocation }): string {
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

export function maxGrace(services: ComposeService[]): number | undefined {
  const graces = services.map((s) => s.stopGraceSeconds).filter((g): g is number => g !== undefined);
  return graces.length ? Math.max(...graces) : undefined;
}

/** Pure: which releases lose their images: all but the `keep` most recently started. */
export function selectPrunable<T>(releases: T[], keep: number): { keep: T[]; drop: T[] } {
  const cut = Math.max(0, releases.length - keep);
  return { keep: releases.slice(cut), drop: releases.slice(0, cut) };
}

/** One line of `dockerCommands.projectContainerList`. */
export interface ProjectContainer {
  id: string;
  /** Docker's state: running, exited, created, restarting, paused, dead. */
  state: string;
  service: string;
  oneoff: boolean;
}

export function parseProjectContainers(text: string): ProjectContainer[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [id = '', state = '', service = '', oneoff = ''] = l.split('|');
      return { id, state, service, oneoff: oneoff.toLowerCase() === 'true' };
    });
}

/**
 * Pure: the containers `compose up` will not stop right before starting their replacement, so
 * they are stopped before it (what runs must never run twice). `up` recreates a service's one
 * container stop-first; it leaves one-off containers (`compose run`) alone, leaves services of
 * inactive profiles running, and kills (SIGKILL) services no longer in the file. A service with
 * several containers is stopped whole first too, rather than relying on compose's down-scaling.
 */
export function containersUpWillNotReplace(containers: ProjectContainer[], services: string[]): ProjectContainer[] {
  const perService = new Map<string, number>();
  for (const c of containers) if (!c.oneoff) perService.set(c.service, (perService.get(c.service) ?? 0) + 1);
  return containers.filter((c) => c.oneoff || !services.includes(c.service) || (perService.get(c.service) ?? 0) > 1);
}
