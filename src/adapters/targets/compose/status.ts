// What runs and what it says: containers, service logs, and what `diagnose` shows a person.

import { existsSync } from 'node:fs';
import { describeArgv } from '../../runner/runner.js';
import { startMarker, type ServiceLogs } from '../target.js';
import { composeCommands, dockerCommands } from './commands.js';
import { lastLines } from './hints.js';
import { normalizeImageRef, parseInspect, plainLogLines, splitPrefixedLogs, type ComposeService, type ComposeServiceStatus } from './parse.js';
import { TIMEOUTS, type ComposeSession } from './session.js';

export async function listContainers(cs: ComposeSession, env: string): Promise<ComposeServiceStatus[]> {
  const state = cs.readState(env);
  const ids = await cs.containerIds(env, state.project);
  if (!ids.length) return [];
  const res = await cs.exec(env, dockerCommands.inspect(ids), cs.engineContext(), TIMEOUTS.other);
  return parseInspect(res.stdout, {
    version: state.version,
    ports: Object.fromEntries(state.services.map((s) => [s.name, s.port])),
    order: state.services.map((s) => s.name),
  });
}

export async function serviceLogs(cs: ComposeSession, env: string, service: string | undefined, tail: number): Promise<ServiceLogs[]> {
  const state = cs.readState(env);
  const names = service ? [service] : state.services.map((s) => s.name);
  if (!state.dir || !existsSync(state.dir)) return names.map((name) => ({ service: name, lines: [] }));
  const ctx = cs.storedContext(state);
  const res = await cs.exec(env, composeCommands.logs(ctx.inv, tail, service), ctx, TIMEOUTS.other);
  const byService = service ? new Map([[service, plainLogLines(res.stdout)]]) : splitPrefixedLogs(res.stdout, names);
  const containers = state.version ? await listContainers(cs, env) : [];
  return names.map((name) => {
    const lines = (byService.get(name) ?? []).slice(-tail);
    // Container logs hold one release only; the marker says so to readers that look for it
    // (the monitor), when the whole log fits in the tail and so really starts here.
    const c = containers.find((x) => x.service === name);
    if (c?.startedAt && state.version && lines.length < tail) lines.unshift(`${startMarker(name, state.version)} at ${c.startedAt}`);
    return { service: name, lines };
  });
}

/** For `diagnose`: what a person would look at (runbook: logs, `docker-compose config`, `docker images`). */
export async function diagnoseProject(cs: ComposeSession, env: string): Promise<ComposeDiagnosis> {
  const state = cs.readState(env);
  const services = await listContainers(cs, env).catch(() => []);
  const out: ComposeDiagnosis = { project: state.project, dir: state.dir, version: state.version, services, config: undefined, missingImages: [], logs: {} };
  if (!state.dir || !existsSync(state.dir)) return out;
  const ctx = cs.storedContext(state);
  const [res, { parseComposeConfig }] = await Promise.all([cs.run(env, composeCommands.config(ctx.inv), ctx, TIMEOUTS.other), import('./config-output.js')]);
  out.configCommand = `${ctx.display}${describeArgv(res.argv)}`;
  out.config = { ok: res.exitCode === 0, services: res.exitCode === 0 ? parseComposeConfig(res.stdout) : [], warnings: res.stderr.split('\n').filter((l) => /WARN/i.test(l)).map((l) => l.trim()), error: res.exitCode === 0 ? undefined : lastLines(res.stderr) };
  const images = out.config.services.map((s) => s.image).filter((i): i is string => i !== undefined);
  const present = await cs.existingImages(images).catch(() => new Set<string>());
  out.missingImages = images.filter((i) => !present.has(normalizeImageRef(i)));
  for (const s of services.filter((x) => x.state !== 'running' || x.health === 'unhealthy')) {
    const logs = await cs.run(env, composeCommands.logs(ctx.inv, 20, s.service), ctx, TIMEOUTS.other);
    out.logs[s.service] = logs.exitCode === 0 ? plainLogLines(logs.stdout) : [];
  }
  out.logsCommand = (service: string) => `${ctx.display}${describeArgv(composeCommands.logs(ctx.inv, 100, service))}`;
  return out;
}

export interface ComposeDiagnosis {
  project: string;
  dir: string | undefined;
  version: string | undefined;
  services: ComposeServiceStatus[];
  /** `compose config` of the running release: its services, the variable warnings, or its error. */
  config: { ok: boolean; services: ComposeService[]; warnings: string[]; error: string | undefined } | undefined;
  configCommand?: string;
  missingImages: string[];
  /** Last lines of each stopped or unhealthy service. */
  logs: Record<string, string[]>;
  logsCommand?: (service: string) => string;
}
