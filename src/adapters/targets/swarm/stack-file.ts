// The stack spec shipgate records for a release (pure): `docker stack config` output with the
// release label on every container and stop-first for the services that must not run twice.

import { parse as parseYaml, stringify } from 'yaml';
import { badInput } from '../../../core/errors.js';
import { RELEASE_LABEL } from './commands.js';

type Doc = { version?: string; services?: Record<string, Record<string, unknown> | null>; [k: string]: unknown };

export interface StackService {
  name: string;
  image: string | undefined;
  /** deploy.replicas (1 when not set, as Swarm does); undefined for `mode: global`. */
  replicas: number | undefined;
  /** deploy.update_config.order as the file says it, after shipgate's defaults. */
  updateOrder: string | undefined;
  failureAction: string | undefined;
}

export interface SpecOptions {
  version: string;
  /** Services that must never run twice: update and rollback order forced to stop-first. */
  exclusive: string[];
}

/** The spec to deploy and record, from `docker stack config` of the release's files. */
export function releaseSpec(configText: string, o: SpecOptions): string {
  const doc = (parseYaml(configText) ?? {}) as Doc;
  const services = doc.services ?? {};
  for (const [name, raw] of Object.entries(services)) {
    const svc = (raw ?? {}) as Record<string, unknown>;
    svc.labels = { ...labelsOf(svc.labels), [RELEASE_LABEL]: o.version };
    if (o.exclusive.includes(name)) {
      const deploy = (svc.deploy ?? {}) as Record<string, unknown>;
      const replicas = deploy.replicas === undefined ? 1 : Number(deploy.replicas);
      if (deploy.mode === 'global' || replicas > 1) {
        throw badInput(`service ${name} is listed in target.exclusive (must never run twice) but the stack file asks for ${deploy.mode === 'global' ? 'mode: global' : `replicas: ${replicas}`}`, {
          where: `services.${name}.deploy`,
          hint: `Set deploy.replicas: 1 for ${name}, or remove it from target.exclusive in shipgate.yml if two copies may run at once.`,
        });
      }
      deploy.update_config = { ...((deploy.update_config ?? {}) as object), order: 'stop-first' };
      deploy.rollback_config = { ...((deploy.rollback_config ?? {}) as object), order: 'stop-first' };
      svc.deploy = deploy;
    }
    services[name] = svc;
  }
  doc.services = services;
  return stringify(doc);
}

/** Compose allows labels as a map or as `key=value` items. */
function labelsOf(labels: unknown): Record<string, string> {
  if (Array.isArray(labels)) return Object.fromEntries(labels.map((l) => String(l)).map((l) => [l.split('=')[0]!, l.slice(l.indexOf('=') + 1)]));
  if (labels && typeof labels === 'object') return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
  return {};
}

/** The services of a stack spec, as far as a deploy needs them. */
export function specServices(specText: string): StackService[] {
  const doc = (parseYaml(specText) ?? {}) as Doc;
  return Object.entries(doc.services ?? {}).map(([name, raw]) => {
    const svc = (raw ?? {}) as Record<string, unknown>;
    const deploy = (svc.deploy ?? {}) as Record<string, unknown>;
    const update = (deploy.update_config ?? {}) as Record<string, unknown>;
    return {
      name,
      image: typeof svc.image === 'string' ? svc.image : undefined,
      replicas: deploy.mode === 'global' ? undefined : deploy.replicas === undefined ? 1 : Number(deploy.replicas),
      updateOrder: typeof update.order === 'string' ? update.order : undefined,
      failureAction: typeof update.failure_action === 'string' ? update.failure_action : undefined,
    };
  });
}
