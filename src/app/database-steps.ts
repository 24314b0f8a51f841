import { processLayout } from '../adapters/targets/process/launch.js';
import type { DeploymentRecord } from '../adapters/store/store.js';
import type { ReleaseSpec } from '../adapters/targets/target.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import type { DeploymentMeta } from './analysis/watch-data.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import { checkDataLoss, restoreBackup, runMigration, takeBackup } from './database.js';
import { verifyChecksum } from '../adapters/database/postgres.js';
import { refused } from '../core/errors.js';
import type { StepOutcome } from './step-outcome.js';

// Migrations run from the release's checkout on this host (where prepare-release put it).
const releaseDir = (ctx: AppContext, env: string, version: string) => processLayout(ctx.stateDir).releaseDir(env, version);

/** The seed's `git tag -a`: an annotated tag per production deployment, pushed when `origin` exists. */
export async function tagStep(ctx: AppContext, release: ReleaseSpec, deployment: DeploymentRecord): Promise<StepOutcome> {
  const tag = `deploy/${release.env}/${release.version}`;
  await ctx.repo.tagAnnotated(tag, release.commit, `Release ${release.version} to ${release.env} by ${ctx.actor}${deployment.reason ? `: ${deployment.reason}` : ''}`);
  const pushed = (await ctx.repo.hasRemote('origin')) ? await ctx.repo.pushTag('origin', tag) : null;
  if (pushed && !pushed.ok) ctx.progress.warn(`tag ${tag} was not pushed: ${pushed.output}`);
  return { ok: true, detail: { tag, pushed: pushed ? pushed.ok : 'no remote' } };
}

/** A verified backup before any migration; without it the deploy stops here, nothing touched. */
export async function backupStep(ctx: AppContext, release: ReleaseSpec, deployment: DeploymentRecord): Promise<StepOutcome> {
  const backup = await takeBackup(ctx, release.env, { deploymentId: deployment.id });
  return { ok: true, detail: { backupId: backup.id, file: backup.file, sha256: backup.sha256, sizeBytes: backup.sizeBytes, verifiedEntries: backup.verifiedEntries } };
}

/**
 * Production migrates up. An environment that soaks (staging) runs up, down, up so that the
 * down path is proven before production needs it; preflight reads that `migrate.cycle` record.
 */
export async function migrateStep(ctx: AppContext, environment: ResolvedEnvironment, release: ReleaseSpec, deployment: DeploymentRecord): Promise<StepOutcome> {
  const { spec } = environment;
  const dir = releaseDir(ctx, release.env, release.version);
  const cycle = spec.soak && spec.database?.migrate?.down ? (['up', 'down', 'up'] as const) : (['up'] as const);
  const runs = [];
  for (const action of cycle) {
    const run = await runMigration(ctx, release.env, dir, action);
    runs.push({ action, exitCode: run.exitCode, output: run.output.split('\n').slice(-10) });
    if (!run.ok) {
      if (cycle.length > 1) await record(ctx, { action: 'migrate.cycle', outcome: 'failed', env: release.env, version: release.version, detail: { deploymentId: deployment.id, runs } });
      return { ok: false, detail: { runs }, error: `migration ${action} exited ${run.exitCode}: ${run.output.split('\n').filter(Boolean).slice(-3).join(' | ')}` };
    }
  }
  if (cycle.length > 1) await record(ctx, { action: 'migrate.cycle', outcome: 'passed', env: release.env, version: release.version, detail: { deploymentId: deployment.id } });
  return { ok: true, detail: { runs } };
}

/** A rollback's database step: restore the pre-deploy backup, or run the newer release's down migration. */
export async function restoreStep(ctx: AppContext, release: ReleaseSpec, deployment: DeploymentRecord): Promise<StepOutcome> {
  const plan = (deployment.meta as DeploymentMeta).database!;
  if (plan.action === 'restore') {
    const result = await restoreBackup(ctx, release.env, plan.backupId!, { acceptDataLoss: Boolean(plan.acceptDataLoss), releaseDir: releaseDir(ctx, release.env, release.version), reason: deployment.reason ?? 'rollback' });
    const integrityOk = !result.integrity || result.integrity.ok;
    return { ok: integrityOk, detail: { backupId: plan.backupId, removed: result.removed, integrity: result.integrity }, ...(integrityOk ? {} : { error: `integrity check failed after the restore: ${result.integrity!.output.split('\n').slice(-3).join(' | ')}` }) };
  }
  const run = await runMigration(ctx, release.env, releaseDir(ctx, release.env, plan.fromVersion!), 'down');
  return { ok: run.ok, detail: { down: { exitCode: run.exitCode, output: run.output.split('\n').slice(-10) } }, ...(run.ok ? {} : { error: `migration down exited ${run.exitCode}` }) };
}

/** Before a rollback stops anything: the backup it will restore is intact, and (unless accepted) restoring loses nothing. */
export async function checkRestorable(ctx: AppContext, release: ReleaseSpec, deployment: DeploymentRecord): Promise<void> {
  const plan = (deployment.meta as DeploymentMeta).database;
  if (plan?.action !== 'restore' || plan.backupId === undefined) return;
  const backup = await ctx.store.getBackup(plan.backupId);
  if (!backup) throw refused(`backup #${plan.backupId} is not recorded`, { hint: `Roll back with --db down or --db skip.` });
  await verifyChecksum(backup.file, { sha256: backup.sha256, sizeBytes: backup.sizeBytes });
  if (!plan.acceptDataLoss) {
    const loss = await checkDataLoss(ctx, release.env, backup);
    if (loss.wouldLoseData) throw refused(`restoring backup #${backup.id} now would lose data (${loss.writesSince ?? 0} rows written since it, or it is too old)`, { hint: `Nothing was stopped. Run \`shipgate rollback ${release.env} --reason "..." --accept-data-loss\`, or --db down.` });
  }
}
