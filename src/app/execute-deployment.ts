import type { DeploymentRecord, DeploymentKind } from '../adapters/store/store.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { isoNow } from '../core/clock.js';
import { record } from './audit.js';
import type { DeploymentMeta } from './analysis/watch-data.js';
import type { AppContext } from './context.js';
import { abortWatches, startWatches } from './watches.js';
import { openIncident } from './incidents.js';
import { notify } from './notify.js';
import { lastGoodVersion } from './history.js';
import { LockLostError, type LockHandle } from './locks.js';
import { restoreWithoutStore } from './store-failure.js';
import { runPipeline, TOUCHES_RUNNING, type PipelineResult } from './pipeline.js';
import { planDatabaseRollback } from './database-rollback.js';

export interface DeploymentOutcome {
  ok: boolean;
  deploymentId: number;
  env: string;
  kind: DeploymentKind;
  version: string;
  fromVersion: string | null;
  failedStep?: string | undefined;
  error?: string | undefined;
  /** What to do next, when the failure came with one. */
  hint?: string | undefined;
  /** Failed because a step refused (exit 3), e.g. a restore that would lose data; nothing was stopped. */
  refused?: boolean | undefined;
  health?: PipelineResult['health'];
  /** The automatic return to the last good version after a failed deploy. */
  rollback?: DeploymentOutcome;
  /** The incident a rollback opened. */
  incidentId?: number;
  /** The lock was broken or taken over: the deployment stopped at its next step, nothing more was done. */
  lockLost?: boolean;
  /** The store could not be written: what running services were touched was returned to this version without it. */
  restoredWithoutStore?: { version: string; ok: boolean; error?: string } | null;
}

export async function startDeployment(
  ctx: AppContext,
  init: { env: string; kind: DeploymentKind; version: string; commit: string; fromVersion: string | null; reason: string | null; causeId: number | null; meta?: DeploymentMeta; triggeredByWatch?: number },
): Promise<DeploymentRecord> {
  const at = isoNow(ctx.clock);
  await abortWatches(ctx, init.env, `superseded by a ${init.kind} of ${init.version}`, init.triggeredByWatch);
  // Re-recording an unchanged release would move its updatedAt, which dates its verdict ("marked bad since").
  const known = await ctx.store.getRelease(init.env, init.version);
  if (known?.commit !== init.commit) await ctx.store.recordRelease(init.env, init.version, init.commit, at);
  const deployment = await ctx.store.createDeployment(
    { env: init.env, kind: init.kind, version: init.version, fromVersion: init.fromVersion, actor: ctx.actor, reason: init.reason, causeId: init.causeId, host: ctx.host, pid: ctx.pid, startedAt: at, meta: init.meta ?? {} },
    at,
  );
  await record(ctx, { action: `${init.kind}.start`, outcome: 'started', env: init.env, version: init.version, reason: init.reason, detail: { deploymentId: deployment.id, fromVersion: init.fromVersion, commit: init.commit } });
  notify(ctx, { event: init.kind === 'rollback' ? 'rollback.started' : 'deploy.started', env: init.env, version: init.version, ...(init.reason ? { reason: init.reason } : {}), detail: { deploymentId: deployment.id, fromVersion: init.fromVersion } });
  return deployment;
}

/**
 * Runs (or finishes) a recorded deployment and records its outcome. A deploy that fails
 * verification returns the environment to its last good version before reporting failure.
 */
