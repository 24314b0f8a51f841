import type { ConfigRule, RuleFinding } from './rule.js';

// A NUL cannot be handed to a program at all, and a line break in a command, a directory or a
// variable is almost always a paste accident; either would fail only once the old release had
// stopped. Values are walked in linear time.
const CONTROL = /[\0\n\r]/;

function describe(text: string): string {
  return text.includes('\0') ? 'a NUL byte' : 'a line break';
}

function check(path: (string | number)[], value: unknown, what: string, out: RuleFinding[]): void {
  if (typeof value !== 'string' || !CONTROL.test(value)) return;
  out.push({ path, message: `${what} contains ${describe(value)}`, hint: 'Remove the control character; commands, directories and environment values are single-line text (a secret goes in passEnv, never in this file).' });
}

function checkService(prefix: (string | number)[], svc: { command?: string[] | undefined; cwd?: string | undefined; env?: Record<string, string> | undefined }, out: RuleFinding[]): void {
  for (const [i, arg] of (svc.command ?? []).entries()) check([...prefix, 'command', i], arg, `argument ${i} of the command`, out);
  check([...prefix, 'cwd'], svc.cwd, 'the working directory', out);
  for (const [name, value] of Object.entries(svc.env ?? {})) {
    check([...prefix, 'env', name], name, `the variable name ${JSON.stringify(name)}`, out);
    check([...prefix, 'env', name], value, `the value of ${name}`, out);
  }
}

/** NUL or line breaks in what is passed to a started process: its command, cwd and environment. */
export const launchBytes: ConfigRule = ({ config }) => {
  const out: RuleFinding[] = [];
  for (const [name, svc] of Object.entries(config.services)) checkService(['services', name], svc, out);
  for (const [envName, env] of Object.entries(config.environments)) {
    for (const [name, value] of Object.entries(env.env)) check(['environments', envName, 'env', name], value, `the value of ${name}`, out);
    for (const [name, svc] of Object.entries(env.services)) checkService(['environments', envName, 'services', name], svc, out);
  }
  return out;
};
