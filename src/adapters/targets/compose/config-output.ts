// Apart from parse.ts so that a command that needs no `compose config` (a rollback whose answer is
// kept in the state file, ps, logs) does not load the YAML parser.

import { parse as parseYaml } from 'yaml';
import { composeDurationSeconds, type ComposeService } from './parse.js';

/** Parses `compose config` output (YAML for v1 and v2). */
export function parseComposeConfig(text: string): ComposeService[] {
  const doc = parseYaml(text) as { services?: Record<string, { image?: unknown; build?: unknown; stop_grace_period?: unknown; profiles?: unknown } | null> } | null;
  return Object.entries(doc?.services ?? {}).map(([name, svc]) => {
    const grace = composeDurationSeconds(svc?.stop_grace_period);
    const profiles = Array.isArray(svc?.profiles) ? svc.profiles.map(String) : [];
    return {
      name,
      image: typeof svc?.image === 'string' && svc.image ? svc.image : undefined,
      buildable: svc?.build !== undefined && svc?.build !== null,
      ...(grace !== undefined ? { stopGraceSeconds: grace } : {}),
      ...(profiles.length ? { profiles } : {}),
    };
  });
}
