import type { DeploymentRecord } from '../adapters/store/store.js';
import type { ReleaseSpec, Target } from '../adapters/targets/target.js';
import { isoNow } from '../core/clock.js';
import { environmentSpec } from '../config/resolve.js';
import { measureBaseline } from './analysis/baseline.js';
import type { AppContext } from './context.js';
import { failpoint } from './failpoint.js';
import type { LockHandle } from './locks.js';
import { verifyHealth, type HealthReport } from './verify-health.js';

/** The steps of a deployment (a rollback is a deployment of an earlier release). */
export const STEP_NAMES = ['prepare-release', 'measure-baseline', 'stop-old', 'start-new', 'verify'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface PipelineResult {
  ok: boolean;
  failedStep?: StepName;
  error?: string;
  health?: HealthReport;
}

const TITLES: Record<StepName, (r: ReleaseSpec) => string> = {
  'prepare-release': (r) => `prepare ${r.version} (${r.commit.slice(0, 10)})`,
  'measure-baseline': (r) => `measure the running release in ${r.env} as the baseline`,
  'stop-old': (r) => `stop the services running in ${r.env}`,
  'start-new': (r) => `start ${r.services.length} services of ${r.version}`,
  verify: (r) => `verify health of ${r.version}`,
};

/**
 * Runs the steps not yet recorded as succeeded, writing each step's intent before acting and
 * its outcome after, so a process killed anywhere leaves a record the next run can finish.
 */
export async function runPipeline(ctx: AppContext, lock: LockHandle, deployment: DeploymentRecord, release: ReleaseSpec): Promise<PipelineResult> {
  const done = new Set((await ctx.store.listSteps(deployment.id)).filter((s) => s.state === 'succeeded').map((s) => s.name));
  const target = ctx.target(release.env);
  for (const [index, name] of STEP_NAMES.entries()) {
    if (done.has(name)) continue;
    const step = await ctx.store.startStep(deployment.id, name, index + 1, isoNow(ctx.clock));
    failpoint(deployment.kind, name, 'before');
    let outcome: { ok: boolean; detail: Record<string, unknown>; health?: HealthReport; error?: string };
    try {
      outcome = await ctx.progress.task(TITLES[name](release), () => runStep(ctx, name, target, release, lock, deployment));
    } catch (err) {
      outcome = { ok: false, detail: { error: (err as Error).message }, error: (err as Error).message };
    }
    await ctx.store.finishStep(step.id, outcome.ok ? 'succeeded' : 'failed', isoNow(ctx.clock), outcome.detail);
    if (!outcome.ok) return { ok: false, failedStep: name, error: outcome.error, health: outcome.health };
    failpoint(deployment.kind, name, 'after');
    await lock.renew();
  }
  return { ok: true };
}

async function runStep(ctx: AppContext, name: StepName, target: Target, release: ReleaseSpec, lock: LockHandle, deployment: DeploymentRecord) {
  switch (name) {
    case 'measure-baseline': {
      // A rollback goes back to a known release; only a deploy is compared with what it replaces.
      if (deployment.kind !== 'deploy') return { ok: true, detail: { skipped: 'rollback' } };
      const { baseline, note } = await measureBaseline(ctx, release.env);
      await ctx.store.setDeploymentMeta(deployment.id, { ...(deployment.meta ?? {}), baseline, baselineNote: note });
      return { ok: true, detail: { baseline, note } };
    }
    case 'prepare-release':
      await target.prepare(release);
      return { ok: true, detail: { commit: release.commit } };
    case 'stop-old':
      await target.down(release.env);
      return { ok: true, detail: {} };
    case 'start-new':
      await target.up(release);
      return { ok: true, detail: { services: (await target.ps(release.env)).map((s) => ({ service: s.service, pid: s.pid })) } };
    case 'verify': {
      const policy = environmentSpec(ctx.config, release.env).health;
      const health = await verifyHealth(release.services, release.version, policy, { probe: ctx.probe, onAttempt: () => void lock.renew().catch(() => undefined) });
      const unhealthy = health.services.filter((s) => !s.healthy);
      const error = unhealthy.length ? `unhealthy after ${Math.round(health.elapsedMs / 1000)}s: ${unhealthy.map((s) => `${s.service} (${s.reason})`).join(', ')}` : undefined;
      return { ok: health.healthy, detail: { health }, health, error };
    }
  }
}
