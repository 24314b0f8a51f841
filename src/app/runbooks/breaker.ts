import type { SafetyStore } from '../../adapters/state/safety-state.js';
import { badInput, refused, ShipgateError } from '../../core/errors.js';
import type { ApprovalRecord } from '../../adapters/store/store.js';
import { claimApproval, listApprovals, requireApproval, returnApproval, withApprovalReturnedOnError } from '../approvals.js';
import { record } from '../audit.js';
import type { AppContext } from '../context.js';
import { describeFlag } from '../../core/safety-state.js';
import { readSafety, safetySpecs, type SafetyStatus } from '../safety.js';
import { changeFlag, stepsOk, type RunbookStep } from '../safety-change.js';
import { brokerFor } from './broker.js';
import { blocking, breakerPreconditions, type Precondition } from './preconditions.js';

export interface ResetResult {
  status: SafetyStatus;
  preconditions: Precondition[];
  forced: boolean;
  approvalId: number | null;
  alreadyOpen: boolean;
  steps: RunbookStep[];
  ok: boolean;
}

/**
 * Back to OPEN only when the preconditions hold and someone other than the requester approved;
 * `force` skips the preconditions but needs the larger (emergency) approval and is recorded.
 */
export async function resetBreaker(ctx: AppContext, env: string, store: SafetyStore, opts: { force?: boolean; reason?: string | undefined }): Promise<ResetResult> {
  if (opts.force && !opts.reason?.trim()) throw badInput('--force needs --reason', { where: '--reason', hint: 'Say why the preconditions are overridden.' });
  const before = await readSafety(ctx, env, store);
  if (before.killswitch) throw refused(`the kill switch of ${env} is ${before.state.killSwitch.meaning === 'unknown' ? 'in an unknown state' : 'active'}: ${describeFlag(before.state.killSwitch)}; the breaker stays ${before.breaker} until it is off`, { hint: `Run \`shipgate killswitch off --env ${env} --reason "..."\` first.` });
  // Only "trading" is left alone: an unknown or missing breaker may be reset to the platform's word.
  if (before.state.breaker.meaning === 'trading') return { status: before, preconditions: [], forced: false, approvalId: null, alreadyOpen: true, steps: [], ok: true };

  const preconditions = await breakerPreconditions(ctx, env, brokerFor(ctx, env));
  const failing = preconditions.filter(blocking);
  if (failing.length && !opts.force) {
    await record(ctx, { action: 'breaker.reset', outcome: 'refused', env, reason: failing.map((p) => `${p.name}: ${p.detail}`).join('; '), detail: { preconditions } });
    throw refused(`the breaker of ${env} cannot be reset: ${failing.map((p) => `${p.name} (${p.state}: ${p.detail})`).join('; ')}`, {
      hint: 'Fix what is listed; if it is a false alarm, an admin may override with --force --reason "..." (needs the emergency approvals).',
      data: { preconditions },
    });
  }
  // The request the approver acts on carries what was checked, so nobody approves blind.
  const approval = await requireApproval(ctx, {
    env, action: opts.force ? 'breaker-reset-force' : 'breaker-reset', subject: safetySpecs(ctx, env).breaker.key, kind: opts.force ? 'emergency' : 'standard',
    reason: `${opts.reason?.trim() || `reset the breaker (tripped: ${before.tripReason ?? 'no reason'})`}; preconditions: ${summarizePreconditions(preconditions)}`,
  }).catch((err: unknown) => {
    if (err instanceof ShipgateError) throw new ShipgateError(err.exitCode, `${err.message}; preconditions: ${summarizePreconditions(preconditions)}`, { where: err.where, hint: err.hint, data: { ...err.data, preconditions } });
    throw err;
  });
  // Claimed before the reset, so two runs cannot both use it; given back when the reset did not happen.
  await claimApproval(ctx, approval);
  const steps = await withApprovalReturnedOnError(ctx, approval, () => changeFlag(ctx, env, store, 'breaker', 'trading', opts.reason?.trim() || null, 'resetBreaker'));
  const ok = stepsOk(steps);
  if (!ok) await returnApproval(ctx, approval, 'the breaker reset failed');
  const status = await readSafety(ctx, env, store);
  await record(ctx, { action: 'breaker.reset', outcome: !ok ? 'failed' : opts.force ? 'forced' : (status.state.breaker.value ?? 'absent'), env, reason: opts.reason ?? before.tripReason, detail: { approvalId: approval.id, approvers: approval.approvers.map((a) => a.by), preconditions, wasTrippedFor: before.tripReason, steps } });
  return { status, preconditions, forced: Boolean(opts.force), approvalId: approval.id, alreadyOpen: false, steps, ok };
}

/** What the approver sees of the checks: e.g. "2 met; not configured: broker API healthy, market data fresh". */
export function summarizePreconditions(preconditions: Precondition[]): string {
  const met = preconditions.filter((p) => p.state === 'met').length;
  const off = preconditions.filter((p) => p.state === 'not-configured').map((p) => p.name);
  const other = preconditions.filter((p) => p.state !== 'met' && p.state !== 'not-configured').map((p) => `${p.name} ${p.state}`);
  const parts = [`${met} met`, ...other, ...(off.length ? [`not configured${off.length === preconditions.length ? ' (none checked)' : ''}: ${off.join(', ')}`] : [])];
  return parts.join('; ');
}

export interface ResetCheck {
  status: SafetyStatus;
  /** Empty when the breaker already reads as trading (nothing to reset). */
  preconditions: (Precondition & { blocking: boolean })[];
  /** Why a reset would be refused now, before any approval: the kill switch, or a blocking precondition. */
  refusals: string[];
  /** The open (pending or approved, unexpired) breaker-reset approval, if any; none is made here. */
  approval: ApprovalRecord | null;
}

/**
 * What `breaker reset` would find, without changing anything: the same preconditions it checks
 * (breakerPreconditions), the kill switch, and the approval it would use. Read-only and not audited.
 */
export async function resetCheck(ctx: AppContext, env: string, store: SafetyStore): Promise<ResetCheck> {
  const status = await readSafety(ctx, env, store);
  const subject = safetySpecs(ctx, env).breaker.key;
  const open = (await listApprovals(ctx, env, false)).filter((a) => a.action === 'breaker-reset' && a.subject === subject);
  const approval = open.find((a) => a.state === 'approved') ?? open.find((a) => a.state === 'pending') ?? null;
  if (status.state.breaker.meaning === 'trading') return { status, preconditions: [], refusals: [], approval };
  const preconditions = (await breakerPreconditions(ctx, env, brokerFor(ctx, env))).map((p) => ({ ...p, blocking: blocking(p) }));
  const refusals = [
    ...(status.killswitch ? [`the kill switch is ${status.state.killSwitch.meaning === 'unknown' ? 'in an unknown state' : 'active'}: ${describeFlag(status.state.killSwitch)}`] : []),
    ...preconditions.filter((p) => p.blocking).map((p) => `${p.name} (${p.state}: ${p.detail})`),
  ];
  return { status, preconditions, refusals, approval };
}
