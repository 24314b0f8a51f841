import { createHash } from 'node:crypto';
import type { AuditSeal } from './audit-seal.js';
import type { AuditRecord, AuditVerification } from './store.js';

export const GENESIS = '0'.repeat(64);

export function auditHash(prevHash: string, e: Omit<AuditRecord, 'hash' | 'prevHash' | 'mac'>): string {
  // Field order is fixed here, not taken from object key order, so the chain is reproducible.
  const canonical = JSON.stringify([e.seq, e.at, e.actor, e.action, e.env, e.version, e.reason, e.outcome, e.detail, prevHash]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Checks, in order: the chain (no gap, every link, every hash), every MAC (events written before
 * keys existed are accepted only as a prefix of the log), and the checkpointed head (nothing
 * cut from the end, nothing rewritten up to it).
 */
export function verifyChain(events: AuditRecord[], seal: AuditSeal | undefined): AuditVerification {
  let prevHash = GENESIS;
  let expectedSeq = 1;
  let keyed = 0;
  let unkeyed = 0;
  let keyProblem: string | undefined;
  const counts = () => (seal ? { keyed, unkeyed } : {});
  const bad = (firstBadSeq: number | undefined, kind: NonNullable<AuditVerification['kind']>, problem: string): AuditVerification => ({
    ok: false, checked: expectedSeq - 1, ...counts(), ...(firstBadSeq !== undefined ? { firstBadSeq } : {}), kind, problem,
  });

  for (const rec of events) {
    if (rec.seq !== expectedSeq) return bad(expectedSeq, 'missing', `event ${expectedSeq} is missing (next present is ${rec.seq})`);
    if (rec.prevHash !== prevHash) return bad(rec.seq, 'unlinked', `event ${rec.seq} does not link to event ${rec.seq - 1} (an earlier event was altered or replaced)`);
    const { hash: _hash, prevHash: _prev, mac: _mac, ...fields } = rec;
    if (auditHash(prevHash, fields) !== rec.hash) return bad(rec.seq, 'altered', `event ${rec.seq} was altered after it was written (its hash does not match its contents)`);
    if (seal) {
      if (rec.mac === null) {
        if (keyed > 0) return bad(rec.seq, 'forged', `event ${rec.seq} carries no MAC although earlier events do: it was written without the audit key (forged)`);
        unkeyed++;
      } else {
        let valid: boolean | undefined;
        try {
          valid = keyProblem ? true : seal.checkMac(rec.hash, rec.mac);
        } catch (err) {
          // An unreadable key (another user's state directory): the chain can still be checked to the end.
          keyProblem = (err as Error).message;
          valid = true;
        }
        if (valid === undefined) return bad(rec.seq, 'key-missing', `event ${rec.seq} carries a MAC but the audit key is missing, so it cannot be checked`);
        if (!valid) return bad(rec.seq, 'forged', `event ${rec.seq}'s MAC does not match: it was altered or forged by someone without the audit key (its hash chain alone was recomputed)`);
        keyed++;
      }
    }
    prevHash = rec.hash;
    expectedSeq++;
  }
  if (!seal) return { ok: true, checked: events.length };
  if (keyProblem) return bad(undefined, 'key-missing', `the hash chain of all ${events.length} events is intact, but their MACs and the checkpoint cannot be checked: ${keyProblem}`);

  const tip = events.at(-1);
  const read = seal.readCheckpoint();
  if (read.state === 'bad') return bad(undefined, 'checkpoint', read.problem);
  if (read.state === 'none') {
    if (keyed > 0) return bad(undefined, 'checkpoint', `the audit checkpoint is missing although ${keyed} events carry MACs: it was deleted, so a cut from the end cannot be ruled out`);
    return { ok: true, checked: events.length, keyed, unkeyed, checkpoint: null };
  }
  const cp = read.checkpoint;
  if (!tip) return bad(1, 'emptied', `the log is empty, but the checkpoint records ${cp.seq} events (the last at ${cp.at}): the table was emptied`);
  if (tip.seq < cp.seq) {
    const cut = cp.seq - tip.seq;
    return bad(tip.seq + 1, 'cut', `the newest ${cut === 1 ? 'event was' : `${cut} events were`} deleted: the log ends at event ${tip.seq}, the checkpoint records event ${cp.seq} (written ${cp.at})`);
  }
  const atCheckpoint = events[cp.seq - 1];
  if (atCheckpoint?.hash !== cp.hash) return bad(cp.seq, 'rewritten', `event ${cp.seq} is not the event checkpointed at ${cp.at}: the log was rewritten up to it`);
  return { ok: true, checked: events.length, keyed, unkeyed, checkpoint: { seq: cp.seq, hash: cp.hash } };
}
