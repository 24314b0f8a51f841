// The audit log in its table: appended with an optimistic sequence number, hash-chained, and
// (with a seal) keyed and checkpointed outside the store.

import type { Kysely } from 'kysely';
import { auditHash, GENESIS, verifyChain } from './audit-chain.js';
import type { AuditSeal } from './audit-seal.js';
import { isUniqueViolation, toAudit } from './rows.js';
import type { AuditInput, AuditRecord, AuditVerification } from './store.js';
import type { Database } from './tables.js';

export interface AuditFilter {
  env?: string;
  action?: string;
  version?: string;
  limit?: number;
  sinceSeq?: number;
}

export async function appendAudit(db: Kysely<Database>, auditSeal: AuditSeal | undefined, input: AuditInput): Promise<AuditRecord> {
  // Optimistic append: the sequence number is the primary key, so two writers racing for
  // the same slot cannot both win; the loser re-reads the tip and tries again.
  for (let attempt = 0; attempt < 100; attempt++) {
    const tip = await db.selectFrom('audit').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const base = {
      seq: (tip?.seq ?? 0) + 1,
      at: input.at,
      actor: input.actor,
      action: input.action,
      env: input.env ?? null,
      version: input.version ?? null,
      reason: input.reason ?? null,
      outcome: input.outcome,
      detail: input.detail ?? {},
    };
    const prevHash = tip?.hash ?? GENESIS;
    const hash = auditHash(prevHash, base);
    const record: AuditRecord = { ...base, prevHash, hash, mac: auditSeal ? auditSeal.mac(hash) : null };
    try {
      // A taken slot inserts nothing (no error: inside a PostgreSQL transaction an error would end it).
      const res = await db.insertInto('audit').values({ ...base, detail: JSON.stringify(base.detail), prev_hash: prevHash, hash, mac: record.mac }).onConflict((oc) => oc.column('seq').doNothing()).executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows) !== 1) {
        await new Promise((r) => setTimeout(r, Math.random() * 10));
        continue;
      }
      auditSeal?.writeCheckpoint({ seq: record.seq, hash }, record.at);
      return record;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 10));
    }
  }
  throw new Error('could not append to the audit log: too much contention');
}

export async function listAudit(db: Kysely<Database>, filter: AuditFilter = {}): Promise<AuditRecord[]> {
  let q = db.selectFrom('audit').selectAll();
  if (filter.env) q = q.where('env', '=', filter.env);
  if (filter.action) q = q.where('action', '=', filter.action);
  if (filter.version) q = q.where('version', '=', filter.version);
  if (filter.sinceSeq !== undefined) q = q.where('seq', '>', filter.sinceSeq);
  if (filter.limit) q = q.orderBy('seq', 'desc').limit(filter.limit);
  else q = q.orderBy('seq', 'asc');
  const rows = (await q.execute()).map(toAudit);
  return filter.limit ? rows.reverse() : rows;
}

export async function verifyAudit(db: Kysely<Database>, auditSeal: AuditSeal | undefined): Promise<AuditVerification> {
  const rows = await db.selectFrom('audit').selectAll().orderBy('seq', 'asc').execute();
  return verifyChain(rows.map(toAudit), auditSeal);
}
