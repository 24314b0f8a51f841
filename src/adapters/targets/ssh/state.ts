// The ssh target's state file per environment: what each host runs and has built, and the
// "before" of a rollout in progress (so a resumed step still knows where to return).

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ComposeCli } from '../compose/commands.js';

/** Where the ssh target keeps its files under the state dir. */
export interface SshLayout {
  /** Host keys of every host, pinned on first contact (StrictHostKeyChecking=accept-new). */
  knownHosts: string;
  stateFile(env: string): string;
  /** One JSON line per remote command (host, command, exit code, duration) and per decision. */
  commandLog(env: string): string;
  /** Output of the commands that change something (fetch, build, up, down), line by line as it comes, prefixed by host. */
  outputLog(env: string): string;
}

export function sshLayout(stateDir: string): SshLayout {
  return {
    knownHosts: path.join(stateDir, 'known_hosts'),
    stateFile: (env) => path.join(stateDir, 'ssh', `${env}.json`),
    commandLog: (env) => path.join(stateDir, 'ssh', `${env}.commands.log`),
    outputLog: (env) => path.join(stateDir, 'ssh', `${env}.output.log`),
  };
}

/** A version of the stack as one host has it. */
export interface ReleaseRef {
  version: string;
  commit: string;
}

export interface BuiltRelease extends ReleaseRef {
  images: string[];
  stopGraceSeconds?: number;
}

export interface HostState {
  /** The release last started on the host; kept after `down`, so it can be started again. */
  version?: string;
  commit?: string;
  running: boolean;
  /** Compose variables of that start, for down, logs and restart. */
  variables?: Record<string, string>;
  services?: { name: string; port: number | undefined }[];
  cli?: ComposeCli;
  /** Releases whose images were built or pulled here (newest last), with the commit they came from. */
  built: BuiltRelease[];
  lastError?: { at: string; op: string; message: string };
}

/** A rollout of `up` in progress: what each host ran before it, to return to on failure. */
export interface RolloutRecord extends ReleaseRef {
  startedAt: string;
  before: Record<string, ReleaseRef | null>;
}

export interface SshEnvState {
  project: string;
  hosts: Record<string, HostState>;
  rollout?: RolloutRecord;
}

export function hostState(state: SshEnvState, label: string): HostState {
  return (state.hosts[label] ??= { running: false, built: [] });
}

/** The release a host was last started with, if any. */
export function startedRef(hs: HostState | undefined): ReleaseRef | null {
  return hs?.version && hs.commit ? { version: hs.version, commit: hs.commit } : null;
}

/** The stored state over an empty one for `project`. */
export function readSshState(file: string, project: string): SshEnvState {
  const empty: SshEnvState = { project, hosts: {} };
  if (!existsSync(file)) return empty;
  const state = { ...empty, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<SshEnvState>) };
  for (const hs of Object.values(state.hosts)) hs.built ??= [];
  return state;
}

export function writeSshState(file: string, state: SshEnvState): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, file);
}
