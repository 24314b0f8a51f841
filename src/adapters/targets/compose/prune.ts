// Image housekeeping after a start: only the last `keepReleases` releases keep their images.

import { dockerCommands } from './commands.js';
import { selectPrunable } from './compare.js';
import { lastLines } from './hints.js';
import { normalizeImageRef } from './parse.js';
import { TIMEOUTS, type CommandContext, type ComposeSession } from './session.js';
import type { ComposeEnvState } from './state.js';

/**
 * Removes the images of releases older than the last `keepReleases` started here. Never
 * those of a release another environment keeps, nor those any container (running or not)
 * uses. A failure is recorded, not thrown: the deploy itself succeeded.
 */
export async function pruneImages(cs: ComposeSession, env: string, state: ComposeEnvState, ctx: CommandContext): Promise<void> {
  const keep = cs.o.spec.keepReleases;
  const { drop } = selectPrunable(state.releases, keep);
  if (!drop.length) return;
  const at = cs.clock().toISOString();
  try {
    const others = cs.allStates().filter((s) => s.project !== state.project).flatMap((s) => s.releases.slice(-keep));
    const inUse = await cs.exec(env, dockerCommands.containerImages(), cs.engineContext(), TIMEOUTS.other);
    const protectedRefs = new Set([...state.releases.slice(-keep), ...others].flatMap((r) => r.images).concat(inUse.stdout.split('\n').filter(Boolean)).map(normalizeImageRef));
    const candidates = [...new Set(drop.flatMap((r) => r.images))].filter((i) => !protectedRefs.has(normalizeImageRef(i)));
    const present = candidates.length ? await cs.existingImages(candidates) : new Set<string>();
    const removable = candidates.filter((i) => present.has(normalizeImageRef(i)));
    let error: string | undefined;
    if (removable.length) {
      const res = await cs.run(env, dockerCommands.imageRemove(removable), cs.engineContext(), TIMEOUTS.other);
      if (res.exitCode !== 0) error = lastLines(res.stderr);
    }
    state.releases = state.releases.slice(-keep);
    state.lastPrune = { at, removed: removable, ...(error ? { error } : {}) };
  } catch (err) {
    state.lastPrune = { at, removed: [], error: (err as Error).message };
  }
  cs.writeState(env, state);
}
