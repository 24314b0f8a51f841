// The compose target's state file per environment: what runs, how it was started, which releases keep their images.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ComposeCli } from './commands.js';
import type { ComposeService } from './parse.js';

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

export interface ReleaseImages {
  version: string;
  commit: string;
  images: string[];
  at: string;
  /** `compose config` of this commit with these variables (`configKey`): not asked again on a rollback. */
  configKey?: string;
  services?: ComposeService[];
}

export interface ComposeEnvState {
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

/** The stored state over `empty`; `empty` when the environment has none yet. */
export function readComposeState(file: string, empty: ComposeEnvState): ComposeEnvState {
  if (!existsSync(file)) return empty;
  return { ...empty, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<ComposeEnvState>) };
}

/** Every environment's state under `root` (unreadable files left out). */
export function readAllComposeStates(root: string): ComposeEnvState[] {
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

export function writeComposeState(file: string, state: ComposeEnvState): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, file);
}
