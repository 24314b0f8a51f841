import type { WatchRecord } from '../adapters/store/store.js';
import { badInput, refused } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { assertVersionSyntax } from '../core/version.js';
import type { SoakData } from './analysis/watch-data.js';
import type { ApprovalRecord } from '../adapters/store/store.js';
import { approvalNextStep, claimApproval, findApproval } from './approvals.js';
import { record } from './audit.js';
import { latestPreflight } from './preflight.js';
import { notify } from './notify.js';
import { deployWindow } from './window.js';
import { assertTradingInterlock } from './safety.js';
import type { AppContext } from './context.js';
import { deploy } from './deploy.js';
import type { DeploymentOutcome } from './execute-deployment.js';
import { currentVersion, latestDeployment } from './history.js';

export interface PromotionCheck {
  requirement: string;
  met: boolean;
  detail: string;
}

export interface PromoteRequest {
  env: string;
  version?: string | undefined;
  reason?: string | undefined;
  /** An emergency hotfix inside the market session: needs the emergency approvals and an on-call engineer. */
  emergency?: boolean;
  allowTripped?: boolean | undefined;
  onCall?: string | undefined;
}

/** Every requirement for promoting, each with its evidence; all are listed, not just the first unmet. */
export async function promotionChecks(ctx: AppContext, env: string, version: string | undefined, opts: { emergency?: boolean; onCall?: string | undefined; reason?: string | undefined } = {}): Promise<{ version: string; from: string; checks: PromotionCheck[]; approval?: ApprovalRecord }> {
  const spec = ctx.environment(env).spec;
  const from = spec.promoteFrom;
  if (!from) throw badInput(`${env} has no promoteFrom environment`, { where: `shipgate.yml: environments.${env}.promoteFrom`, hint: `Set promoteFrom: staging (the environment whose soaked release ${env} takes), or use \`shipgate deploy\`.` });
  ctx.environment(from);
  const candidate = version ? assertVersionSyntax(version) : await currentVersion(ctx.store, from);
  if (!candidate) throw refused(`${from} runs no release to promote`, { hint: `Deploy to ${from} first: shipgate deploy ${from} --version <tag>.` });

  const checks: PromotionCheck[] = [];
  const soaks = (await ctx.store.listWatches({ env: from, kind: 'soak', limit: 50 })) as WatchRecord<SoakData>[];
  const soak = soaks.find((s) => s.version === candidate);
  const latest = await latestDeployment(ctx.store, from);
  if (!soak) checks.push({ requirement: 'staging soak passed', met: false, detail: `${candidate} was never soaked in ${from}` });
  else if (soak.state === 'passed') {
    const redeployed = latest && latest.id !== soak.deploymentId;
    checks.push({ requirement: 'staging soak passed', met: true, detail: `soak #${soak.id} passed: ${soak.data.reason ?? ''}` });
    checks.push({ requirement: `${from} not redeployed since the soak`, met: !redeployed, detail: redeployed ? `${from} had a ${latest!.kind} of ${latest!.version} (#${latest!.id}) after soak #${soak.id}` : `${from} still runs the soaked deployment #${soak.deploymentId}` });
  } else if (soak.state === 'running') {
    const elapsed = ctx.clock.now().getTime() - new Date(soak.startedAt).getTime();
    checks.push({ requirement: 'staging soak passed', met: false, detail: `soak #${soak.id} of ${candidate} is still running: ${formatDuration(elapsed)} of ${formatDuration(soak.data.requiredMs)} (${soak.data.soakClass})` });
  } else {
    checks.push({ requirement: 'staging soak passed', met: false, detail: `soak #${soak.id} of ${candidate} ${soak.state}: ${soak.data.reason ?? ''}${soak.data.failedCheck ? ` [gate ${soak.data.failedCheck}]` : ''}` });
  }
  const release = await ctx.store.getRelease(env, candidate);
  if (release?.verdict === 'bad') checks.push({ requirement: `${candidate} not rolled back from ${env}`, met: false, detail: `${candidate} was marked bad in ${env}: ${release.reason ?? ''}; a newer release must pass staging` });

  const preflight = await latestPreflight(ctx, candidate, env);
  const items = ((preflight?.detail as { items?: { item: string; status: string; evidence: string }[] } | undefined)?.items ?? []);
  checks.push(
    !preflight ? { requirement: 'preflight passed', met: false, detail: `no preflight of ${candidate} for ${env}: run \`shipgate preflight ${candidate} --env ${env}\`` }
    : { requirement: 'preflight passed', met: preflight.outcome === 'passed', detail: preflight.outcome === 'passed' ? `passed at ${preflight.at}` : `failed at ${preflight.at}: ${items.filter((i) => i.status === 'fail').map((i) => i.item).join(', ')}` },
  );
  const plan = items.find((i) => i.item === 'rollback-plan');
  checks.push({ requirement: 'rollback plan documented', met: plan?.status === 'pass' || plan?.status === 'attested', detail: plan?.evidence ?? 'unknown until preflight runs' });

  const onCall = opts.onCall?.trim() || spec.onCall[0];
  checks.push({ requirement: 'on-call engineer named', met: Boolean(onCall), detail: onCall ? `${onCall}${opts.onCall ? ' (--on-call)' : ` (environments.${env}.onCall)`}` : `set environments.${env}.onCall or pass --on-call NAME` });

  // Deployment windows follow the real market, not the demo's faster clock.
  const window = deployWindow(ctx.config, env, ctx.wallClock.now());
  if (window.open) checks.push({ requirement: 'deployment window open', met: true, detail: window.reason });
  else if (opts.emergency) checks.push({ requirement: 'deployment window open', met: true, detail: `closed (${window.reason}); emergency override: ${opts.reason?.trim() || 'no reason given'}` });
  else checks.push({ requirement: 'deployment window open', met: false, detail: `${window.reason}; next open ${window.nextOpen ?? 'unknown'} (an emergency hotfix may use --emergency --reason)` });

  if (opts.emergency && !opts.reason?.trim()) checks.push({ requirement: 'emergency reason', met: false, detail: 'an emergency promotion needs --reason' });

  const approval = await findApproval(ctx, { env, action: opts.emergency ? 'promote-emergency' : 'promote', subject: candidate, kind: opts.emergency ? 'emergency' : 'standard', reason: opts.reason?.trim() || `promote ${candidate} to ${env}` });
  checks.push({ requirement: `${opts.emergency ? 'emergency ' : ''}approval`, met: approval.state === 'approved', detail: approval.state === 'approved' ? `#${approval.id} approved by ${approval.approvers.map((a) => a.by).join(', ')}` : `request #${approval.id} has ${approval.approvers.length} of ${approval.required}: ${approvalNextStep(ctx, approval)}` });
  return { version: candidate, from, checks, approval };
}

