// The lock table: one row per environment; acquiring is an insert that a unique key lets only
// one writer win, and every change after that is conditioned on the holder's token.

import type { Kysely } from 'kysely';
import { fromLock, toLock } from './rows.js';
import type { LockRecord } from './store.js';
import type { Database } from './tables.js';

export async function tryAcquireLock(db: Kysely<Database>, lock: LockRecord): Promise<{ acquired: true } | { acquired: false; holder: LockRecord }> {
  // ON CONFLICT DO NOTHING rather than catching the unique violation: inside a (fenced)
  // PostgreSQL transaction a failed statement would abort the whole transaction.
  const res = await db.insertInto('locks').values(fromLock(lock)).onConflict((oc) => oc.column('env').doNothing()).executeTakeFirst();
  if (Number(res.numInsertedOrUpdatedRows) === 1) return { acquired: true as const };
  const holder = await getLock(db, lock.env);
  // Released between our insert and our read: try once more.
  if (!holder) return tryAcquireLock(db, lock);
  return { acquired: false as const, holder };
}

export async function takeOverLock(db: Kysely<Database>, expectedToken: string, lock: LockRecord): Promise<boolean> {
  const res = await db.updateTable('locks').set(fromLock(lock)).where('env', '=', lock.env).where('token', '=', expectedToken).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function renewLock(db: Kysely<Database>, env: string, token: string, leaseUntil: string): Promise<boolean> {
  const res = await db.updateTable('locks').set({ lease_until: leaseUntil }).where('env', '=', env).where('token', '=', token).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function releaseLock(db: Kysely<Database>, env: string, token: string): Promise<boolean> {
  const res = await db.deleteFrom('locks').where('env', '=', env).where('token', '=', token).executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}

export async function forceReleaseLock(db: Kysely<Database>, env: string): Promise<LockRecord | undefined> {
  // Delete the holder we read, by token; if it changed in between (takeover), read again,
  // so the record returned is the one actually removed.
  for (;;) {
    const holder = await getLock(db, env);
    if (!holder) return undefined;
    const res = await db.deleteFrom('locks').where('env', '=', env).where('token', '=', holder.token).executeTakeFirst();
    if (Number(res.numDeletedRows) === 1) return holder;
  }
}

export async function getLock(db: Kysely<Database>, env: string): Promise<LockRecord | undefined> {
  const row = await db.selectFrom('locks').selectAll().where('env', '=', env).executeTakeFirst();
  return row ? toLock(row) : undefined;
}

export async function listLocks(db: Kysely<Database>): Promise<LockRecord[]> {
  return (await db.selectFrom('locks').selectAll().orderBy('env').execute()).map(toLock);
}
