import type { ShipgateConfig } from '../schema.js';

/**
 * A semantic check of a config the schema accepted: something a deploy would fail on (two
 * services on one port, a profile the compose files never define…). Rules are pure; they name
 * the offending field by its path and `config check` turns that into file:line:col.
 */
export interface RuleFinding {
  /** Path of the field at fault, e.g. ['environments', 'prod', 'services', 'api', 'port']. */
  path: (string | number)[];
  message: string;
  hint: string;
  /** Point at the key rather than at its value (e.g. a service name). */
  at?: 'key' | 'value';
  /** Warnings are shown but do not fail `config check` (exit 0). */
  severity?: 'error' | 'warning';
}

export interface RuleContext {
  config: ShipgateConfig;
  /** Directory of the config file: relative paths (compose files) resolve from here. */
  dir: string;
}

export type ConfigRule = (ctx: RuleContext) => RuleFinding[];

/**
 * Calls `visit` with each key and value of a map, in Object.entries' order without building its
 * pairs: on the 130 000 services of a big file Object.entries took 0.19 s per rule (a map that
 * size is a hash table, the slow path of Object.entries) and left 130 000 arrays of garbage.
 */
export function forEachEntry<T>(map: Record<string, T>, visit: (key: string, value: T) => void): void {
  for (const key of Object.keys(map)) visit(key, map[key]!);
}
