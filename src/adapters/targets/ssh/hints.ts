// A failed remote command as an error naming the host, with what to check (ssh, checkout, engine).

import { failed, type ShipgateError } from '../../../core/errors.js';
import { describeArgv, type RunResult } from '../../runner/runner.js';
import type { SshTargetSpec } from '../../../config/schema.js';
import type { Host } from './commands.js';

/** What the hints read of the session: the target's settings and where host keys are pinned. */
export interface HintSource {
  o: { spec: Pick<SshTargetSpec, 'dir' | 'remote' | 'dockerHost'>; layout: { knownHosts: string } };
}

const STDERR_LINES = 15;
/** What the ssh client exits with when the connection itself failed. */
export const SSH_FAILED = 255;

export function commandError(ss: HintSource, h: Host, res: RunResult, display: string): ShipgateError {
  const output = lastLines(res.stderr) || lastLines(res.stdout) || 'no output';
  const data = { host: h.label, command: display, exitCode: res.exitCode };
  if (res.exitCode === SSH_FAILED) {
    return failed(`ssh to host ${h.label} failed (exit 255: connection refused, lost or not allowed) running \`${display}\`: ${output}`, { hint: sshHint(ss, h, res.stderr), data });
  }
  if (res.exitCode === 127 && res.argv[0] === 'ssh' && /ENOENT|spawn ssh/.test(res.stderr)) {
    return failed('the ssh client is not installed here', { hint: 'Install it (Debian: apt-get install openssh-client).', data });
  }
  return failed(`on host ${h.label}: \`${display}\` failed (exit ${res.exitCode}): ${output}`, { hint: commandHint(ss, h, res), data });
}

export function commandHint(ss: HintSource, h: Host, res: RunResult): string {
  const { dir, remote } = ss.o.spec;
  const text = `${res.stderr}\n${res.stdout}`;
  if (/cannot change to|not a git repository/i.test(text)) {
    return `${h.label} has no checkout at ${dir}: clone the stack's repository there once (git clone <url> ${dir}), with the remote "${remote}" shipgate fetches.`;
  }
  if (/reference is not a tree|unable to read tree|did not match any|bad object/i.test(text)) {
    return `The release's commit is not in ${h.label}'s checkout even after fetching "${remote}": push the tag to the repository that remote points at (git -C ${dir} remote get-url ${remote} on the host).`;
  }
  if (/Cannot connect to the Docker daemon|Couldn't connect to Docker daemon|Is the docker daemon running/i.test(text)) {
    return `The Docker engine on ${h.label} does not answer${ss.o.spec.dockerHost ? ` at ${ss.o.spec.dockerHost}` : ''}: start it there, or set target.dockerHost in shipgate.yml.`;
  }
  return `Run it on the host to see the whole output (ssh -p ${h.port} ${h.user}@${h.host}, in ${dir}); shipgate's command log is .shipgate/ssh/<env>.commands.log.`;
}

export function sshHint(ss: HintSource, h: Host, stderr: string): string {
  // Quoted for a shell where needed: a key file path may hold blanks.
  const check = describeArgv(['ssh', '-i', h.keyFile, '-p', String(h.port), `${h.user}@${h.host}`, 'true']);
  if (/Permission denied|Too many authentication failures/i.test(stderr)) {
    return `${h.user}@${h.host} refused the key ${h.keyFile}: add its public key to the user's authorized_keys on the host, then check with \`${check}\`.`;
  }
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/i.test(stderr)) {
    return `The host key of ${h.label} is not the one pinned in ${ss.o.layout.knownHosts}. If the host was rebuilt on purpose, remove the old key (ssh-keygen -R '[${h.host}]:${h.port}' -f ${ss.o.layout.knownHosts}); otherwise find out who answers there before deploying.`;
  }
  return `Check that ${h.label} is up and its sshd answers: \`${check}\`. The step failed and the deployment with it; every step is idempotent, so once the host answers, deploy the same version again to finish.`;
}

export function lastLines(text: string, count = STDERR_LINES): string {
  return text.trim().split('\n').slice(-count).join('\n').trim();
}
