import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedService } from '../../../config/resolve.js';
import { failed, type ShipgateError } from '../../../core/errors.js';
import { portHolders } from '../../host/ports.js';
import type { GitRepository } from '../../vcs/git.js';
import { startMarker, type ListenerCheck, type ReleaseSpec, type ServiceLogs, type ServiceStatus, type Target } from '../target.js';
import { launchProblem, spawnFailure } from './launch-check.js';
import { launchSpec, type LaunchSpec, type ProcessLayout } from './launch.js';
import { isAlive, processStartTicks, stopProcess } from './pids.js';
import { isSameOrDescendant } from './proc.js';
import { findStrays, stopStrays, type StrayProcess } from './strays.js';

interface RunningService {
  /** null: the start was intended (recorded first) but its PID was never recorded. */
  pid: number | null;
  startTicks: string | undefined;
  version: string;
  port: number | undefined;
  logFile: string;
  startedAt: string;
  argv: readonly string[];
  cwd: string;
}

interface EnvRunState {
  version: string | undefined;
  services: Record<string, RunningService>;
}

export interface ProcessTargetOptions {
  /** The environment's services as configured now: to rebuild a launch on restart and to recognise strays. */
  services?: (env: string) => ResolvedService[];
  /** Crash-testing seam (see app/failpoint.ts), called around each spawn. */
  failpoint?: (kind: string, step: string, when: 'before' | 'after') => void;
}

/**
 * Runs each service as a detached child process that outlives the CLI. Every start is on
 * record before the process exists, and processes of the environment that are not on record
 * (a crash between spawn and record, a deleted run file) are found through /proc and stopped
 * before anything new starts.
 */
export class ProcessTarget implements Target {
  constructor(
    private readonly layout: ProcessLayout,
    private readonly repo: GitRepository,
    private readonly parentEnv: NodeJS.ProcessEnv = process.env,
    private readonly options: ProcessTargetOptions = {},
  ) {}

  async prepare(release: ReleaseSpec): Promise<void> {
    const dir = this.layout.releaseDir(release.env, release.version);
    mkdirSync(path.dirname(dir), { recursive: true });
    await this.repo.checkout(dir, release.commit);
    // Everything that would make a start fail is found now, while the old release still runs.
    const state = this.readState(release.env);
    const strays = await this.strays(release.env);
    for (const service of release.services) {
      const problem = launchProblem(launchSpec(release, service, this.layout, this.parentEnv));
      if (problem) throw problem;
      if (service.port !== undefined) this.assertPortUsable(release.env, service, state, strays.map((s) => s.pid));
    }
  }

  async up(release: ReleaseSpec): Promise<void> {
    const state = this.readState(release.env);
    await stopStrays(await this.strays(release.env));
    for (const service of release.services) {
      const previous = state.services[service.name];
      if (previous?.pid) await stopProcess(previous.pid, previous.startTicks);
      const spec = launchSpec(release, service, this.layout, this.parentEnv);
      state.version = release.version;
      await this.start(release.env, state, spec, release.version, service);
    }
  }

  async down(env: string): Promise<void> {
    const state = this.readState(env);
    for (const [name, svc] of Object.entries(state.services)) {
      if (svc.pid) await stopProcess(svc.pid, svc.startTicks);
      delete state.services[name];
      this.writeState(env, state);
    }
    // Found after the recorded ones stopped, so children they left behind are found too.
    await stopStrays(await this.strays(env));
    state.version = undefined;
    this.writeState(env, state);
  }

  async strays(env: string): Promise<StrayProcess[]> {
    if (process.platform !== 'linux') return [];
    const state = this.readState(env);
    const recorded = Object.values(state.services).flatMap((s) => (s.pid ? [{ pid: s.pid, startTicks: s.startTicks }] : []));
    const commands = [...Object.values(state.services).map((s) => s.argv), ...(this.options.services?.(env) ?? []).map((s) => s.command)];
    return findStrays(path.dirname(this.layout.releaseDir(env, 'x')), env, recorded, commands);
  }

