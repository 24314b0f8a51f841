// `config check --live` on an environment whose target places tasks itself (swarm): the services
// located as a soak and a monitor locate them (observed.ts), each metric row saying on which nodes
// the scrape reads, and one health row per service read where the monitor reads it.
import path from 'node:path';
import { httpHealthProbe, type HealthProbe } from '../../adapters/health/http-probe.js';
import { localRunner } from '../../adapters/runner/runner.js';
import { targetFactory } from '../../adapters/targets/factory.js';
import { GitRepository } from '../../adapters/vcs/git.js';
import { stateDir, type ResolvedEnvironment, type ResolvedService } from '../../config/resolve.js';
import type { ShipgateConfig } from '../../config/schema.js';
import { observedHealth, observedServices, type ObservedServices } from './observed.js';

/** The environment's services where its target runs them; undefined when the target reads them where configured. */
export async function locateForLiveCheck(config: ShipgateConfig, configFile: string, environment: ResolvedEnvironment, processEnv: NodeJS.ProcessEnv = process.env): Promise<ObservedServices | undefined> {
  const dir = path.dirname(configFile);
  const make = await targetFactory(config);
  const deps = { config, stateDir: stateDir(dir, config), repo: new GitRepository(path.resolve(dir, config.repository), localRunner), runner: localRunner, env: processEnv, services: () => environment.services };
  const target = make(environment.name, environment.spec, deps);
  if (!target.reachable) return undefined;
  return observedServices({ target: () => target }, environment.name, environment.services);
}

/** `task 1 of 2`, `tasks 1-2 of 2`; a global service (no replica count) runs one task per node. */
function tasksOf(count: number, desired: number | undefined): string {
  const range = count === 1 ? 'task 1' : `tasks 1-${count}`;
  return desired === undefined ? `${range} (global)` : `${range} of ${desired}`;
}

/** Where the scrape of a metric check reads: every running task of each service with metrics, on its node. */
export function metricsWhere(services: ResolvedService[]): { where: string; warnings: string[] } | undefined {
  const placed = services.filter((s) => s.metricsUrl && s.placement && !s.placement.missing);
  if (!placed.length) return undefined;
  const parts = placed.map((s) => `${s.name} ${tasksOf(s.placement!.nodes.length, s.placement!.desired)} on ${s.placement!.nodes.join(', ')}`);
  const warnings = placed
    .filter((s) => s.placement!.desired !== undefined && s.placement!.nodes.length < s.placement!.desired)
    .map((s) => `${s.name} runs ${s.placement!.nodes.length} of ${s.placement!.desired} tasks: the reading sums the tasks that run`);
  return { where: `scraped where the tasks run: ${parts.join('; ')}`, warnings };
}

/** One service's health as `config check --live` shows it. */
export interface LiveHealthRow {
  name: string;
  type: 'health';
  status: 'ok' | 'warning' | 'error';
  /** `GET URL`: the URL on the node the monitor reads it on. */
  reads?: string;
  /** `read on node 10.0.0.3, task 1 of 2`. */
  where?: string;
  version?: string;
  note?: string;
  warnings?: string[];
  error?: string;
}

/** Each service's health read once, where the monitor reads it; a service nobody can locate is an error, never ok. */
export async function liveHealthRows(observed: ObservedServices, environment: ResolvedEnvironment, probe: HealthProbe = httpHealthProbe): Promise<LiveHealthRow[]> {
  const report = await observedHealth(observed, undefined, environment.spec.health.requestTimeout, { probe });
  return observed.services.flatMap((s): LiveHealthRow[] => {
    if (!s.healthUrl) return [];
    const seen = report.services.find((r) => r.service === s.name)!;
    const where = !observed.error && s.placement && !s.placement.missing ? `read on node ${s.placement.nodes[0]}, ${tasksOf(1, s.placement.desired)} (${s.placement.nodes.length} running)` : undefined;
    const base: LiveHealthRow = { name: s.name, type: 'health', status: 'ok', ...(where ? { reads: `GET ${s.health?.url ?? s.healthUrl}`, where } : {}) };
    if (!seen.healthy) return [{ ...base, status: 'error', error: seen.reason }];
    const short = s.placement && s.placement.desired !== undefined && s.placement.nodes.length < s.placement.desired;
    return [{ ...base, ...(seen.version ? { version: seen.version } : {}), note: seen.reason, ...(short ? { status: 'warning', warnings: [`${s.placement!.nodes.length} of ${s.placement!.desired} tasks running`] } : {}) }];
  });
}