export async function executeDeployment(ctx: AppContext, lock: LockHandle, deployment: DeploymentRecord, environment: ResolvedEnvironment = ctx.environment(deployment.env)): Promise<DeploymentOutcome> {
  const { env, version, kind } = deployment;
  const release = await ctx.store.getRelease(env, version);
  if (!release) throw new Error(`release ${version} of ${env} is not recorded; the store is inconsistent`);
  const result = await runPipeline(ctx, lock, deployment, environment, { env, version, commit: release.commit, services: environment.services });
  const at = isoNow(ctx.clock);
  const base: DeploymentOutcome = { ok: result.ok, deploymentId: deployment.id, env, kind, version, fromVersion: deployment.fromVersion, failedStep: result.failedStep, error: result.error, ...(result.hint ? { hint: result.hint } : {}), health: result.health, refused: result.refused };
  if (result.lockLost) return lockLost(ctx, deployment, base);
  if (result.storeFailed) return storeFailed(ctx, deployment, base, result.storeFailed.touchedRunning);

  if (result.ok) {
    await ctx.store.finishDeployment(deployment.id, 'succeeded', at);
    // Passing verification does not clear a bad mark: what made it bad (a failed soak or monitor,
    // a rollback) is more than a health check sees. Only a passing soak or monitor clears it.
    if (release.verdict !== 'bad') await ctx.store.setVerdict(env, version, 'good', null, at);
    await record(ctx, { action: `${kind}.finish`, outcome: 'succeeded', env, version, reason: deployment.reason, detail: { deploymentId: deployment.id } });
    notify(ctx, { event: kind === 'rollback' ? 'rollback.finished' : 'deploy.succeeded', env, version, ...(deployment.reason ? { reason: deployment.reason } : {}), detail: { deploymentId: deployment.id, outcome: 'succeeded', fromVersion: deployment.fromVersion } });
    if (kind === 'deploy') await startWatches(ctx, environment, (await ctx.store.getDeployment(deployment.id))!);
    if (kind === 'rollback') return { ...base, incidentId: await incidentFor(ctx, deployment, base) };
    return base;
  }

  await ctx.store.finishDeployment(deployment.id, 'failed', at, result.error ?? 'failed');
  await record(ctx, { action: `${kind}.finish`, outcome: 'failed', env, version, reason: result.error ?? null, detail: { deploymentId: deployment.id, failedStep: result.failedStep } });
  notify(ctx, { event: kind === 'rollback' ? 'rollback.finished' : 'deploy.failed', env, version, reason: result.error ?? 'failed', detail: { deploymentId: deployment.id, outcome: 'failed', failedStep: result.failedStep } });
  if (kind !== 'deploy') return { ...base, ...rollbackFailedHint(base), incidentId: await incidentFor(ctx, deployment, base) };

  // Failing before anything ran (a port held by a stranger, a missing program) says nothing about the
  // release: it is not marked bad, and the same tag may be deployed once the environment is fixed.
  if (result.failedStep && !TOUCHES_RUNNING.includes(result.failedStep)) {
    ctx.progress.warn(`${version} failed ${result.failedStep} before anything running in ${env} was touched; nothing to roll back`);
    return base;
  }
  await ctx.store.setVerdict(env, version, 'bad', `failed ${result.failedStep}: ${result.error ?? ''}`, at);
  const target = await lastGoodVersion(ctx.store, env, version);
  try {
    await lock.renew();
  } catch (err) {
    if (err instanceof LockLostError) return lockLost(ctx, deployment, { ...base, error: `${base.error ?? 'failed'}; ${err.message}` });
    throw err;
  }
  if (!target) {
    // Nothing good to return to: what this deploy started must not stay up half-verified.
    ctx.progress.warn(`no earlier good version of ${env} is known, so nothing was rolled back; stopping what this deploy started`);
    try {
      await ctx.target(env).down(env);
      await record(ctx, { action: 'deploy.cleanup', outcome: 'stopped', env, version, reason: `failed ${result.failedStep} with no earlier good version`, detail: { deploymentId: deployment.id } });
    } catch (err) {
      await record(ctx, { action: 'deploy.cleanup', outcome: 'failed', env, version, reason: (err as Error).message, detail: { deploymentId: deployment.id } });
      return { ...base, error: `${base.error ?? 'failed'}; stopping what it started failed too: ${(err as Error).message}` };
    }
    return { ...base, ...(await unrestoredDatabaseHint(ctx, base)) };
  }
  const targetRelease = await ctx.store.getRelease(env, target);
  ctx.progress.warn(`${version} failed ${result.failedStep}; returning ${env} to ${target}`);
  const rollback = await startDeployment(ctx, {
    env, kind: 'rollback', version: target, commit: targetRelease!.commit, fromVersion: version,
    reason: `automatic: ${version} failed ${result.failedStep}`, causeId: deployment.id,
    meta: {
      trigger: { check: result.failedStep ?? 'deploy', reason: result.error ?? 'failed', at, evidence: result.health ?? null },
      database: await planDatabaseRollback(ctx, env, (await ctx.store.getDeployment(deployment.id))!, { automatic: true }),
    },
  });
  return { ...base, rollback: await executeDeployment(ctx, lock, rollback, environment) };
}

/** A failed migration with no earlier release to return to: the database is left as it is; say which backup undoes it. */
async function unrestoredDatabaseHint(ctx: AppContext, outcome: DeploymentOutcome): Promise<{ hint?: string }> {
  if (outcome.failedStep !== 'migrate-database' || outcome.hint) return {};
  const [backup] = await ctx.store.listBackups({ deploymentId: outcome.deploymentId, limit: 1 });
  if (!backup) return {};
  return { hint: `The ${outcome.env} database was left as the failed migration left it (no earlier good release to return to). Backup #${backup.id}, taken just before it, undoes it: \`shipgate restore ${outcome.env} --backup ${backup.id}\`; fix the migration, then deploy again.` };
}

