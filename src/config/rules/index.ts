import { launchBytes } from './launch-bytes.js';
import type { ConfigRule } from './rule.js';

/** Every semantic rule `config check` (and every command that loads the config) runs; one line each. */
export const configRules: ConfigRule[] = [
  launchBytes,
];
