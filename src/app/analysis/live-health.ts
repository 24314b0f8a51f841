import { httpHealthProbe, type HealthProbe } from '../../adapters/health/http-probe.js';
import type { ResolvedEnvironment } from '../../config/resolve.js';
import { closestNames } from '../../core/closest.js';
import { readField } from '../../core/health.js';
import { healthWhere, shortOfTasks, unlocated } from './live-where.js';
import type { ObservedServices } from './observed.js';

/** One service's health contract as `config check --live` shows it: what its health URL answers now. */
export interface LiveHealthRow {
  name: string;
  type: 'health';
  /**
   * problem: the answer lacks a field the contract names (every verification would fail: exit 2);
   * error: a located service (swarm) that cannot be read where it runs.
   */
  status: 'ok' | 'warning' | 'problem' | 'error';
  /** `GET URL`: on a swarm, the URL on the node the monitor reads it on. */
  reads?: string;
  /** `read on node 10.0.0.3, task 1 of 2 (2 running)`, where the target places tasks itself. */
  where?: string;
  version?: string;
  note?: string;
  warnings?: string[];
  problem?: string;
  error?: string;
}

const fieldsOf = (body: unknown): string[] => (typeof body === 'object' && body !== null && !Array.isArray(body) ? Object.keys(body) : []);

function missing(field: string, body: unknown, setting: string): string {
  const fields = fieldsOf(body);
  const close = closestNames(field, fields);
  return `the answer has no "${field}" (its fields: ${fields.join(', ') || 'none'})${close.length ? `; did you mean ${close.join(' or ')}?` : ''}: every verification would fail; fix ${setting}`;
}

/**
 * Each service's health URL, asked once and judged against its contract (on a swarm, `located`:
 * where the monitor reads it, and an error for a service that cannot be located): a `status` or `version`
 * field the answer does not have is a problem (exit 2: no deploy could ever verify); a status word
 * outside `healthy` a warning (unhealthy now, or a word missing from the list); no answer a warning.
 */
export async function liveHealthRows(environment: ResolvedEnvironment, located?: ObservedServices, probe: HealthProbe = httpHealthProbe): Promise<LiveHealthRow[]> {
  const { spec } = environment;
  const rows: LiveHealthRow[] = [];
  for (const s of located?.services ?? environment.services) {
    const contract = s.health ?? (s.healthUrl ? { url: s.healthUrl } : undefined);
    if (!contract) continue;
    const cannot = located && unlocated(s, located);
    if (cannot) {
      // Never probed at its configured 127.0.0.1 URL: whatever answers there is not this service.
      rows.push({ name: s.name, type: 'health', status: 'error', error: cannot });
      continue;
    }
    const at = `services.${s.name}.health`;
    const where = located && healthWhere(s, located);
    const short = located && shortOfTasks(s);
    const row = { name: s.name, type: 'health' as const, reads: `GET ${contract.url}`, ...(where ? { where } : {}) };
    const obs = await probe(contract.url, spec.health.requestTimeout);
    if (obs.status !== 200) {
      rows.push({ ...row, status: 'warning', warnings: [`${obs.status === undefined ? (obs.error ?? 'no answer') : `HTTP ${obs.status}`}: not running or not healthy now, so its contract cannot be checked`, ...(short ? [short] : [])] });
      continue;
    }
    const json = typeof obs.body === 'object' && obs.body !== null;
    const problems: string[] = [];
    const warnings: string[] = [];
    const seen: string[] = [];
    let version: string | undefined;
    if (contract.status) {
      const { field, healthy } = contract.status;
      const value = json ? readField(obs.body, field) : undefined;
      if (value === undefined) problems.push(json ? missing(field, obs.body, `${at}.status.field`) : `the answer is not a JSON object, so "${field}" cannot be read: fix ${at}.status`);
      else if (!healthy.some((h) => String(h) === value)) warnings.push(`${field} is "${value}", not among healthy [${healthy.join(', ')}]: unhealthy now, or add "${value}" to ${at}.status.healthy`);
      else seen.push(`${field} ${value}`);
    }
    if (contract.version && contract.version !== 'ignore') {
      const reported = json ? readField(obs.body, contract.version.field) : undefined;
      if (reported === undefined) problems.push(json ? missing(contract.version.field, obs.body, `${at}.version.field`) : `the answer is not a JSON object, so the release cannot be read: fix ${at}.version`);
      else {
        seen.push(`${contract.version.field} ${reported}`);
        version = reported;
      }
    }
    if (short) warnings.push(short);
    const read = { ...row, ...(version !== undefined ? { version } : {}), note: `HTTP 200${seen.length ? `, ${seen.join(', ')}` : ''}` };
    if (problems.length) rows.push({ ...read, status: 'problem', problem: problems.join('; '), ...(warnings.length ? { warnings } : {}) });
    else if (warnings.length) rows.push({ ...read, status: 'warning', warnings });
    else rows.push({ ...read, status: 'ok' });
  }
  return rows;
}
