import { approve, findApproval } from '../app/approvals.js';
import type { AppContext } from '../app/context.js';
import { resetBreaker } from '../app/runbooks/breaker.js';
import { killSwitchOff, killSwitchOn, killSwitchStatus } from '../app/runbooks/killswitch.js';
import { safetyStoreFor } from '../app/safety.js';

export interface DrillReport {
  ordersPlaced: number;
  openBefore: number | null;
  killSwitch: { ok: boolean; cancelRequested: number; openLeft: number | null; incidentId: number | null };
  afterKill: { breaker: string; killswitch: boolean; openOrders: number | null };
  afterReset: { breaker: string; killswitch: boolean; lastReset: string | null };
  approvedBy: string[];
}

/**
 * The seed's kill-switch runbook on the paper broker: open orders are placed, `killswitch on`
 * cancels them all, status shows 0 open and TRIPPED, then two people bring trading back
 * (kill switch off, then breaker reset), each step approved by someone other than the requester.
 */
export async function killSwitchDrill(ctx: AppContext, env: string, gatewayUrl: string): Promise<DrillReport> {
  const store = safetyStoreFor(ctx, env);
  let placed = 0;
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${gatewayUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ symbol: ['AAPL', 'MSFT', 'NVDA', 'JPM'][i % 4], qty: 10 + i, side: i % 2 ? 'sell' : 'buy', type: 'limit', limit_price: 100 + i }) });
    if (res.status === 201) placed++;
  }
  const before = await killSwitchStatus(ctx, env, store);
  const on = await killSwitchOn(ctx, env, store, { reason: 'demo drill: runaway strategy', timeoutMs: 10_000 });
  const afterKill = await killSwitchStatus(ctx, env, store);

  const approvedBy: string[] = [];
  const offRequest = await findApproval(ctx, { env, action: 'killswitch-off', subject: 'killswitch:active', kind: 'standard', reason: 'drill over' });
  await approve(ctx, offRequest.id, { by: 'risk-officer' });
  approvedBy.push('risk-officer');
  await killSwitchOff(ctx, env, store, { reason: 'drill over' });
  const resetRequest = await findApproval(ctx, { env, action: 'breaker-reset', subject: 'cb:state', kind: 'standard', reason: 'drill over: resume trading' });
  await approve(ctx, resetRequest.id, { by: 'demo-oncall' });
  approvedBy.push('demo-oncall');
  const reset = await resetBreaker(ctx, env, store, { reason: 'drill over: resume trading' });

  return {
    ordersPlaced: placed,
    openBefore: before.openOrders,
    killSwitch: { ok: on.ok, cancelRequested: on.cancelRequested, openLeft: on.openLeft, incidentId: on.incidentId },
    afterKill: { breaker: afterKill.breaker, killswitch: afterKill.killswitch, openOrders: afterKill.openOrders },
    afterReset: { breaker: reset.status.breaker, killswitch: reset.status.killswitch, lastReset: reset.status.lastReset },
    approvedBy,
  };
}
