import type { ConfigRule } from './rule.js';
import { safetyStateRule } from './safety-state.js';

/** Every semantic rule `config check` (and every command that loads the config) runs; one line each. */
export const configRules: ConfigRule[] = [
  safetyStateRule,
];
