import { forEachEntry, type ConfigRule, type RuleFinding } from './rule.js';

/** A command whose program starts with `-` would be read as an option by whatever runs it, never as a program. */
export const commandOptionRule: ConfigRule = ({ config }) => {
  const found: RuleFinding[] = [];
  const check = (command: string[] | undefined, path: (string | number)[], name: string) => {
    if (command?.[0]?.startsWith('-')) found.push({ path: [...path, 0], message: `the command of ${name} starts with "${command[0]}", an option, not a program`, hint: 'Put the program first, e.g. [node, main.mjs, --port, "8080"] (the compose file\'s arguments are not a host command).' });
  };
  forEachEntry(config.services, (name, s) => check(s.command, ['services', name, 'command'], name));
  for (const [env, e] of Object.entries(config.environments)) {
    forEachEntry(e.services, (name, o) => check(o.command, ['environments', env, 'services', name, 'command'], name));
  }
  return found;
};