export async function promote(ctx: AppContext, req: PromoteRequest): Promise<DeploymentOutcome & { checks: PromotionCheck[] }> {
  const { version, from, checks, approval } = await promotionChecks(ctx, req.env, req.version, req);
  await assertTradingInterlock(ctx, req.env, { allowTripped: req.allowTripped, reason: req.reason });
  const unmet = checks.filter((c) => !c.met);
  if (unmet.length) {
    await record(ctx, { action: 'promote.refused', outcome: 'refused', env: req.env, version, reason: unmet.map((c) => `${c.requirement}: ${c.detail}`).join('; '), detail: { checks } });
    notify(ctx, { event: 'promotion.refused', env: req.env, version, reason: unmet.map((c) => c.requirement).join(', '), detail: { unmet: unmet.map((c) => `${c.requirement}: ${c.detail}`) } });
    throw refused(`promotion of ${version} from ${from} to ${req.env} refused: ${unmet.map((c) => `${c.requirement} — ${c.detail}`).join('; ')}`, {
      hint: 'Fix what is listed and try again; `shipgate soak status` shows the soak and its gates.',
      data: { version, checks },
    });
  }
  // The approval is claimed only by a promotion that holds the lock, before it starts: a run that
  // cannot get the lock leaves it approved, and of two runs only one can claim it.
  const outcome = await deploy(ctx, {
    env: req.env, version, reason: req.reason ?? `promoted from ${from}`, allowTripped: req.allowTripped, interlockRecorded: true,
    onLocked: async () => {
      await claimApproval(ctx, approval!);
      await record(ctx, { action: 'promote.approved', outcome: req.emergency ? 'emergency' : 'ok', env: req.env, version, reason: req.reason ?? null, detail: { checks } });
    },
  });
  return { ...outcome, checks };
}
