import type { Broker, BrokerOrder, CancelResult } from '../../adapters/broker/broker.js';
import type { SafetyStore } from '../../adapters/state/safety-state.js';
import { isoNow } from '../../core/clock.js';
import { badInput, refused } from '../../core/errors.js';
import { claimApproval, requireApproval, returnApproval, withApprovalReturnedOnError } from '../approvals.js';
import { record } from '../audit.js';
import type { AppContext } from '../context.js';
import { currentVersion } from '../history.js';
import { openIncident } from '../incidents.js';
import { notify } from '../notify.js';
import { reconcile } from '../reconcile.js';
import { readSafety, safetySpecs, type SafetyStatus } from '../safety.js';
import { changeFlag, runPlatformAction, stepsOk, type RunbookStep } from '../safety-change.js';
import { brokerFor } from './broker.js';

export interface StuckOrder {
  id: string;
  symbol: string;
  status: string;
  reason: string;
}

export interface KillSwitchResult {
  ok: boolean;
  /** Null when the state store cannot be read (the orders are cancelled all the same). */
  status: SafetyStatus | null;
  /** Each step in order: platform endpoint, state verified (or written), platform cancel-all, broker backstop. */
  steps: RunbookStep[];
  broker: string | null;
  cancelRequested: number;
  openAtStart: number | null;
  openLeft: number | null;
  stuck: StuckOrder[];
  flatten: null | { closed: number; failed: { symbol: string; reason: string }[] };
  incidentId: number | null;
  problem: string | null;
}

/**
 * The seed's kill switch as one idempotent command: flag on, breaker TRIPPED, every open order
 * cancelled and confirmed gone (retrying the ones that fail), positions closed with --flatten,
 * then recorded, an incident and a notification. The platform's own endpoints (trading.actions)
 * go first when configured, so the platform records the halt; but every step is verified in the
 * safety store and at the broker directly, so it works while the platform's services are down or
 * refuse. Safe to run again.
 */
export async function killSwitchOn(ctx: AppContext, env: string, store: SafetyStore, opts: { reason?: string | undefined; flatten?: boolean; timeoutMs?: number }): Promise<KillSwitchResult> {
  const reason = opts.reason?.trim();
  if (!reason) throw badInput('the kill switch needs a reason', { where: '--reason', hint: 'e.g. --reason "runaway strategy: 40 orders/s on AAPL"' });
  const trading = ctx.environment(env).spec.trading;
  // The platform's own endpoint first (so it records the halt), then the state verified; the
  // breaker is tripped too unless it already is, keeping the platform's own trip reason.
  const steps = await changeFlag(ctx, env, store, 'killSwitch', 'halted', reason, 'engageKillSwitch');
  const breakerNow = await readSafety(ctx, env, store).catch(() => null);
  if (breakerNow?.state.breaker.meaning !== 'halted') steps.push(...(await changeFlag(ctx, env, store, 'breaker', 'halted', `kill switch: ${reason}`, 'tripBreaker')));
  await record(ctx, { action: 'killswitch.engage', outcome: stepsOk(steps) ? 'active' : 'unconfirmed', env, reason, detail: { source: store.describe, steps } });
  notify(ctx, { event: 'killswitch.engaged', env, reason });
  const platformCancel = await runPlatformAction(ctx, env, 'cancelAll', reason);
  if (platformCancel) steps.push(platformCancel);

  const broker = brokerFor(ctx, env);
  const status = await readSafety(ctx, env, store).catch(() => null);
  const result: KillSwitchResult = { ok: false, status, steps, broker: broker?.name ?? null, cancelRequested: 0, openAtStart: null, openLeft: null, stuck: [], flatten: null, incidentId: null, problem: null };
  if (!broker) result.problem = `no broker configured for ${env} (trading.broker): open orders were NOT cancelled`;
  else await cancelEverything(ctx, broker, result, opts.timeoutMs ?? trading?.cancelTimeout ?? 30_000);

  if (broker && opts.flatten) {
    const closed = await broker.closeAllPositions();
    result.flatten = closed.kind === 'unavailable' ? { closed: 0, failed: [{ symbol: '*', reason: closed.reason }] } : { closed: closed.value.filter((c) => c.ok).length, failed: closed.value.filter((c) => !c.ok).map((c) => ({ symbol: c.symbol, reason: c.reason ?? `HTTP ${c.status}` })) };
  }
  if (broker) steps.push({ step: `broker ${broker.name} cancel all`, ok: result.openLeft === 0, detail: `${result.openAtStart ?? '?'} open at start, ${result.cancelRequested} cancels accepted, ${result.openLeft ?? 'unknown'} left${result.problem ? `: ${result.problem}` : ''}` });
  const failedSteps = steps.filter((x) => !x.ok && !x.step.startsWith('broker'));
  if (failedSteps.length && !result.problem) result.problem = `not every step succeeded: ${failedSteps.map((x) => `${x.step} (${x.detail})`).join('; ')}`;
  result.ok = result.openLeft === 0 && !result.problem && (!result.flatten || result.flatten.failed.length === 0);
  await record(ctx, { action: 'killswitch.result', outcome: result.ok ? 'no-open-orders' : result.openLeft === 0 ? 'steps-failed' : 'orders-left', env, reason, detail: { ...result, status: undefined } });
  const version = (await currentVersion(ctx.store, env)) ?? 'n/a';
  // Running the kill switch again adds to the open kill-switch incident rather than opening another.
  const open = (await ctx.store.listIncidents({ env, limit: 20 })).find((i) => i.state === 'open' && (i.data as { trigger?: { check?: string } }).trigger?.check === 'kill-switch');
  if (open) {
    result.incidentId = open.id;
    await record(ctx, { action: 'incident.update', outcome: 'open', env, reason, detail: { incidentId: open.id, openLeft: result.openLeft } });
    return result;
  }
  result.incidentId = await openIncident(ctx, {
    env, version, deploymentId: null, title: `kill switch engaged in ${env}: ${reason}`,
    trigger: { check: 'kill-switch', reason, at: isoNow(ctx.clock), evidence: { steps, cancelRequested: result.cancelRequested, openAtStart: result.openAtStart, openLeft: result.openLeft, stuck: result.stuck, flatten: result.flatten } },
    rollback: null,
  });
  return result;
}

