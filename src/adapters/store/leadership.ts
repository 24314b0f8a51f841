// Controller leadership: one lease row whose generation is the fencing token, and one heartbeat
// row per controller. Every change is one conditional statement, so two standbys racing for an
// expired lease cannot both win, and a renewal that lands first makes the takeover fail.

import type { Kysely, Selectable } from 'kysely';
import type { ControllerRecord, ControllerTable, LeaderRecord } from './store.js';
import type { Database } from './tables.js';

export const LEADER_ROW = 'controller';

const toLeader = (r: Selectable<Database['controller_leader']>): LeaderRecord => ({
  generation: Number(r.generation), owner: r.owner, host: r.host, pid: Number(r.pid), acquiredAt: r.acquired_at, leaseUntil: r.lease_until,
});

const toController = (r: Selectable<Database['controllers']>): ControllerRecord => ({
  id: r.id, host: r.host, pid: Number(r.pid), role: r.role === 'leader' ? 'leader' : 'standby', generation: r.generation === null ? null : Number(r.generation),
  startedAt: r.started_at, seenAt: r.seen_at, leaseMs: Number(r.lease_ms),
});

export class KyselyControllerTable implements ControllerTable {
  constructor(private readonly db: Kysely<Database>) {}

  async getLeader(): Promise<LeaderRecord | undefined> {
    const row = await this.db.selectFrom('controller_leader').selectAll().where('name', '=', LEADER_ROW).executeTakeFirst();
    return row ? toLeader(row) : undefined;
  }

  async claimLeader(expected: LeaderRecord | undefined, claim: Omit<LeaderRecord, 'generation'>): Promise<LeaderRecord | undefined> {
    const values = { owner: claim.owner, host: claim.host, pid: claim.pid, acquired_at: claim.acquiredAt, lease_until: claim.leaseUntil };
    if (!expected) {
      const res = await this.db.insertInto('controller_leader').values({ name: LEADER_ROW, generation: 1, ...values }).onConflict((oc) => oc.column('name').doNothing()).executeTakeFirst();
      return Number(res.numInsertedOrUpdatedRows) === 1 ? { generation: 1, ...claim } : undefined;
    }
    const res = await this.db
      .updateTable('controller_leader')
      .set((eb) => ({ generation: eb('generation', '+', 1), ...values }))
      .where('name', '=', LEADER_ROW)
      .where('generation', '=', expected.generation)
      .where('lease_until', '=', expected.leaseUntil)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1 ? { generation: expected.generation + 1, ...claim } : undefined;
  }

  async renewLeader(generation: number, leaseUntil: string): Promise<boolean> {
    const res = await this.db.updateTable('controller_leader').set({ lease_until: leaseUntil }).where('name', '=', LEADER_ROW).where('generation', '=', generation).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async resignLeader(generation: number, at: string): Promise<boolean> {
    const res = await this.db.updateTable('controller_leader').set({ lease_until: at }).where('name', '=', LEADER_ROW).where('generation', '=', generation).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async heartbeat(c: ControllerRecord): Promise<void> {
    const row = { host: c.host, pid: c.pid, role: c.role, generation: c.generation, started_at: c.startedAt, seen_at: c.seenAt, lease_ms: c.leaseMs };
    await this.db.insertInto('controllers').values({ id: c.id, ...row }).onConflict((oc) => oc.column('id').doUpdateSet(row)).execute();
  }

  async list(): Promise<ControllerRecord[]> {
    return (await this.db.selectFrom('controllers').selectAll().orderBy('started_at').execute()).map(toController);
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('controllers').where('id', '=', id).execute();
  }
}

/** True while `generation` leads; takes the leader row's lock until the caller's transaction ends. */
export async function holdsFence(db: Kysely<Database>, generation: number): Promise<{ ok: true } | { ok: false; current: number | null }> {
  // A no-op update rather than a read: PostgreSQL then holds the row lock until commit (a takeover's
  // update waits for this write), and SQLite's BEGIN IMMEDIATE already holds the write lock.
  const res = await db.updateTable('controller_leader').set((eb) => ({ generation: eb.ref('generation') })).where('name', '=', LEADER_ROW).where('generation', '=', generation).executeTakeFirst();
  if (Number(res.numUpdatedRows) === 1) return { ok: true };
  const row = await db.selectFrom('controller_leader').select('generation').where('name', '=', LEADER_ROW).executeTakeFirst();
  return { ok: false, current: row ? Number(row.generation) : null };
}
