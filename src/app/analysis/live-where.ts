// `config check --live` on an environment whose target places tasks itself (swarm): the services
// located as a soak and a monitor locate them (observed.ts), each metric row saying on which nodes
// the scrape reads, and where each service's health is read (live-health.ts judges it).
import path from 'node:path';
import { localRunner } from '../../adapters/runner/runner.js';
import { targetFactory } from '../../adapters/targets/factory.js';
import { GitRepository } from '../../adapters/vcs/git.js';
import { stateDir, type ResolvedEnvironment, type ResolvedService } from '../../config/resolve.js';
import type { ShipgateConfig } from '../../config/schema.js';
import { observedServices, type ObservedServices } from './observed.js';

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

/** Where a located service's health is read: the node of its first running task; undefined when it cannot be located. */
export function healthWhere(s: ResolvedService, observed: ObservedServices): string | undefined {
  return !observed.error && s.placement && !s.placement.missing ? `read on node ${s.placement.nodes[0]}, ${tasksOf(1, s.placement.desired)} (${s.placement.nodes.length} running)` : undefined;
}

/** Why a located service's health cannot be read at all (the manager failed, or no task runs on a ready node). */
export function unlocated(s: ResolvedService, observed: ObservedServices): string | undefined {
  if (observed.error) return observed.error;
  return s.placement?.missing ? `${s.name} is not running where its target places it: ${s.placement.missing}` : undefined;
}

/** Fewer tasks running than the service wants: `1 of 2 tasks running`. */
export function shortOfTasks(s: ResolvedService): string | undefined {
  const p = s.placement;
  return p && p.desired !== undefined && !p.missing && p.nodes.length < p.desired ? `${p.nodes.length} of ${p.desired} tasks running` : undefined;
}
