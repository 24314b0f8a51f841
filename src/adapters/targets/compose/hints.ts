// What a failed compose or docker command is reported with: its last lines and what to do about it.

import type { RunResult } from '../../runner/runner.js';
import type { CommandContext } from './command-context.js';

const STDERR_LINES = 15;

export function lastLines(text: string, count = STDERR_LINES): string {
  return text.trim().split('\n').slice(-count).join('\n').trim();
}

export function hintFor(res: RunResult, ctx: CommandContext): string {
  const text = `${res.stderr}\n${res.stdout}`;
  if (res.exitCode === 127 && /EACCES/.test(text)) {
    return `${res.argv[0]} is not executable by this user: fix its permissions (chmod +x), or set target.cli in shipgate.yml to the CLI you can run.`;
  }
  if (res.exitCode === 127) {
    return `${res.argv[0]} is not installed here: install it (Debian: apt-get install docker.io docker-compose), or set target.cli in shipgate.yml.`;
  }
  if (/Cannot connect to the Docker daemon|Is the docker daemon running|Couldn't connect to Docker daemon|connection refused|no such file or directory.*\.sock/i.test(text)) {
    return `The Docker engine does not answer at ${ctx.env.DOCKER_HOST ?? 'the default socket'}: start it, or set target.dockerHost in shipgate.yml.`;
  }
  return `Run it by hand${ctx.cwd ? ` in ${ctx.cwd}` : ''} to see the whole output; shipgate's command log is .shipgate/compose/<env>.commands.log.`;
}
