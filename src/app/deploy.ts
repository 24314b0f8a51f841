import type { ResolvedEnvironment } from '../config/resolve.js';
import type { ChangeType } from '../config/schema.js';
import { badInput, refused } from '../core/errors.js';
import { assertVersionSyntax } from '../core/version.js';
import { isoNow } from '../core/clock.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import { executeDeployment, startDeployment, type DeploymentOutcome } from './execute-deployment.js';
import { currentVersion, deploymentLiveness, latestDeployment } from './history.js';
import { acquireEnvLock } from './locks.js';
import { assertTradingInterlock } from './safety.js';

export interface DeployRequest {
  env: string;
  version?: string | undefined;
  resume?: boolean;
  reason?: string | undefined;
  /** Change types declared by the person deploying (`--change-type`), on top of those derived from paths. */
  changeTypes?: ChangeType[] | undefined;
  /** Ship while the kill switch is on or the breaker TRIPPED (the fix itself); needs a reason. */
  allowTripped?: boolean | undefined;
  /** Deploy a release marked bad in this environment (fixing forward with the same tag); needs a reason, audited. */
  allowBad?: boolean | undefined;
  /** The caller (promote) already checked and recorded the interlock override. */
  interlockRecorded?: boolean;
  /** Runs once the environment lock is held, before anything is recorded (promote spends its approval here). */
  onLocked?: () => Promise<void>;
}

export async function deploy(ctx: AppContext, req: DeployRequest): Promise<DeploymentOutcome> {
  // Resolved once here (an unknown environment is refused) and passed down to every step.
  const environment = ctx.environment(req.env);
  if (req.resume) return resume(ctx, req, environment);
  if (!req.version) throw badInput('a version is required', { where: '--version', hint: `Run \`shipgate deploy ${req.env} --version v1.2.3\`, or \`--resume\` to finish an interrupted deployment.` });
  const version = assertVersionSyntax(req.version);

  const latest = await latestDeployment(ctx.store, req.env);
  if (latest && deploymentLiveness(latest, ctx.host) === 'interrupted') {
    throw refused(`${req.env} has an interrupted ${latest.kind} #${latest.id} of ${latest.version} (started ${latest.startedAt} by ${latest.actor})`, {
      hint: `Finish it with \`shipgate deploy ${req.env} --resume\`, or return to the last good version with \`shipgate rollback ${req.env} --reason "..."\`.`,
      data: { deployment: latest },
    });
  }
  const commit = await ctx.repo.resolve(version);
  await assertTradingInterlock(ctx, req.env, { allowTripped: req.allowTripped, reason: req.reason, alreadyRecorded: req.interlockRecorded ?? false });
  const lock = await acquireEnvLock(ctx, req.env, `deploy ${version}`);
  try {
    // Checked under the lock: a monitor's rollback cannot mark it bad in between.
    await assertNotBad(ctx, req.env, version, req);
    await req.onLocked?.();
    const from = (await currentVersion(ctx.store, req.env)) ?? null;
    const deployment = await startDeployment(ctx, { env: req.env, kind: 'deploy', version, commit, fromVersion: from, reason: req.reason ?? null, causeId: null, meta: { changeTypes: req.changeTypes ?? [] } });
    return await executeDeployment(ctx, lock, deployment, environment);
  } finally {
    await lock.release();
  }
}

/**
 * A release marked bad here (failed verification, soak or monitor, or rolled back from here) is
 * refused (exit 3) unless `--allow-bad --reason`, which is recorded (`deploy.allow-bad`).
 */
async function assertNotBad(ctx: AppContext, env: string, version: string, req: DeployRequest): Promise<void> {
  const release = await ctx.store.getRelease(env, version);
  if (release?.verdict !== 'bad') return;
  const why = `${version} is marked bad in ${env} since ${release.updatedAt}: ${release.reason ?? 'no reason recorded'}`;
  if (!req.allowBad) {
    throw refused(`${why}; a bad release is not deployed there again`, {
      hint: `Deploy a fixed release, or, if ${version} is known to be fine now, override (audited): ${allowBadHow(ctx, env, version)}. It stays marked bad until a soak or monitor of it passes.`,
      data: { release },
    });
  }
  if (!req.reason?.trim()) throw badInput('--allow-bad needs --reason', { where: '--reason', hint: `Say why ${version} may go back to ${env} although it is marked bad; it goes into the audit log.` });
  ctx.progress.warn(`${why}; deploying it anyway (--allow-bad)`);
  await record(ctx, { action: 'deploy.allow-bad', outcome: 'allowed', env, version, reason: req.reason.trim(), detail: { markedBad: release.reason, markedAt: release.updatedAt } });
}

/** How to override, in the caller's words: an API caller is told the API call (and the role it needs). */
function allowBadHow(ctx: AppContext, env: string, version: string): string {
  const cli = `\`shipgate deploy ${env} --version ${version} --allow-bad --reason "..."\``;
  return ctx.identity?.method === 'api-token' ? `\`POST /api/deploy\` with {"env": "${env}", "version": "${version}", "allowBad": true, "reason": "..."} and an approver's token, or ${cli}` : cli;
}

async function resume(ctx: AppContext, req: DeployRequest, environment: ResolvedEnvironment): Promise<DeploymentOutcome> {
  const latest = await latestDeployment(ctx.store, req.env);
  const liveness = latest ? deploymentLiveness(latest, ctx.host) : 'finished';
  if (!latest || liveness === 'finished') {
    throw badInput(`nothing to resume in ${req.env}: ${latest ? `the last ${latest.kind} #${latest.id} of ${latest.version} ${latest.state}` : 'it has no deployments'}`, {
      where: '--resume',
      hint: `Deploy a version with \`shipgate deploy ${req.env} --version <tag>\`.`,
    });
  }
  if (latest.kind === 'stop') {
    throw badInput(`the interrupted operation in ${req.env} is a stop (#${latest.id}), not a deployment`, { where: '--resume', hint: `Finish it with \`shipgate stop ${req.env} --reason "..."\`, or deploy a version.` });
  }
  if (req.version && req.version !== latest.version) {
    throw badInput(`the interrupted ${latest.kind} #${latest.id} is of ${latest.version}, not ${req.version}`, { where: '--version', hint: 'Leave out --version to resume it, or roll back first.' });
  }
  // Finishing an interrupted rollback is always allowed; finishing a deploy is a deploy.
  if (latest.kind === 'deploy') await assertTradingInterlock(ctx, req.env, { allowTripped: req.allowTripped, reason: req.reason });
  const lock = await acquireEnvLock(ctx, req.env, `resume ${latest.kind} ${latest.version}`, { takeOverStale: true });
  try {
    await ctx.store.adoptDeployment(latest.id, ctx.host, ctx.pid, isoNow(ctx.clock));
    await record(ctx, { action: `${latest.kind}.resume`, outcome: 'started', env: req.env, version: latest.version, reason: req.reason ?? null, detail: { deploymentId: latest.id } });
    return await executeDeployment(ctx, lock, latest, environment);
  } finally {
    await lock.release();
  }
}
