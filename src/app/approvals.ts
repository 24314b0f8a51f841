import type { ApprovalRecord } from '../adapters/store/store.js';
import { isoNow } from '../core/clock.js';
import { badInput, refused } from '../core/errors.js';
import { record } from './audit.js';
import { notify } from './notify.js';
import type { AppContext } from './context.js';

export type ApprovalKind = 'standard' | 'emergency';

export interface ApprovalNeed {
  env: string;
  /** What is approved, e.g. "promote", "breaker-reset", "killswitch-off". */
  action: string;
  /** The thing acted on, e.g. the version. */
  subject: string;
  kind: ApprovalKind;
  reason: string;
}

const isExpired = (a: ApprovalRecord, now: Date) => new Date(a.expiresAt).getTime() <= now.getTime();

/**
 * The approved, unexpired, unused approval for exactly this action, or a pending request (made
 * if none is open) that names what is still missing. Refuses (exit 3) in the second case.
 */
export async function requireApproval(ctx: AppContext, need: ApprovalNeed): Promise<ApprovalRecord> {
  const now = ctx.clock.now();
  const matching = await ctx.store.listApprovals({ env: need.env, action: need.action, subject: need.subject, limit: 20 });
  for (const a of matching) {
    if ((a.state === 'pending' || a.state === 'approved') && isExpired(a, now)) await expire(ctx, a);
  }
  const approved = matching.find((a) => a.state === 'approved' && !isExpired(a, now));
  if (approved) return approved;
  const pending = matching.find((a) => a.state === 'pending' && !isExpired(a, now)) ?? (await requestApproval(ctx, need));
  const missing = pending.required - pending.approvers.length;
  throw refused(`${need.action} of ${need.subject} in ${need.env} needs ${pending.required} approval${pending.required > 1 ? 's' : ''} from people other than ${pending.requester}; request #${pending.id} has ${pending.approvers.length}`, {
    hint: `Ask ${missing} more ${missing > 1 ? 'people' : 'person'} to run \`shipgate approve ${pending.id} --by NAME\` before ${pending.expiresAt}, then run this again.`,
    data: { approval: pending },
  });
}

/** The approval for exactly this action: approved if there is one, else the open request (made if needed). */
export async function findApproval(ctx: AppContext, need: ApprovalNeed): Promise<ApprovalRecord> {
  const now = ctx.clock.now();
  const matching = await ctx.store.listApprovals({ env: need.env, action: need.action, subject: need.subject, limit: 20 });
  for (const a of matching) {
    if ((a.state === 'pending' || a.state === 'approved') && isExpired(a, now)) await expire(ctx, a);
  }
  return (
    matching.find((a) => a.state === 'approved' && !isExpired(a, now)) ??
    matching.find((a) => a.state === 'pending' && !isExpired(a, now)) ??
    (await requestApproval(ctx, need))
  );
}

export async function requestApproval(ctx: AppContext, need: ApprovalNeed): Promise<ApprovalRecord> {
  const now = ctx.clock.now();
  const policy = ctx.config.approvals;
  const approval = await ctx.store.createApproval({
    env: need.env, action: need.action, subject: need.subject, requester: ctx.actor, reason: need.reason,
    required: need.kind === 'emergency' ? policy.emergency : policy.standard,
    createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + policy.expiry).toISOString(),
  });
  await record(ctx, { action: 'approval.request', outcome: 'pending', env: need.env, version: need.subject, reason: need.reason, detail: { approvalId: approval.id, for: need.action, required: approval.required, kind: need.kind } });
  notify(ctx, { event: 'approval.requested', env: need.env, version: need.subject, reason: need.reason, detail: { approvalId: approval.id, for: need.action, required: approval.required, approveWith: `shipgate approve ${approval.id} --by NAME` } });
  return approval;
}

/** One person's approval. The requester cannot approve, nor can anyone twice; expired requests cannot be approved. */
export async function approve(ctx: AppContext, id: number, by: string): Promise<ApprovalRecord> {
  const name = by.trim();
  if (!name) throw badInput('--by needs a name', { where: '--by', hint: 'Say who approves, e.g. --by alice.' });
  const approval = await ctx.store.getApproval(id);
  if (!approval) throw badInput(`no approval request #${id}`, { where: '<request-id>', hint: 'List them with `shipgate approvals`.' });
  if (approval.state === 'used') throw refused(`approval #${id} was already used`, { hint: 'Each approval covers one action; ask for a new one.' });
  if (isExpired(approval, ctx.clock.now())) {
    await expire(ctx, approval);
    throw refused(`approval request #${id} expired at ${approval.expiresAt}`, { hint: 'Run the command again to open a new request.' });
  }
  if (name === approval.requester) throw refused(`${name} requested #${id} and cannot approve it`, { hint: 'Someone else must approve: two people, not one person twice.' });
  if (approval.approvers.some((a) => a.by === name)) throw refused(`${name} already approved #${id}`, { hint: `It needs ${approval.required} distinct approvers.` });
  const approvers = [...approval.approvers, { by: name, at: isoNow(ctx.clock) }];
  const state = approvers.length >= approval.required ? 'approved' : 'pending';
  await ctx.store.updateApproval(id, { approvers, state });
  await record(ctx, { action: 'approval.grant', outcome: state, env: approval.env, version: approval.subject, reason: approval.reason, detail: { approvalId: id, by: name, for: approval.action, have: approvers.length, required: approval.required } });
  return { ...approval, approvers, state };
}

export async function consumeApproval(ctx: AppContext, approval: ApprovalRecord): Promise<void> {
  await ctx.store.updateApproval(approval.id, { state: 'used' });
  await record(ctx, { action: 'approval.use', outcome: 'used', env: approval.env, version: approval.subject, detail: { approvalId: approval.id, for: approval.action } });
}

async function expire(ctx: AppContext, a: ApprovalRecord): Promise<void> {
  await ctx.store.updateApproval(a.id, { state: 'expired' });
  await record(ctx, { action: 'approval.expire', outcome: 'expired', env: a.env, version: a.subject, detail: { approvalId: a.id } });
}

export async function listApprovals(ctx: AppContext, env: string | undefined, all: boolean): Promise<ApprovalRecord[]> {
  const now = ctx.clock.now();
  const rows = await ctx.store.listApprovals({ ...(env ? { env } : {}), limit: 100 });
  return rows
    .map((a) => ((a.state === 'pending' || a.state === 'approved') && isExpired(a, now) ? { ...a, state: 'expired' as const } : a))
    .filter((a) => all || a.state === 'pending' || a.state === 'approved');
}
