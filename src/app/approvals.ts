import { existsSync } from 'node:fs';
import path from 'node:path';
import { signText, verifySignedText } from '../adapters/identity/ssh-signature.js';
import type { ApprovalRecord } from '../adapters/store/store.js';
import { isoNow } from '../core/clock.js';
import { badInput, refused } from '../core/errors.js';
import { approvalRequestText, isProven, requesterText, type Identity } from '../core/identity.js';
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
  const ask = `Ask ${missing} more ${missing > 1 ? 'people' : 'person'} to run \`${approveCommand(ctx, pending.id)}\` before ${pending.expiresAt}, then run this again.`;
  throw refused(`${need.action} of ${need.subject} in ${need.env} needs ${pending.required} approval${pending.required > 1 ? 's' : ''} from people other than ${pending.requester}; request #${pending.id} has ${pending.approvers.length}`, {
    hint: needsRequesterProof(ctx, pending) ? `Sign your request: \`shipgate sign-request ${pending.id} --sign-with ~/.ssh/id_ed25519\`; then ${ask.charAt(0).toLowerCase()}${ask.slice(1)}` : ask,
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
    env: need.env, action: need.action, subject: need.subject, requester: ctx.actor, requesterIdentity: requesterIdentity(ctx), reason: need.reason,
    required: need.kind === 'emergency' ? policy.emergency : policy.standard,
    createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + policy.expiry).toISOString(),
  });
  await record(ctx, { action: 'approval.request', outcome: 'pending', env: need.env, version: need.subject, reason: need.reason, detail: { approvalId: approval.id, for: need.action, required: approval.required, kind: need.kind } });
  notify(ctx, { event: 'approval.requested', env: need.env, version: need.subject, reason: need.reason, detail: { approvalId: approval.id, for: need.action, required: approval.required, approveWith: approveCommand(ctx, approval.id), next: approvalNextStep(ctx, approval) } });
  return approval;
}

/** How an approver shows who they are: a signature (made here or brought as a file), or a name under trust-local. */
export interface ApprovalProof {
  by?: string | undefined;
  /** A private key to sign the request with, here and now. */
  signWith?: string | undefined;
  /** An armored SSH signature over `approvalRequestText` made elsewhere. */
  signature?: string | undefined;
  /** Already proven by the caller: an API request's token (see server/auth.ts). */
  identity?: Identity | undefined;
}

const sameIdentity = (a: Identity, b: Identity) =>
  a.principal === b.principal || (a.method === 'ssh-signature' && b.method === 'ssh-signature' && a.fingerprint === b.fingerprint);

/**
 * One person's approval, recorded with the identity that made it. The requester cannot approve,
 * nor can anyone twice (compared on identities: principal or key); expired requests cannot be approved.
 */
export async function approve(ctx: AppContext, id: number, proof: ApprovalProof): Promise<ApprovalRecord> {
  const approval = await ctx.store.getApproval(id);
  if (!approval) throw badInput(`no approval request #${id}`, { where: '<request-id>', hint: 'List them with `shipgate approvals`.' });
  if (approval.state === 'used') throw refused(`approval #${id} was already used`, { hint: 'Each approval covers one action; ask for a new one.' });
  if (isExpired(approval, ctx.clock.now())) {
    await expire(ctx, approval);
    throw refused(`approval request #${id} expired at ${approval.expiresAt}`, { hint: 'Run the command again to open a new request.' });
  }
  const identity = await approverIdentity(ctx, approval, proof);
  if (needsRequesterProof(ctx, approval)) {
    throw refused(`request #${id} was opened by ${approval.requester}, a name nobody has proven: its requester must sign it before anyone can approve it`, {
      hint: `The requester runs \`shipgate sign-request ${id} --sign-with ~/.ssh/id_ed25519\`; then approvers by other keys count.`,
    });
  }
  const name = identity.principal;
  const requester: Identity = approval.requesterIdentity ?? { method: 'claimed', principal: approval.requester };
  if (sameIdentity(identity, requester)) throw refused(`${name} requested #${id} and cannot approve it`, { hint: 'Someone else must approve: two people, not one person twice.' });
  if (approval.approvers.some((a) => a.by === name || (a.identity && sameIdentity(a.identity, identity)))) throw refused(`${name} already approved #${id}`, { hint: `It needs ${approval.required} distinct approvers.` });
  const approvers = [...approval.approvers, { by: name, at: isoNow(ctx.clock), identity }];
  const state = approvers.length >= approval.required ? 'approved' : 'pending';
  await ctx.store.updateApproval(id, { approvers, state });
  // The grant is the approver's act: recorded under their identity, with who ran the command beside it.
  await record({ ...ctx, actor: name }, { action: 'approval.grant', outcome: state, env: approval.env, version: approval.subject, reason: approval.reason, detail: { approvalId: id, by: name, identity, ranBy: ctx.actor, for: approval.action, have: approvers.length, required: approval.required } });
  return { ...approval, approvers, state };
}

