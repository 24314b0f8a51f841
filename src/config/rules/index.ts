import { badPortsRule } from './bad-ports.js';
import { commandOptionRule } from './command-option.js';
import { composeProfilesRule } from './compose-profiles.js';
import { composeVersionVariableRule } from './compose-version-variable.js';
import { controlCharactersRule } from './control-characters.js';
import { duplicatePortsRule } from './duplicate-ports.js';
import { infrastructureUrlsRule } from './infrastructure-urls.js';
import type { ConfigRule } from './rule.js';
import { safetyStateRule } from './safety-state.js';
import { soakDurations } from './soak-durations.js';
import { sshOptionsRule } from './ssh-options.js';
import { urlSchemeRule } from './url-scheme.js';

/** Every semantic rule `config check` (and every command that loads the config) runs; one line each. */
export const configRules: ConfigRule[] = [
  duplicatePortsRule,
  commandOptionRule,
  infrastructureUrlsRule,
  composeVersionVariableRule,
  composeProfilesRule,
  sshOptionsRule,
  controlCharactersRule,
  urlSchemeRule,
  badPortsRule,
  soakDurations,
  safetyStateRule,
];
