import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { failed, type ShipgateError } from '../../../core/errors.js';
import type { LaunchSpec } from './launch.js';

// NUL cannot be passed to a program at all; a newline in an argument or variable is almost
// always a paste accident that would start something other than what the file seems to say.
const CONTROL = /[\0\n\r]/;

function describeBytes(text: string): string {
  return text.includes('\0') ? 'a NUL byte' : 'a line break';
}

/** Where `program` would be found when run from `cwd` with `envPath` (as spawn looks it up). */
export function resolveProgram(program: string, cwd: string, envPath: string | undefined): string | undefined {
  if (program.includes('/')) return path.resolve(cwd, program);
  for (const dir of (envPath ?? '').split(':').filter(Boolean)) {
    const candidate = path.resolve(cwd, dir, program);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* not in this PATH entry */
    }
  }
  return undefined;
}

/**
 * Everything that would make spawning `spec` fail, found before anything running is touched:
 * a deploy must know it can start the new release before it stops the old one.
 */
export function launchProblem(spec: LaunchSpec): ShipgateError | undefined {
  const where = `shipgate.yml: services.${spec.service}`;
  const shown = spec.argv.map((a) => JSON.stringify(a)).join(', ');
  for (const [i, arg] of spec.argv.entries()) {
    if (CONTROL.test(arg)) return failed(`argument ${i} of ${spec.service}'s command contains ${describeBytes(arg)}`, { where: `${where}.command`, hint: 'Remove the control character from the command in shipgate.yml.' });
  }
  if (CONTROL.test(spec.cwd)) return failed(`the working directory of ${spec.service} contains ${describeBytes(spec.cwd)}`, { where: `${where}.cwd`, hint: 'Remove the control character from cwd in shipgate.yml.' });
  for (const [name, value] of Object.entries(spec.env)) {
    // A passed-through secret may span lines (a PEM key); only NUL cannot be passed at all.
    if (CONTROL.test(name) || value.includes('\0') || name.includes('=')) {
      return failed(`the environment variable ${JSON.stringify(name)} of ${spec.service} contains ${name.includes('=') ? 'a "="' : describeBytes(name + value)}`, { where: `${where}.env`, hint: 'Environment values are single-line text; remove the control character in shipgate.yml (or in the variable passed through passEnv).' });
    }
  }
  try {
    if (!statSync(spec.cwd).isDirectory()) throw new Error('not a directory');
  } catch {
    return failed(`the working directory ${spec.cwd} of ${spec.service} does not exist in the release`, { where: `${where}.cwd`, hint: 'Check the service\'s cwd in shipgate.yml (it is relative to the release checkout).' });
  }
  const program = spec.argv[0]!;
  const resolved = resolveProgram(program, spec.cwd, spec.env.PATH);
  let stats;
  try {
    stats = resolved === undefined ? undefined : statSync(resolved);
  } catch {
    stats = undefined;
  }
  if (!stats) {
    const fix = program.includes('/') ? `fix services.${spec.service}.command in shipgate.yml (paths are relative to the service's cwd in the release checkout)` : `install ${program} on this host or fix services.${spec.service}.command in shipgate.yml`;
    return failed(`cannot start ${spec.service}: the program ${JSON.stringify(program)} of its command [${shown}] was not found${program.includes('/') ? ` (${resolved})` : ' on PATH'}; ${fix}`, { where: `${where}.command`, hint: `${fix[0]!.toUpperCase()}${fix.slice(1)}.` });
  }
  try {
    if (stats.isDirectory()) throw new Error('directory');
    accessSync(resolved!, constants.X_OK);
  } catch {
    const fix = `make it executable (chmod +x) in the repository, or run it through its interpreter, e.g. [sh, ${program}] or [python3, ${program}]`;
    return failed(`cannot start ${spec.service}: ${resolved} (from its command [${shown}]) is not an executable file; ${fix}`, { where: `${where}.command`, hint: `${fix[0]!.toUpperCase()}${fix.slice(1)}.` });
  }
  return undefined;
}

/** Turns a spawn failure (ENOENT, EACCES, a NUL byte Node refuses) into one line for a person. */
export function spawnFailure(spec: LaunchSpec, err: unknown): ShipgateError {
  return (
    launchProblem(spec) ??
    failed(`cannot start ${spec.service} with [${spec.argv.map((a) => JSON.stringify(a)).join(', ')}]: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      where: `shipgate.yml: services.${spec.service}.command`,
      hint: 'Check that the program exists and is executable on this host, and fix the command in shipgate.yml.',
    })
  );
}
