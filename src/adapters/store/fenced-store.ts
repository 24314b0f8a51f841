// The controller's view of the store: each write is a transaction that first proves the writer
// still leads (compare-and-set on the fencing generation), so a controller that was paused past
// its lease and resumed cannot record a verdict, start a rollback or open an incident.

import { type Kysely, sql } from 'kysely';
import { ExitCode, ShipgateError } from '../../core/errors.js';
import { holdsFence } from './leadership.js';
import type { Store } from './store.js';
import type { Database } from './tables.js';

/** A write by a controller whose generation is no longer the leader's. */
export class FencedError extends ShipgateError {
  constructor(
    readonly generation: number,
    readonly current: number | null,
  ) {
    super(ExitCode.refused, `fenced: this controller led at generation ${generation}, but ${current === null ? 'no controller leads now' : `generation ${current} leads now`}; its write was refused`, {
      hint: 'Another controller took over after this one missed its lease (paused, partitioned or overloaded). See `shipgate status` and the audit log (controller.lead).',
    });
    this.name = 'FencedError';
  }
}

// Reads go straight through; so does giving back an environment lock this process holds by token
// (refusing it would only leave the lock to go stale).
const UNFENCED = /^(get|list|count|verify|close|fenced$|releaseLock$)/;

/**
 * `base` with its writes fenced at `generation`. `over(trx)` is the same store over a transaction.
 * In PostgreSQL a transaction left open by a process stopped mid-write would hold the leader row
 * and block every takeover: `idleTimeoutMs` has the server end such a transaction.
 */
export function fenceStore(base: Store, db: Kysely<Database>, over: (trx: Kysely<Database>) => Store, generation: number, idleTimeoutMs: number): Store {
  return new Proxy(base, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string' || UNFENCED.test(prop)) return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) =>
        db.transaction().execute(async (trx) => {
          if (base.dialect === 'postgres') await sql`set local idle_in_transaction_session_timeout = ${sql.lit(Math.max(1, Math.round(idleTimeoutMs)))}`.execute(trx);
          const fence = await holdsFence(trx, generation);
          if (!fence.ok) throw new FencedError(generation, fence.current);
          const inner = over(trx) as unknown as Record<string, (...a: unknown[]) => unknown>;
          return inner[prop]!(...args);
        });
    },
  });
}
