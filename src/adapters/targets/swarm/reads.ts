// What one evaluation reads from a manager (where each service's tasks run), with the reads that
// may be shared kept a short while. Task placement and every service's spec are read afresh for
// each evaluation: tasks move and a deploy changes specs. The stack's service IDs and the node list
// (addresses and states) change rarely, so they are kept READ_TTL_MS and read again at once when
// they cannot be right: a configured service missing from the index, an ID the manager no longer
// knows, a running task on a node the list does not have or has as not ready.

import { serviceName } from './commands.js';
import type { SwarmNode, SwarmService, SwarmTask } from './parse.js';

/** How long the service index and the node list are reused (one controller pass is about a second). */
export const READ_TTL_MS = 30_000;

/** The stack's services as `docker service ls` lists them: ID and full name. */
export interface ServiceIndexEntry {
  id: string;
  name: string;
}

/**
 * Reads kept across evaluations, shared by every swarm target one context builds (one CLI
 * command, or one `serve` process); keyed by engine (DOCKER_HOST) and stack.
 */
export class SwarmReadCache {
  private readonly entries = new Map<string, { at: number; value: unknown }>();

  constructor(
    readonly now: () => number = Date.now,
    readonly ttlMs = READ_TTL_MS,
  ) {}

  get<T>(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e || this.now() - e.at >= this.ttlMs) return undefined;
    return e.value as T;
  }

  set<T>(key: string, value: T): T {
    this.entries.set(key, { at: this.now(), value });
    return value;
  }

  /** Forgets what one engine said about one stack (after a deploy, stop or restart by this process). */
  forget(key: string): void {
    this.entries.delete(key);
  }
}

export interface SwarmSnapshot {
  services: SwarmService[];
  tasks: SwarmTask[];
  nodes: SwarmNode[];
}

/** The reads a snapshot is made of (SwarmSession's): each runs one or two docker commands. */
export interface SwarmReads {
  /** `docker service ls` of the stack; `cached` says whether the answer may be older than this evaluation. */
  index(fresh: boolean): Promise<{ entries: ServiceIndexEntry[]; cached: boolean }>;
  inspect(ids: string[]): Promise<SwarmService[]>;
  tasks(services: SwarmService[]): Promise<SwarmTask[]>;
  nodes(fresh: boolean): Promise<{ nodes: SwarmNode[]; cached: boolean }>;
}

/** A running task whose node the list does not have, or has as not ready: the list is stale. */
export function nodesStale(tasks: SwarmTask[], nodes: SwarmNode[]): boolean {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  return tasks.some((t) => t.state === 'running' && t.desired === 'running' && byId.get(t.nodeId)?.state !== 'ready');
}

/**
 * Services, tasks and nodes of the stack for one evaluation. `wanted`: the configured services
 * (short names) the caller will look for; one missing from a kept index makes it read again.
 */
export async function snapshot(stack: string, reads: SwarmReads, wanted: string[] = []): Promise<SwarmSnapshot> {
  let index = await reads.index(false);
  const known = (entries: ServiceIndexEntry[]) => wanted.every((w) => entries.some((e) => e.name === serviceName(stack, w)));
  if (index.cached && !known(index.entries)) index = await reads.index(true);
  let services: SwarmService[];
  try {
    services = index.entries.length ? await reads.inspect(index.entries.map((e) => e.id)) : [];
  } catch (err) {
    // A service removed (or the stack deployed again) since the index was read: read it again, once.
    if (!index.cached) throw err;
    index = await reads.index(true);
    services = index.entries.length ? await reads.inspect(index.entries.map((e) => e.id)) : [];
  }
  const [tasks, listed] = await Promise.all([reads.tasks(services), reads.nodes(false)]);
  const nodes = listed.cached && nodesStale(tasks, listed.nodes) ? (await reads.nodes(true)).nodes : listed.nodes;
  return { services, tasks, nodes };
}
