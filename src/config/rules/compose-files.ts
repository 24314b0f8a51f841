import { existsSync } from 'node:fs';
import path from 'node:path';
import { variablesIn } from '../compose/interpolate.js';
import { declaredProfiles, resolveComposeFiles, type ComposeModel } from '../compose/resolve-compose.js';
import type { EnvironmentSpec, ShipgateConfig } from '../schema.js';
import type { RuleFinding } from './rule.js';

type ComposeLikeTarget = Extract<EnvironmentSpec['target'], { type: 'compose' | 'ssh' }>;

export interface ComposeFilesOfEnv {
  env: string;
  target: ComposeLikeTarget;
  /** The files as in the repository's working tree; undefined when they cannot be read (see `problem`). */
  model: ComposeModel | undefined;
  problem: RuleFinding | undefined;
}

/**
 * The compose files of every compose/ssh environment, read from the repository's working tree
 * (a release checks out the same paths). Unreadable files give one warning, never silence.
 */
export function composeFilesByEnv(config: ShipgateConfig, dir: string): ComposeFilesOfEnv[] {
  const out: ComposeFilesOfEnv[] = [];
  const repo = path.resolve(dir, config.repository);
  for (const [env, e] of Object.entries(config.environments)) {
    const t = e.target;
    if (t.type === 'process' || t.type === 'swarm') continue;
    const files = t.files.map((f) => path.resolve(repo, f));
    const absent = files.filter((f) => !existsSync(f));
    const at = ['environments', env, 'target', 'files'];
    if (absent.length) {
      out.push({ env, target: t, model: undefined, problem: { path: at, severity: 'warning', message: `${absent.map((f) => path.relative(repo, f)).join(', ')} not found in ${repo}: profiles, versionVariable and infrastructure not checked`, hint: 'List the compose files as they are in the repository, relative to its root.' } });
      continue;
    }
    try {
      const model = resolveComposeFiles(files, {}).raw;
      // A file compose itself would reject (an image that is not a string…) tells nothing: the deploy will say why.
      const broken = Object.entries(model.services).find(([, svc]) => svc.image !== undefined && typeof svc.image !== 'string');
      if (broken) {
        out.push({ env, target: t, model: undefined, problem: { path: at, severity: 'warning', message: `service ${broken[0]} in ${t.files.join(', ')} has an image that is not a string: the files were not checked`, hint: 'Fix the compose file; compose rejects it too.' } });
        continue;
      }
      out.push({ env, target: t, model, problem: undefined });
    } catch (err) {
      out.push({ env, target: t, model: undefined, problem: { path: at, message: (err as Error).message, hint: 'Fix the compose file: compose itself would fail on it.' } });
    }
  }
  return out;
}

/** Every variable the files interpolate anywhere. */
export function composeVariablesUsed(model: ComposeModel): Set<string> {
  return new Set(variablesIn(JSON.stringify(model.services)));
}

export { declaredProfiles };
