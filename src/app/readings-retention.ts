// The control room's time series grow by one row per check per evaluation (200 services scraped
// every second is millions a day): the leading controller deletes those past controller.readingsKeep.
import { record } from './audit.js';
import type { AppContext } from './context.js';

/** How often the controller loop prunes: an hour's rows are few next to the month kept by default. */
export const PRUNE_EVERY_MS = 3_600_000;

/** Deletes readings older than `controller.readingsKeep` (none of a soak or monitor still running), audited when any went. */
export async function pruneOldReadings(ctx: AppContext): Promise<number> {
  const keepMs = ctx.config.controller.readingsKeep;
  const before = new Date(ctx.clock.now().getTime() - keepMs).toISOString();
  const removed = await ctx.store.pruneReadings(before);
  if (removed > 0) {
    await record(ctx, { action: 'readings.prune', outcome: 'ok', reason: `deleted ${removed} readings taken before ${before} (controller.readingsKeep)`, detail: { removed, before, keepMs } });
  }
  return removed;
}
