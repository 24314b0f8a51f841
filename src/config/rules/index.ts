import type { ConfigRule } from './rule.js';
import { safetyStateRule } from './safety-state.js';
import { soakDurations } from './soak-durations.js';

/** Every semantic rule `config check` (and every command that loads the config) runs; one line each. */
export const configRules: ConfigRule[] = [
  soakDurations,
  safetyStateRule,
];