async function approverIdentity(ctx: AppContext, approval: ApprovalRecord, proof: ApprovalProof): Promise<Identity> {
  const policy = ctx.config.approvals;
  const by = proof.by?.trim();
  if (proof.identity) return proof.identity;
  if (proof.signWith || proof.signature) {
    const identity = await signedIdentity(ctx, approvalRequestText(approval), proof);
    if (by && by !== identity.principal) throw badInput(`--by ${by} does not match the signature, which is ${identity.principal}'s`, { where: '--by', hint: 'Leave out --by: the signature says who approves.' });
    return identity;
  }
  if (policy.identity !== 'trust-local') {
    throw refused(by ? `an approval must prove who gives it: --by ${by} alone proves nothing` : 'an approval must prove who gives it: sign it', {
      hint: `Sign it: \`shipgate approve ${approval.id} --sign-with ~/.ssh/id_ed25519\` (your key must be in approvals.allowedSigners). Only a setup that trusts everyone at this machine may set approvals.identity: trust-local.`,
    });
  }
  if (!by) throw badInput('--by needs a name', { where: '--by', hint: 'Say who approves, e.g. --by alice.' });
  return { method: 'trust-local', principal: by, ranBy: ctx.actor };
}

/** The allowed signer whose key signed `text` (signing it here with --sign-with, or checking a signature brought as a file). */
async function signedIdentity(ctx: AppContext, text: string, proof: { signWith?: string | undefined; signature?: string | undefined }): Promise<Identity> {
  const policy = ctx.config.approvals;
  if (!policy.allowedSigners) {
    throw badInput('approvals.allowedSigners is not set, so no signature can be checked', { where: 'approvals.allowedSigners', hint: 'Name the allowed-signers file (the format git uses) in shipgate.yml, e.g. approvals: { allowedSigners: ./allowed_signers }.' });
  }
  const allowed = path.resolve(ctx.configDir, policy.allowedSigners);
  if (!existsSync(allowed)) throw badInput(`the allowed-signers file ${allowed} does not exist`, { where: 'approvals.allowedSigners', hint: 'Create it with one line per approver: NAME namespaces="shipgate-approval" ssh-ed25519 AAAA...' });
  const signature = proof.signature ?? (await signText(ctx.runner, proof.signWith!, text));
  return verifySignedText(ctx.runner, allowed, text, signature);
}

/**
 * The requester proves who asked by signing the request (its own text, see `requesterText`).
 * Under `identity: signature` no one can approve until this is done: a claimed requester name
 * would let one person request as "carol" and approve with their own key.
 */
export async function signRequest(ctx: AppContext, id: number, proof: { signWith?: string | undefined; signature?: string | undefined }): Promise<ApprovalRecord> {
  const approval = await ctx.store.getApproval(id);
  if (!approval) throw badInput(`no approval request #${id}`, { where: '<request-id>', hint: 'List them with `shipgate approvals`.' });
  if (approval.state !== 'pending') throw refused(`approval request #${id} is ${approval.state}, not pending`, { hint: 'Only an open request can be signed; run the command again to open a new one.' });
  if (isExpired(approval, ctx.clock.now())) {
    await expire(ctx, approval);
    throw refused(`approval request #${id} expired at ${approval.expiresAt}`, { hint: 'Run the command again to open a new request.' });
  }
  if (approval.requesterIdentity && isProven(approval.requesterIdentity)) throw refused(`request #${id} is already signed by its requester ${approval.requesterIdentity.principal}`, { hint: 'A request has one requester; others approve it with `shipgate approve`.' });
  if (approval.approvers.length) throw refused(`request #${id} already has approvals, so its requester can no longer be changed`, { hint: 'Run the command again to open a new request, and sign it before anyone approves.' });
  if (!proof.signWith && !proof.signature) throw badInput('a request is signed with --sign-with KEY or --signature FILE', { where: '--sign-with', hint: `Run \`shipgate sign-request ${id} --sign-with ~/.ssh/id_ed25519\`.` });
  const identity = await signedIdentity(ctx, requesterText(approval), proof);
  await ctx.store.updateApproval(id, { requesterIdentity: identity });
  await record({ ...ctx, actor: identity.principal }, { action: 'approval.request-signed', outcome: 'pending', env: approval.env, version: approval.subject, reason: approval.reason, detail: { approvalId: id, claimed: approval.requester, identity, ranBy: ctx.actor, for: approval.action } });
  return { ...approval, requesterIdentity: identity };
}

