import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { failed } from '../../../core/errors.js';
import type { GitRepository } from '../../vcs/git.js';
import { startMarker, type ReleaseSpec, type ServiceLogs, type ServiceStatus, type Target } from '../target.js';
import { launchSpec, type LaunchSpec, type ProcessLayout } from './launch.js';
import { isAlive, processStartTicks, stopProcess } from './pids.js';

interface RunningService {
  pid: number;
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

/** Runs each service as a detached child process that outlives the CLI. */
export class ProcessTarget implements Target {
  constructor(
    private readonly layout: ProcessLayout,
    private readonly repo: GitRepository,
    private readonly parentEnv: NodeJS.ProcessEnv = process.env,
  ) {}

  async prepare(release: ReleaseSpec): Promise<void> {
    const dir = this.layout.releaseDir(release.env, release.version);
    mkdirSync(path.dirname(dir), { recursive: true });
    await this.repo.checkout(dir, release.commit);
  }

  async up(release: ReleaseSpec): Promise<void> {
    const state = this.readState(release.env);
    for (const service of release.services) {
      const previous = state.services[service.name];
      if (previous) await stopProcess(previous.pid, previous.startTicks);
      const spec = launchSpec(release, service, this.layout, this.parentEnv);
      state.services[service.name] = this.start(spec, release.version, service.port);
      state.version = release.version;
      // Written after every start so a crash between services still leaves every PID known.
      this.writeState(release.env, state);
    }
  }

  async down(env: string): Promise<void> {
    const state = this.readState(env);
    for (const [name, svc] of Object.entries(state.services)) {
      await stopProcess(svc.pid, svc.startTicks);
      delete state.services[name];
      this.writeState(env, state);
    }
    state.version = undefined;
    this.writeState(env, state);
  }

  async ps(env: string): Promise<ServiceStatus[]> {
    const state = this.readState(env);
    return Object.entries(state.services).map(([name, svc]) => {
      const alive = isAlive(svc.pid, svc.startTicks);
      return {
        service: name,
        state: alive ? 'running' : 'stopped',
        version: svc.version,
        pid: svc.pid,
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
    await stopProcess(svc.pid, svc.startTicks);
    const spec: LaunchSpec = { service, argv: svc.argv as LaunchSpec['argv'], cwd: svc.cwd, env: this.readLaunchEnv(env, service), logFile: svc.logFile };
    state.services[service] = this.start(spec, svc.version, svc.port);
    this.writeState(env, state);
  }

  private start(spec: LaunchSpec, version: string, port: number | undefined): RunningService {
    if (!existsSync(spec.cwd)) throw failed(`working directory ${spec.cwd} of ${spec.service} does not exist in the release`, { hint: 'Check the service\'s cwd in shipgate.yml.' });
    mkdirSync(path.dirname(spec.logFile), { recursive: true });
    const fd = openSync(spec.logFile, 'a');
    try {
      // The marker lets readers (the monitor, a person) tell this run's lines from earlier ones.
      writeSync(fd, `${startMarker(spec.service, version)} at ${new Date().toISOString()}\n`);
      const child = spawn(spec.argv[0], spec.argv.slice(1), { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', fd, fd] });
      if (child.pid === undefined) throw failed(`could not start ${spec.service}: ${spec.argv[0]} was not found`, { hint: 'Check the service\'s command in shipgate.yml.' });
      child.on('error', () => undefined);
      child.unref();
      writeFileSync(this.launchEnvFile(spec.logFile), JSON.stringify(spec.env));
      return { pid: child.pid, startTicks: processStartTicks(child.pid), version, port, logFile: spec.logFile, startedAt: new Date().toISOString(), argv: spec.argv, cwd: spec.cwd };
    } finally {
      closeSync(fd);
    }
  }

  // The launch environment is kept beside the log so `restart` reproduces it exactly.
  private launchEnvFile(logFile: string): string {
    return `${logFile}.env.json`;
  }

  private readLaunchEnv(env: string, service: string): Record<string, string> {
    const file = this.launchEnvFile(this.layout.logFile(env, service));
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  }

  private readState(env: string): EnvRunState {
    const file = this.layout.stateFile(env);
    if (!existsSync(file)) return { version: undefined, services: {} };
    return JSON.parse(readFileSync(file, 'utf8')) as EnvRunState;
  }

  private writeState(env: string, state: EnvRunState): void {
    const file = this.layout.stateFile(env);
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2));
    renameSync(tmp, file);
  }
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