async function cancelEverything(ctx: AppContext, broker: Broker, result: KillSwitchResult, timeoutMs: number): Promise<void> {
  const first = await broker.openOrders();
  if (first.kind === 'unavailable') {
    result.problem = `broker unavailable: ${first.reason}; open orders are unknown and were not confirmed cancelled`;
    return;
  }
  result.openAtStart = first.value.length;
  const all = await broker.cancelAllOrders();
  const lastFailure = new Map<string, string>();
  if (all.kind === 'ok') {
    result.cancelRequested = all.value.length;
    for (const r of all.value.filter((x) => !x.ok)) lastFailure.set(r.id, describeFailure(r));
  } else lastFailure.set('*', all.reason);

  const deadline = Date.now() + timeoutMs;
  let open: BrokerOrder[] = first.value;
  for (;;) {
    const now = await broker.openOrders();
    if (now.kind === 'unavailable') {
      lastFailure.set('*', now.reason);
    } else {
      open = now.value;
      if (open.length === 0) break;
      // Orders the broker is already cancelling just need time; the rest get their own cancel.
      for (const order of open.filter((o) => o.status !== 'pending_cancel')) {
        const r = await broker.cancelOrder(order.id);
        if (!r.ok) lastFailure.set(order.id, describeFailure(r));
      }
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const final = await broker.openOrders();
  if (final.kind === 'ok') open = final.value;
  else result.problem = `could not confirm the open orders at the end: ${final.reason}`;
  result.openLeft = final.kind === 'ok' ? open.length : null;
  result.stuck = open.map((o) => ({ id: o.id, symbol: o.symbol, status: o.status, reason: lastFailure.get(o.id) ?? (o.status === 'pending_cancel' ? 'cancel pending at the broker' : 'still open after the timeout') }));
  void ctx;
}

const describeFailure = (r: CancelResult) => r.reason ?? `HTTP ${r.status}`;

/** Off needs an approval and a clean reconciliation; the breaker stays TRIPPED until its own reset. */
export async function killSwitchOff(ctx: AppContext, env: string, store: SafetyStore, opts: { reason?: string | undefined }) {
  const before = await readSafety(ctx, env, store);
  if (!before.killswitch) return { status: before, alreadyOff: true, reconciliation: null, approvalId: null, steps: [] as RunbookStep[], ok: true };
  const rec = await reconcile(ctx, env, brokerFor(ctx, env));
  if (rec.state !== 'clean') {
    await record(ctx, { action: 'killswitch.release', outcome: 'refused', env, reason: `reconciliation ${rec.state}: ${rec.reason}` });
    throw refused(`the kill switch of ${env} stays on: reconciliation is ${rec.state} (${rec.reason})`, { hint: 'Positions must match the broker before trading resumes; configure trading.reconciliation if it is not.', data: { reconciliation: rec } });
  }
  const approval = await requireApproval(ctx, { env, action: 'killswitch-off', subject: safetySpecs(ctx, env).killSwitch.key, kind: 'standard', reason: opts.reason?.trim() || 'turn the kill switch off' });
  // Claimed before the switch moves, so two runs cannot both use it; given back when it did not move.
  await claimApproval(ctx, approval);
  const steps = await withApprovalReturnedOnError(ctx, approval, () => changeFlag(ctx, env, store, 'killSwitch', 'trading', opts.reason?.trim() || null, 'disengageKillSwitch'));
  const ok = stepsOk(steps);
  if (!ok) await returnApproval(ctx, approval, 'turning the kill switch off failed');
  await record(ctx, { action: 'killswitch.release', outcome: ok ? 'inactive' : 'failed', env, reason: opts.reason ?? null, detail: { approvalId: approval.id, reconciliation: rec.reason, breaker: before.breaker, steps } });
  if (!ok) return { status: await readSafety(ctx, env, store), alreadyOff: false, reconciliation: rec, approvalId: approval.id, steps, ok };
  for (const i of (await ctx.store.listIncidents({ env, limit: 20 })).filter((x) => x.state === 'open' && (x.data as { trigger?: { check?: string } }).trigger?.check === 'kill-switch')) {
    await ctx.store.updateIncident(i.id, { state: 'closed' });
  }
  return { status: await readSafety(ctx, env, store), alreadyOff: false, reconciliation: rec, approvalId: approval.id, steps, ok };
}

export async function killSwitchStatus(ctx: AppContext, env: string, store: SafetyStore) {
  const status = await readSafety(ctx, env, store);
  const broker = brokerFor(ctx, env);
  const open = broker ? await broker.openOrders() : undefined;
  return { ...status, broker: broker?.name ?? null, openOrders: open?.kind === 'ok' ? open.value.length : null, brokerProblem: open?.kind === 'unavailable' ? open.reason : null };
}