/** Under `identity: signature`, a request is approvable only once its requester is proven. */
const needsRequesterProof = (ctx: Pick<AppContext, 'config'>, approval: Pick<ApprovalRecord, 'requesterIdentity'>) =>
  ctx.config.approvals.identity !== 'trust-local' && !(approval.requesterIdentity && isProven(approval.requesterIdentity));

/** What an approver runs, in the form this setup accepts. */
export const approveCommand = (ctx: Pick<AppContext, 'config' | 'identity'>, id: number) => {
  const cli = ctx.config.approvals.identity === 'trust-local' ? `shipgate approve ${id} --by NAME` : `shipgate approve ${id} --sign-with ~/.ssh/id_ed25519`;
  // Asked through the API: the approver most likely answers there too (the dashboard's Approve button).
  return ctx.identity?.method === 'api-token' ? `POST /api/approvals/${id}/approve\` with an approver's token (the dashboard's Approve), or \`${cli}` : cli;
};

/** What has to happen next for a request, as a sentence: the requester's signature first, where one is needed. */
export function approvalNextStep(ctx: Pick<AppContext, 'config' | 'identity'>, approval: Pick<ApprovalRecord, 'id' | 'requesterIdentity'>): string {
  const approveIt = `\`${approveCommand(ctx, approval.id)}\``;
  return needsRequesterProof(ctx, approval) ? `the requester signs it (\`shipgate sign-request ${approval.id} --sign-with ~/.ssh/id_ed25519\`), then others run ${approveIt}` : approveIt;
}

/** The requester as shipgate knows them: under trust-local the local actor is believed, otherwise it is only a claim. */
export function requesterIdentity(ctx: AppContext): Identity {
  if (ctx.identity) return ctx.identity;
  return ctx.config.approvals.identity === 'trust-local' ? { method: 'trust-local', principal: ctx.actor, ranBy: ctx.actor } : { method: 'claimed', principal: ctx.actor };
}

/** The text an approver (or, with `as: 'requester'`, the requester) signs for request #id, for signing elsewhere: `ssh-keygen -Y sign -n shipgate-approval`. */
export async function approvalText(ctx: AppContext, id: number, as: 'approver' | 'requester' = 'approver'): Promise<string> {
  const approval = await ctx.store.getApproval(id);
  if (!approval) throw badInput(`no approval request #${id}`, { where: '<request-id>', hint: 'List them with `shipgate approvals`.' });
  return as === 'requester' ? requesterText(approval) : approvalRequestText(approval);
}

/**
 * Takes the approval for this run before it acts, in one compare-and-set (approved → used): of two
 * runs that both found it approved, exactly one gets it; the other is refused and does nothing.
 */
export async function claimApproval(ctx: AppContext, approval: ApprovalRecord): Promise<void> {
  if (!(await ctx.store.claimApproval(approval.id))) {
    const now = await ctx.store.getApproval(approval.id);
    throw refused(`approval #${approval.id} for ${approval.action} of ${approval.subject} in ${approval.env} was ${now?.state === 'used' ? 'just used by another run' : `${now?.state ?? 'removed'} before this run could use it`}`, {
      hint: 'Each approval covers one action. Check what the other run did (`shipgate audit`), then run this again to open a new request if the action is still needed.',
    });
  }
  await record(ctx, { action: 'approval.use', outcome: 'used', env: approval.env, version: approval.subject, detail: { approvalId: approval.id, for: approval.action } });
}

/** Gives a claimed approval back when the action could not start or did not happen, so it can still be used once. */
export async function returnApproval(ctx: AppContext, approval: ApprovalRecord, why: string): Promise<void> {
  if (await ctx.store.returnApproval(approval.id)) {
    await record(ctx, { action: 'approval.return', outcome: 'approved', env: approval.env, version: approval.subject, reason: why, detail: { approvalId: approval.id, for: approval.action } });
  }
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

/** Runs the approved action; if it throws, the claimed approval is given back first (nothing happened that it could cover). */
export async function withApprovalReturnedOnError<T>(ctx: AppContext, approval: ApprovalRecord, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (err) {
    await returnApproval(ctx, approval, `the action failed: ${(err as Error).message}`);
    throw err;
  }
}
