import type { ConfigRule, RuleFinding } from './rule.js';
import { composeFilesByEnv, declaredProfiles } from './compose-files.js';

/** A profile no service declares activates nothing: compose says nothing, and the service you meant never starts. */
export const composeProfilesRule: ConfigRule = ({ config, dir }) => {
  const found: RuleFinding[] = [];
  for (const { env, target, model, problem } of composeFilesByEnv(config, dir)) {
    if (!model) {
      if (problem && target.profiles.length) found.push(problem);
      continue;
    }
    const declared = declaredProfiles(model);
    target.profiles.forEach((p, i) => {
      if (!declared.includes(p)) found.push({ path: ['environments', env, 'target', 'profiles', i], message: `profile "${p}" is declared by no service in ${target.files.join(', ')}`, hint: declared.length ? `Declared profiles: ${declared.join(', ')}.` : 'No service declares profiles: remove the list.' });
    });
  }
  return found;
};
