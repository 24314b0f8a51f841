import type { ConfigRule, RuleFinding } from './rule.js';
import { composeFilesByEnv, composeVariablesUsed } from './compose-files.js';

/** A versionVariable the files never read: every release would run the same images, and a rollback changes nothing. */
export const composeVersionVariableRule: ConfigRule = ({ config, dir }) => {
  const found: RuleFinding[] = [];
  for (const { env, target, model, problem } of composeFilesByEnv(config, dir)) {
    // Files that cannot be read are reported once, by the profiles rule when profiles are set;
    // a config kept outside its repository is normal (the release checkout has the files).
    if (!model) {
      if (problem && problem.severity !== 'warning') found.push(problem);
      continue;
    }
    const used = composeVariablesUsed(model);
    if (used.has(target.versionVariable)) continue;
    const candidates = [...used].filter((v) => /TAG|VERSION|SHA|RELEASE/.test(v));
    found.push({
      path: ['environments', env, 'target', 'versionVariable'],
      message: `versionVariable ${target.versionVariable} is never used by ${target.files.join(', ')}`,
      hint: candidates.length ? `The files use ${candidates.join(', ')}: set versionVariable to the one in the image tags.` : `Tag the images with it, e.g. image: registry/app:\${${target.versionVariable}}.`,
    });
  }
  return found;
};
