import type { WatchRecord } from '../adapters/store/store.js';
import { environmentSpec } from '../config/resolve.js';
import { badInput, refused } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { assertVersionSyntax } from '../core/version.js';
import type { SoakData } from './analysis/watch-data.js';
import { record } from './audit.js';
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
}

/** Every requirement for promoting, each with its evidence; all are listed, not just the first unmet. */
export async function promotionChecks(ctx: AppContext, env: string, version: string | undefined): Promise<{ version: string; from: string; checks: PromotionCheck[] }> {
  const spec = environmentSpec(ctx.config, env);
  const from = spec.promoteFrom;
  if (!from) throw badInput(`${env} has no promoteFrom environment`, { where: `shipgate.yml: environments.${env}.promoteFrom`, hint: `Set promoteFrom: staging (the environment whose soaked release ${env} takes), or use \`shipgate deploy\`.` });
  environmentSpec(ctx.config, from);
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
  if (release?.verdict === 'bad') checks.push({ requirement: `${candidate} not rolled back from ${env}`, met: false, detail: `${candidate} was marked bad in ${env}: ${release.reason ?? ''}` });
  return { version: candidate, from, checks };
}

export async function promote(ctx: AppContext, req: PromoteRequest): Promise<DeploymentOutcome & { checks: PromotionCheck[] }> {
  const { version, from, checks } = await promotionChecks(ctx, req.env, req.version);
  const unmet = checks.filter((c) => !c.met);
  if (unmet.length) {
    await record(ctx, { action: 'promote.refused', outcome: 'refused', env: req.env, version, reason: unmet.map((c) => `${c.requirement}: ${c.detail}`).join('; '), detail: { checks } });
    throw refused(`promotion of ${version} from ${from} to ${req.env} refused: ${unmet.map((c) => `${c.requirement} — ${c.detail}`).join('; ')}`, {
      hint: 'Fix what is listed and try again; `shipgate soak status` shows the soak and its gates.',
      data: { version, checks },
    });
  }
  await record(ctx, { action: 'promote.approved', outcome: 'ok', env: req.env, version, reason: req.reason ?? null, detail: { checks } });
  const outcome = await deploy(ctx, { env: req.env, version, reason: req.reason ?? `promoted from ${from}` });
  return { ...outcome, checks };
}
