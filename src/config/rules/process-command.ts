import type { ConfigRule, RuleFinding } from './rule.js';

/** The process target runs each service's command; compose runs what its files say, so only process needs one. */
export const processCommandRule: ConfigRule = ({ config }) => {
  const found: RuleFinding[] = [];
  for (const [env, e] of Object.entries(config.environments)) {
    if (e.target.type !== 'process') continue;
    for (const [name, s] of Object.entries(config.services)) {
      if (!(e.services[name]?.command ?? s.command)) {
        found.push({ path: ['services', name], at: 'key', message: `${name} has no command, which the process target of ${env} needs`, hint: `Add command: [program, args…], or run ${env} with a compose target.` });
      }
    }
  }
  const seen = new Set<string>();
  return found.filter((f) => !seen.has(f.path.join('.')) && seen.add(f.path.join('.')));
};
