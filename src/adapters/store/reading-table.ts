// The readings of soaks and monitors: one row per check per evaluation, read back as time series.

import type { Kysely, Selectable } from 'kysely';
import type { NewReading, ReadingRecord } from './store.js';
import type { Database } from './tables.js';

export async function appendReadings(db: Kysely<Database>, watchId: number, at: string, rows: NewReading[]): Promise<void> {
  if (!rows.length) return;
  const values = rows.map((r) => ({ watch_id: watchId, check_name: r.check, at, verdict: r.verdict, value: r.value !== null && Number.isFinite(r.value) ? r.value : null, evidence: JSON.stringify(r.evidence), reason: r.reason }));
  // Chunked: SQLite limits the number of bound parameters per statement.
  for (let i = 0; i < values.length; i += 100) await db.insertInto('readings').values(values.slice(i, i + 100)).execute();
}

/** Deletes the readings taken before `before`, but none of a watch still running; returns how many went. */
export async function pruneReadings(db: Kysely<Database>, before: string): Promise<number> {
  const running = db.selectFrom('watches').select('id').where('state', '=', 'running');
  const res = await db.deleteFrom('readings').where('at', '<', before).where('watch_id', 'not in', running).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** Of every watch, oldest first: what the event stream sends after `afterId`. */
export async function readingsAfter(db: Kysely<Database>, afterId: number, limit: number): Promise<ReadingRecord[]> {
  return (await db.selectFrom('readings').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute()).map(toReading);
}

export async function latestReadingId(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('readings').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
  return row ? Number(row.id) : 0;
}

export async function listReadings(db: Kysely<Database>, watchId: number, filter: { afterId?: number; limit?: number } = {}): Promise<ReadingRecord[]> {
  let q = db.selectFrom('readings').selectAll().where('watch_id', '=', watchId).orderBy('id', 'desc');
  if (filter.afterId !== undefined) q = q.where('id', '>', filter.afterId);
  if (filter.limit) q = q.limit(filter.limit);
  return (await q.execute()).reverse().map(toReading);
}

const toReading = (r: Selectable<Database['readings']>): ReadingRecord => ({
  id: Number(r.id), watchId: Number(r.watch_id), check: r.check_name, at: r.at, verdict: r.verdict as ReadingRecord['verdict'],
  value: r.value === null ? null : Number(r.value), evidence: JSON.parse(r.evidence) as Record<string, unknown>, reason: r.reason,
});