/**
 * A rollback that failed once it touched what runs leaves the environment on no verified release: say
 * so, and what to do (a refused or untouched rollback changed nothing and keeps its own hint).
 */
function rollbackFailedHint(outcome: DeploymentOutcome): { hint?: string } {
  if (outcome.hint || outcome.refused || !outcome.failedStep || !TOUCHES_RUNNING.includes(outcome.failedStep as (typeof TOUCHES_RUNNING)[number])) return {};
  const { env, version, failedStep } = outcome;
  const state = failedStep === 'start-new' || failedStep === 'verify' ? `${version} may be only partly running in ${env}` : `nothing runs in ${env} now: its services were stopped before ${failedStep}`;
  return { hint: `${state}. Fix the cause, then run \`shipgate rollback ${env} --to ${version} --reason "..."\` again (\`shipgate status --env ${env}\` shows what runs).` };
}

/** A finished rollback (either way) opens its incident: what triggered it, from which release, to which. */
async function incidentFor(ctx: AppContext, rollback: DeploymentRecord, outcome: DeploymentOutcome): Promise<number> {
  const meta = (rollback.meta ?? {}) as DeploymentMeta;
  const trigger = meta.trigger ?? { check: 'manual', reason: rollback.reason ?? 'manual rollback', at: rollback.startedAt };
  const from = rollback.fromVersion ?? 'unknown';
  return openIncident(ctx, {
    env: rollback.env,
    title: `${from} in ${rollback.env} rolled back${trigger.check === 'manual' ? ` by ${rollback.actor}` : ''}: ${trigger.check}`,
    version: from,
    deploymentId: rollback.causeId,
    trigger,
    rollback: { deploymentId: rollback.id, ok: outcome.ok, version: rollback.version, finishedAt: isoNow(ctx.clock), error: outcome.error },
    database: meta.database ?? null,
  });
}

/**
 * Someone broke the lock (or it was taken over): another deployment may now own the environment,
 * so this one does nothing more to it: no rollback, no verdict. Its record says why it stopped,
 * and it is finished (aborted), so it never blocks the next deploy as "interrupted".
 */
async function lockLost(ctx: AppContext, deployment: DeploymentRecord, base: DeploymentOutcome): Promise<DeploymentOutcome> {
  const at = isoNow(ctx.clock);
  const error = base.error ?? `lock lost: the lock on ${deployment.env} was released by force or taken over`;
  await ctx.store.finishDeployment(deployment.id, 'aborted', at, error);
  await record(ctx, { action: `${deployment.kind}.lock-lost`, outcome: 'aborted', env: deployment.env, version: deployment.version, reason: error, detail: { deploymentId: deployment.id, stoppedAt: base.failedStep ?? null } });
  ctx.progress.warn(`${deployment.kind} #${deployment.id} stopped: ${error}`);
  return { ...base, ok: false, lockLost: true, error };
}

/**
 * The store failed (disk full, read-only) mid-deployment. Before anything running was touched
 * the deployment just ends. After, a deploy puts the previous release back without relying on
 * the store, then records what it can; a record it cannot write stays "interrupted", which the
 * next `rollback` or `--resume` finishes.
 */
async function storeFailed(ctx: AppContext, deployment: DeploymentRecord, base: DeploymentOutcome, touchedRunning: boolean): Promise<DeploymentOutcome> {
  let restored: DeploymentOutcome['restoredWithoutStore'] = null;
  if (touchedRunning && deployment.kind === 'deploy' && deployment.fromVersion) {
    ctx.progress.warn(`${base.error}; returning ${deployment.env} to ${deployment.fromVersion} without the store`);
    restored = await restoreWithoutStore(ctx, deployment.env, deployment.fromVersion);
  } else if (!touchedRunning) {
    ctx.progress.warn(`${base.error}; nothing running in ${deployment.env} was touched`);
  }
  const error = `${base.error}${restored ? (restored.ok ? `; ${deployment.env} was returned to ${restored.version}` : `; returning ${deployment.env} to ${restored.version} failed: ${restored.error}`) : ''}`;
  try {
    await ctx.store.finishDeployment(deployment.id, touchedRunning && !restored?.ok ? 'failed' : 'aborted', isoNow(ctx.clock), error);
    await record(ctx, { action: `${deployment.kind}.store-failed`, outcome: 'failed', env: deployment.env, version: deployment.version, reason: error, detail: { deploymentId: deployment.id, touchedRunning, restored } });
  } catch (err) {
    ctx.progress.warn(`the outcome could not be recorded either (${(err as Error).message}); once there is space, \`shipgate rollback ${deployment.env} --reason ...\` finishes it`);
  }
  return { ...base, ok: false, error, restoredWithoutStore: restored };
}
