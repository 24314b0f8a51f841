import fs from 'node:fs';
import path from 'node:path';
import { AUDIT_CHECKPOINT_FILE, AUDIT_KEY_FILE, type AuditSeal } from '../adapters/store/audit-seal.js';
import type { Store } from '../adapters/store/store.js';
import { failed, type ShipgateError } from '../core/errors.js';

/**
 * Whether the store is the one this state directory has been used with. A deleted or emptied
 * state.db (or an old copy put back) would otherwise silently start a new history: blocked
 * releases forgotten, the audit log gone, rollback with no earlier good version.
 */
export interface StateContinuity {
  ok: boolean;
  /** Signs of earlier use found outside the database. */
  evidence: string[];
  events: number;
  checkpointSeq: number | null;
  problem?: string;
}

export async function inspectState(stateDir: string, store: Store, seal: AuditSeal): Promise<StateContinuity> {
  const evidence: string[] = [];
  const entries = (sub: string) => {
    try {
      return fs.readdirSync(path.join(stateDir, sub)).length;
    } catch {
      return 0;
    }
  };
  const releases = entries('releases');
  if (releases) evidence.push(`releases/ (${releases} environment${releases > 1 ? 's' : ''} checked out)`);
  const runs = entries('run');
  if (runs) evidence.push(`run/ (${runs} run record${runs > 1 ? 's' : ''})`);
  const read = seal.readCheckpoint();
  const checkpointSeq = read.state === 'ok' ? read.checkpoint.seq : null;
  if (read.state === 'ok') evidence.push(`${AUDIT_CHECKPOINT_FILE} (the log had reached event ${read.checkpoint.seq} on ${read.checkpoint.at})`);
  if (read.state === 'bad') evidence.push(`${AUDIT_CHECKPOINT_FILE} (unreadable: ${read.problem})`);
  if (fs.existsSync(path.join(stateDir, AUDIT_KEY_FILE))) evidence.push(`${AUDIT_KEY_FILE} (created with the first audited event)`);

  const tip = (await store.listAudit({ limit: 1 }))[0];
  const events = tip?.seq ?? 0;
  const base = { evidence, events, checkpointSeq };
  if (read.state === 'bad') return { ...base, ok: false, problem: `${read.problem}; the log cannot be checked against it` };
  if (checkpointSeq !== null && events < checkpointSeq) {
    return { ...base, ok: false, problem: events === 0 ? `the store is empty, but this state directory recorded ${checkpointSeq} audit events` : `the store ends at audit event ${events}, but this state directory recorded ${checkpointSeq}: it was replaced by an older copy or cut` };
  }
  if (events === 0 && evidence.length) return { ...base, ok: false, problem: 'the store is empty (state.db missing, 0 bytes or emptied), but this state directory was used before' };
  return { ...base, ok: true };
}

export function continuityError(state: StateContinuity, where: string): ShipgateError {
  return failed(`refusing to write: ${state.problem}`, {
    where,
    hint: `Evidence of earlier use: ${state.evidence.join('; ')}. Restore state.db from a backup (or fix SHIPGATE_DATABASE_URL), or start a new history on purpose with \`shipgate state init --force --reason "..."\`.`,
    data: { state },
  });
}
