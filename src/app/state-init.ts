import { badInput, refused } from '../core/errors.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import type { StateContinuity } from './state.js';

// Apart from state.ts, which context.ts loads to build every context: this one needs a context.
/** The explicit, audited way to accept the current (empty or older) store as the history from now on. */
export async function initState(ctx: AppContext, opts: { force?: boolean; reason?: string }): Promise<{ state: StateContinuity; archivedCheckpoint: string | null }> {
  const state = ctx.continuity;
  if (state.ok && state.events > 0) {
    throw refused(`the store is consistent with ${ctx.stateDir} and holds ${state.events} audit events; there is nothing to start over`, { hint: 'state init is for a store that was lost or emptied; `shipgate state` shows why.' });
  }
  if (!state.ok && !opts.force) throw refused(`starting a new history needs --force: ${state.problem}`, { hint: 'Run `shipgate state init --force --reason "..."` only if the old state.db is truly gone.' });
  if (!opts.reason?.trim()) throw badInput('state init needs --reason', { where: '--reason', hint: 'Say why the history starts over, e.g. --reason "disk lost, no backup".' });
  const archived = state.ok ? undefined : ctx.auditSeal.archiveCheckpoint(ctx.clock.now().toISOString().replace(/[:.]/g, '-'));
  ctx.continuity = { ...state, ok: true };
  await record(ctx, {
    action: 'state.init', outcome: 'ok', reason: opts.reason.trim(),
    detail: { forced: Boolean(opts.force), problem: state.problem ?? null, evidence: state.evidence, previousCheckpointSeq: state.checkpointSeq, archivedCheckpoint: archived ?? null, eventsKept: state.events },
  });
  return { state, archivedCheckpoint: archived ?? null };
}
