import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ShipgateConfig } from './schema.js';

/** A file the check of a config reads besides the config itself, as it is now (null: absent). */
export interface CheckInput {
  file: string;
  text: string | null;
}

/**
 * Whether checking this config reads no file but shipgate.yml: true when no environment has compose
 * files (a process target has none). Then its check is a function of the file's text alone.
 */
export function checkReadsOnlyTheConfig(config: ShipgateConfig): boolean {
  return Object.values(config.environments).every((e) => e.target.type === 'process');
}

/**
 * What checking `config` (whose file is in `dir`) reads besides its own text: the compose files of
 * every compose/ssh environment, from the repository's working tree (rules/compose-files.ts), as
 * they are now. Undefined when those files alone do not tell: one that `extends` (it may name
 * another file, read too) or one that cannot be read. Kept light: no YAML, no schema.
 */
export function checkInputs(config: ShipgateConfig, dir: string): CheckInput[] | undefined {
  const repo = path.resolve(dir, config.repository);
  const inputs: CheckInput[] = [];
  for (const e of Object.values(config.environments)) {
    const t = e.target;
    if (t.type === 'process' || t.type === 'swarm') continue;
    for (const f of t.files) {
      const file = path.resolve(repo, f);
      let text: string | null;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
        text = null;
      }
      if (text?.includes('extends')) return undefined;
      inputs.push({ file, text });
    }
  }
  return inputs;
}

/** The cache key of a config checked with these inputs: its text, then each file's name and text. */
export function keyWithInputs(text: string, inputs: CheckInput[]): string {
  return `${text}\0shipgate check inputs\0${JSON.stringify(inputs)}`;
}
