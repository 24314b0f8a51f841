import { badInput, failed } from '../core/errors.js';
import { assertVersionSyntax } from '../core/version.js';
import { isoNow } from '../core/clock.js';
import { record } from './audit.js';
import type { Trigger } from './analysis/watch-data.js';
import type { AppContext } from './context.js';
import { planDatabaseRollback, type DbChoice } from './database-rollback.js';
import { executeDeployment, startDeployment, type DeploymentOutcome } from './execute-deployment.js';
import { lastGoodVersion, latestDeployment, unprovenBecause } from './history.js';
import { acquireEnvLock, interrupted } from './locks.js';

export interface RollbackRequest {
  env: string;
  to?: string | undefined;
  reason?: string | undefined;
  /** The monitor whose trigger asked for this rollback. */
  triggeredByWatch?: number;
  trigger?: Trigger;
  db?: DbChoice | undefined;
  acceptDataLoss?: boolean | undefined;
}

/** Returns an environment to its last known good version (or `to`), finishing any interrupted work first. */
export async function rollback(ctx: AppContext, req: RollbackRequest): Promise<DeploymentOutcome> {
  ctx.environment(req.env);
  const reason = req.reason?.trim();
  if (!reason) throw badInput('a rollback needs a reason', { where: '--reason', hint: `Say why, e.g. \`shipgate rollback ${req.env} --reason "error rate 10% after v1.1.0"\`; it goes into the audit log and the incident.` });
  const to = req.to === undefined ? undefined : assertVersionSyntax(req.to, '--to');

  const lock = await acquireEnvLock(ctx, req.env, `rollback${to ? ` to ${to}` : ''}`, { takeOverStale: true });
  try {
    const latest = await latestDeployment(ctx.store, req.env);
    let abortedInterrupted = false;
    if (latest && (await interrupted(ctx, latest, lock))) {
      if (latest.kind === 'rollback' && (to === undefined || to === latest.version)) {
        await ctx.store.adoptDeployment(latest.id, ctx.host, ctx.pid, isoNow(ctx.clock));
        await record(ctx, { action: 'rollback.resume', outcome: 'started', env: req.env, version: latest.version, reason, detail: { deploymentId: latest.id } });
        return await executeDeployment(ctx, lock, latest);
      }
      await ctx.store.finishDeployment(latest.id, 'aborted', isoNow(ctx.clock), `interrupted; aborted by rollback: ${reason}`);
      abortedInterrupted = latest.kind === 'deploy';
      await record(ctx, { action: `${latest.kind}.abort`, outcome: 'aborted', env: req.env, version: latest.version, reason, detail: { deploymentId: latest.id } });
    }

    // Retrying a rollback that failed still undoes the deployment that rollback was undoing.
    // After a stop nothing runs: a rollback starts the last good version again and blames nothing.
    const last = latest?.kind === 'stop' ? undefined : latest;
    const undo = last?.kind === 'rollback' && last.state !== 'succeeded' && last.causeId ? ((await ctx.store.getDeployment(last.causeId)) ?? last) : last;
    const from = undo?.version ?? null;
    const targetVersion = to ?? (await lastGoodVersion(ctx.store, req.env, from ?? undefined));
    if (!targetVersion) {
      throw failed(`no earlier good version of ${req.env} is known${from ? ` (it runs ${from})` : ''}`, { hint: `Name one with \`shipgate rollback ${req.env} --to <tag> --reason "..."\`.` });
    }
    const commit = await ctx.repo.resolve(targetVersion);
    await warnAboutTarget(ctx, req.env, targetVersion);
    const database = await planDatabaseRollback(ctx, req.env, undo, { db: req.db, acceptDataLoss: req.acceptDataLoss, automatic: Boolean(req.trigger) });
    // Undoing a deploy that was interrupted before it finished is recovery, not a judgement on the release.
    if (undo && undo.version !== targetVersion && !(abortedInterrupted && undo.id === latest?.id)) {
      await ctx.store.setVerdict(req.env, undo.version, 'bad', `rolled back: ${reason}`, isoNow(ctx.clock));
    }
    const deployment = await startDeployment(ctx, { env: req.env, kind: 'rollback', version: targetVersion, commit, fromVersion: from, reason, causeId: undo?.id ?? null, ...(req.triggeredByWatch !== undefined ? { triggeredByWatch: req.triggeredByWatch } : {}), meta: { trigger: req.trigger ?? { check: 'manual', reason, at: isoNow(ctx.clock) }, database } });
    return await executeDeployment(ctx, lock, deployment);
  } finally {
    await lock.release();
  }
}

/** `--to` may name a release marked bad (it stays marked); a default target may be unproven. Either is said. */
async function warnAboutTarget(ctx: AppContext, env: string, version: string): Promise<void> {
  const release = await ctx.store.getRelease(env, version);
  if (release?.verdict === 'bad') {
    ctx.progress.warn(`${version} is marked bad in ${env} since ${release.updatedAt}: ${release.reason ?? 'no reason recorded'}; returning to it as --to asks (it stays marked bad)`);
    return;
  }
  const unproven = await unprovenBecause(ctx.store, env, version);
  if (unproven) ctx.progress.warn(`${version} is not proven good in ${env}: ${unproven}`);
}