  async checkListener(env: string, service: string, port: number): Promise<ListenerCheck> {
    const svc = this.readState(env).services[service];
    const { listening, holders } = portHolders(port);
    if (!listening) return { ok: false, reason: `nothing listens on port ${port}` };
    if (!svc?.pid || !isAlive(svc.pid, svc.startTicks)) {
      return { ok: false, reason: `port ${port} answers, but the process started for ${service} is not running${describeHolders(holders)}` };
    }
    const foreign = holders.filter((h) => h.pid === undefined || !isSameOrDescendant(h.pid, svc.pid!));
    if (holders.length === 0 || foreign.length > 0) {
      return { ok: false, reason: `port ${port} is held by ${foreign.length ? foreign.map((h) => (h.pid ? `pid ${h.pid} (${h.command ?? 'command unknown'})` : 'a process shipgate cannot see')).join(', ') : 'a process shipgate cannot see'}, not by pid ${svc.pid} that this deploy started` };
    }
    return { ok: true, reason: `port ${port} is held by pid ${holders.map((h) => h.pid).join(', ')}, started by shipgate` };
  }

  async ps(env: string): Promise<ServiceStatus[]> {
    const state = this.readState(env);
    return Object.entries(state.services).map(([name, svc]) => {
      const alive = svc.pid !== null && isAlive(svc.pid, svc.startTicks);
      return {
        service: name,
        state: alive ? 'running' : 'stopped',
        version: svc.version,
        ...(svc.pid !== null ? { pid: svc.pid } : {}),
        port: svc.port,
        startedAt: svc.startedAt,
        logFile: svc.logFile,
      };
    });
  }

  async logs(env: string, service: string | undefined, tail: number): Promise<ServiceLogs[]> {
    const dir = path.dirname(this.layout.logFile(env, 'x'));
    const names = service ? [service] : Object.keys(this.readState(env).services);
    const result: ServiceLogs[] = [];
    for (const name of names) {
      const file = path.join(dir, `${name}.log`);
      result.push({ service: name, lines: existsSync(file) ? await tailLines(file, tail) : [] });
    }
    return result;
  }

  async restart(env: string, service: string): Promise<void> {
    const state = this.readState(env);
    const svc = Object.hasOwn(state.services, service) ? state.services[service] : undefined;
    if (!svc) throw failed(`service ${service} has never been started in ${env}`, { hint: `Deploy first: shipgate deploy ${env} --version <tag>.` });
    const resolved = (this.options.services?.(env) ?? []).find((s) => s.name === service);
    if (!resolved) throw failed(`service ${service} is no longer in shipgate.yml`, { hint: `Deploy a release to ${env} to bring it in line with the config.` });
    if (svc.pid) await stopProcess(svc.pid, svc.startTicks);
    // The launch is rebuilt from the config (secrets from shipgate's environment, as at deploy),
    // so no file ever has to carry a child's environment.
    const spec = launchSpec({ env, version: svc.version, commit: '', services: [resolved] }, resolved, this.layout, this.parentEnv);
    await this.start(env, state, spec, svc.version, resolved);
  }

  private assertPortUsable(env: string, service: ResolvedService, state: EnvRunState, strayPids: number[]): void {
    const port = service.port!;
    const { listening, holders } = portHolders(port);
    if (!listening) return;
    const ours = Object.values(state.services).flatMap((s) => (s.pid && isAlive(s.pid, s.startTicks) ? [s.pid] : []));
    const foreign = holders.filter((h) => h.pid === undefined || (!ours.some((p) => isSameOrDescendant(h.pid!, p)) && !strayPids.includes(h.pid)));
    if (holders.length > 0 && foreign.length === 0) return;
    const who = foreign[0]?.pid ? `pid ${foreign[0].pid} (${foreign[0].command ?? 'command unknown'})` : 'a process shipgate cannot see (another user\'s)';
    throw failed(`${service.name}: port ${port} is held by ${who}, not started by shipgate; stop it or give ${service.name} a free port`, {
      where: `shipgate.yml: services.${service.name}.port`,
      hint: `Stop that process, or give ${service.name} a free port in ${env}; nothing running in ${env} was touched.`,
    });
  }

