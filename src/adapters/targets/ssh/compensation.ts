// Returning hosts to the release they ran before a failed rollout.

import type { ReleaseSpec } from '../target.js';
import { upHost } from './hosts.js';
import type { Host, SshSession } from './session.js';
import type { ReleaseRef } from './state.js';

/**
 * Returns hosts to a release they ran (checkout + `up --no-build`), best effort, in order.
 * Returns a sentence for the error: which hosts are back on what, which could not be.
 */
export async function returnHosts(ss: SshSession, env: string, failedRelease: ReleaseRef | undefined, hosts: Host[], to: (h: Host) => ReleaseRef, services?: ReleaseSpec['services']): Promise<string> {
  const back: string[] = [];
  const not: string[] = [];
  for (const h of hosts) {
    const ref = to(h);
    try {
      if (failedRelease && ref.version === failedRelease.version && ref.commit === failedRelease.commit) continue;
      ss.o.progress?.info(`[${h.label}] returning to ${ref.version}`);
      await upHost(ss, h, { env, version: ref.version, commit: ref.commit, ...(services ? { services } : {}) });
      back.push(`${h.label} (${ref.version})`);
    } catch (err) {
      not.push(`${h.label} (${(err as Error).message.split('\n')[0]})`);
    }
  }
  ss.note(env, `returned: ${back.join(', ') || 'none'}; could not return: ${not.join(', ') || 'none'}`);
  return [back.length ? `Returned to the release they ran before: ${back.join(', ')}.` : '', not.length ? `Could not be returned: ${not.join('; ')}.` : ''].filter(Boolean).join(' ');
}