  /** Records the intent, spawns, then records PID and start time: a kill between leaves the intent. */
  private async start(env: string, state: EnvRunState, spec: LaunchSpec, version: string, service: ResolvedService): Promise<void> {
    const problem = launchProblem(spec);
    if (problem) throw problem;
    if (service.port !== undefined && portHolders(service.port).listening) {
      // Workers of the process just stopped outlive their parent for a moment; they are strays now.
      await stopStrays(await this.strays(env));
      this.assertPortUsable(env, service, { ...state, services: {} }, []);
    }
    const entry: RunningService = { pid: null, startTicks: undefined, version, port: service.port, logFile: spec.logFile, startedAt: new Date().toISOString(), argv: spec.argv, cwd: spec.cwd };
    state.services[spec.service] = entry;
    this.writeState(env, state);
    this.options.failpoint?.('spawn', spec.service, 'before');
    const pid = await this.spawnDetached(spec, version);
    this.options.failpoint?.('spawn', spec.service, 'after');
    state.services[spec.service] = { ...entry, pid, startTicks: processStartTicks(pid) };
    this.writeState(env, state);
  }

  private async spawnDetached(spec: LaunchSpec, version: string): Promise<number> {
    mkdirSync(path.dirname(spec.logFile), { recursive: true });
    // Earlier versions kept the launch environment (passEnv secrets included) beside the log.
    rmSync(`${spec.logFile}.env.json`, { force: true });
    const fd = openSync(spec.logFile, 'a');
    try {
      // The marker lets readers (the monitor, a person) tell this run's lines from earlier ones.
      writeSync(fd, `${startMarker(spec.service, version)} at ${new Date().toISOString()}\n`);
      const child = (() => {
        try {
          return spawn(spec.argv[0], spec.argv.slice(1), { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', fd, fd] });
        } catch (err) {
          throw spawnFailure(spec, err);
        }
      })();
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', (err) => reject(spawnFailure(spec, err)));
      });
      child.on('error', () => undefined);
      child.unref();
      return child.pid!;
    } finally {
      closeSync(fd);
    }
  }

  private readState(env: string): EnvRunState {
    const file = this.layout.stateFile(env);
    if (!existsSync(file)) return { version: undefined, services: {} };
    let state: unknown;
    try {
      state = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw corruptRunRecord(file, env, (err as Error).message);
    }
    const services = (state as { services?: unknown } | null)?.services;
    if (typeof services !== 'object' || services === null || Array.isArray(services)) throw corruptRunRecord(file, env, 'it has no "services" map');
    return state as EnvRunState;
  }

  private writeState(env: string, state: EnvRunState): void {
    const file = this.layout.stateFile(env);
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2));
    renameSync(tmp, file);
  }
}

/** The record of what runs cannot be read: say so, and how to recover, instead of a parser's message. */
function corruptRunRecord(file: string, env: string, why: string): ShipgateError {
  return failed(`the process record of ${env} (${file}) is corrupt: ${why}`, {
    where: file,
    hint: `Move it aside (\`mv ${file} ${file}.corrupt\`), then run \`shipgate status --env ${env}\`: processes of ${env} that are no longer on record are listed there, and the next \`shipgate rollback ${env} --reason ...\` or deploy stops them before starting the release.`,
  });
}

function describeHolders(holders: { pid: number | undefined; command: string | undefined }[]): string {
  const known = holders.filter((h) => h.pid !== undefined);
  return known.length ? ` (held by ${known.map((h) => `pid ${h.pid} (${h.command ?? 'command unknown'})`).join(', ')})` : '';
}

async function tailLines(file: string, count: number): Promise<string[]> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    // Read backwards in chunks so a large log is not loaded whole.
    let position = size;
    let text = '';
    while (position > 0 && text.split('\n').length <= count + 1) {
      const length = Math.min(64 * 1024, position);
      position -= length;
      const buf = Buffer.alloc(length);
      await handle.read(buf, 0, length, position);
      text = buf.toString('utf8') + text;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-count);
  } finally {
    await handle.close();
  }
}
