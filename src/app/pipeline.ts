import type { DeploymentRecord } from '../adapters/store/store.js';
import type { ImageCheck, ReleaseSpec, StrayRunning, Target } from '../adapters/targets/target.js';
import { exitedNotes } from './verify-exits.js';
import { isoNow } from '../core/clock.js';
import { ExitCode, ShipgateError } from '../core/errors.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { measureBaseline } from './analysis/baseline.js';
import type { DeploymentMeta } from './analysis/watch-data.js';
import type { AppContext } from './context.js';
import { backupStep, checkRestorable, migrateStep, restoreStep, tagStep } from './database-steps.js';
import { failpoint } from './failpoint.js';
import { record } from './audit.js';
import { LockLostError, type LockHandle } from './locks.js';
import type { StepOutcome } from './step-outcome.js';
import { healthContract, listeningPort, verifyHealth, type HealthReport, type ListenerProof } from './verify-health.js';

/** Every step a deployment can have; which ones it has depends on its kind and environment. */
export const ALL_STEPS = ['prepare-release', 'measure-baseline', 'tag-release', 'backup-database', 'migrate-database', 'stop-old', 'restore-database', 'start-new', 'verify'] as const;
export type StepName = (typeof ALL_STEPS)[number];

/** The steps of a deployment in an environment without a database (a rollback is a deployment of an earlier release). */
export const STEP_NAMES = ['prepare-release', 'measure-baseline', 'stop-old', 'start-new', 'verify'] as const satisfies readonly StepName[];

/** Steps before these leave the running release untouched: a failure there needs no rollback. */
export const TOUCHES_RUNNING: readonly StepName[] = ['migrate-database', 'stop-old', 'restore-database', 'start-new', 'verify'];

export function planSteps(environment: ResolvedEnvironment, deployment: DeploymentRecord): StepName[] {
  const { spec } = environment;
  const meta = deployment.meta as DeploymentMeta;
  if (deployment.kind === 'rollback') {
    const db = meta.database?.action === 'restore' || meta.database?.action === 'down';
    return ['prepare-release', 'measure-baseline', 'stop-old', ...(db ? (['restore-database'] as const) : []), 'start-new', 'verify'];
  }
  return [
    'prepare-release',
    'measure-baseline',
    ...(spec.promoteFrom ? (['tag-release'] as const) : []),
    ...(spec.database?.migrate ? (['backup-database', 'migrate-database'] as const) : []),
    'stop-old',
    'start-new',
    'verify',
  ];
}

/** A rollback that returns the database (restore or migrate down) between stop-old and start-new, while nothing runs. */
function restoresDatabase(deployment: DeploymentRecord): boolean {
  const action = (deployment.meta as DeploymentMeta).database?.action;
  return deployment.kind === 'rollback' && (action === 'restore' || action === 'down');
}

export interface PipelineResult {
  ok: boolean;
  /** The step refused (exit 3) rather than failed: nothing it guards was touched. */
  refused?: boolean;
  failedStep?: StepName;
  error?: string;
  /** What to do next, when the failure came with one. */
  hint?: string;
  health?: HealthReport;
  /** The lock was broken or taken over: the deployment stopped before its next mutating act. */
  lockLost?: boolean;
  /** A write to the store failed (disk full, read-only): the record can no longer follow the work. */
  storeFailed?: { touchedRunning: boolean };
}

const TITLES: Record<StepName, (r: ReleaseSpec) => string> = {
  'prepare-release': (r) => `prepare ${r.version} (${r.commit.slice(0, 10)})`,
  'measure-baseline': (r) => `measure the running release in ${r.env} as the baseline`,
  'tag-release': (r) => `tag the release of ${r.version} to ${r.env}`,
  'backup-database': (r) => `back up the ${r.env} database`,
  'migrate-database': (r) => `migrate the ${r.env} database to ${r.version}`,
  'stop-old': (r) => `stop the services running in ${r.env}`,
  'restore-database': (r) => `return the ${r.env} database to before the release`,
  'start-new': (r) => `start ${r.services.length} services of ${r.version}`,
  verify: (r) => `verify health of ${r.version}`,
};

export type { StepOutcome } from './step-outcome.js';

/** A store write failed: the deployment's record can no longer follow what it does. */
class StoreWriteFailed extends Error {}

async function stored<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw new StoreWriteFailed(`the store could not be written (${(err as Error).message})`);
  }
}

/** The fence: throws LockLostError if the lock was broken, StoreWriteFailed if the lease cannot be written. */
async function fence(lock: LockHandle): Promise<void> {
  try {
    await lock.renew();
  } catch (err) {
    if (err instanceof LockLostError) throw err;
    throw new StoreWriteFailed(`the store could not be written (${(err as Error).message})`);
  }
}

/**
 * Runs the steps not yet recorded as succeeded, writing each step's intent before acting and
 * its outcome after, so a process killed anywhere leaves a record the next run can finish.
 * Before each step the lock is checked (a broken lock stops the deployment there), and a store
 * write that fails ends it with what it had touched, so the caller can undo that.
 */
export async function runPipeline(ctx: AppContext, lock: LockHandle, deployment: DeploymentRecord, environment: ResolvedEnvironment, release: ReleaseSpec): Promise<PipelineResult> {
  const recorded = await ctx.store.listSteps(deployment.id);
  const done = new Set(recorded.filter((s) => s.state === 'succeeded').map((s) => s.name));
  let touchedRunning = recorded.some((s) => TOUCHES_RUNNING.includes(s.name as StepName));
  const target = ctx.target(release.env);
  let current: StepName | undefined;
  let health: HealthReport | undefined;
  try {
    for (const [index, name] of planSteps(environment, deployment).entries()) {
      if (done.has(name)) continue;
      current = name;
      await fence(lock);
      const step = await stored(() => ctx.store.startStep(deployment.id, name, index + 1, isoNow(ctx.clock)));
      if (TOUCHES_RUNNING.includes(name)) touchedRunning = true;
      failpoint(deployment.kind, name, 'before');
      let outcome: StepOutcome;
      try {
        outcome = await ctx.progress.task(TITLES[name](release), () => runStep(ctx, name, target, environment, release, lock, deployment), (o) => !o.ok);
      } catch (err) {
        outcome = {
          ok: false,
          detail: { error: (err as Error).message },
          error: (err as Error).message,
          ...(err instanceof ShipgateError && err.hint ? { hint: err.hint } : {}),
          ...(err instanceof ShipgateError && err.exitCode === ExitCode.refused ? { refused: true } : {}),
          ...(err instanceof LockLostError ? { lockLost: true } : {}),
        };
      }
      await stored(() => ctx.store.finishStep(step.id, outcome.ok ? 'succeeded' : 'failed', isoNow(ctx.clock), outcome.detail));
      if (!outcome.ok) {
        return { ok: false, failedStep: name, ...(outcome.hint ? { hint: outcome.hint } : {}), ...(outcome.refused ? { refused: true } : {}), ...(outcome.lockLost ? { lockLost: true } : {}), ...(outcome.error ? { error: outcome.error } : {}), ...(outcome.health ? { health: outcome.health } : {}) };
      }
      if (outcome.health) health = outcome.health;
      failpoint(deployment.kind, name, 'after');
    }
    await fence(lock);
    // The verified health goes out with success too: its notes say what was not proven.
    return { ok: true, ...(health ? { health } : {}) };
  } catch (err) {
    if (err instanceof LockLostError) return { ok: false, lockLost: true, error: err.message, ...(current ? { failedStep: current } : {}) };
    if (err instanceof StoreWriteFailed) return { ok: false, storeFailed: { touchedRunning }, error: err.message, ...(current ? { failedStep: current } : {}) };
    throw err;
  }
}

async function runStep(ctx: AppContext, name: StepName, target: Target, environment: ResolvedEnvironment, release: ReleaseSpec, lock: LockHandle, deployment: DeploymentRecord): Promise<StepOutcome> {
  switch (name) {
    case 'prepare-release':
      // A rollback that restores the database finds out now, with the services still up, whether
      // the backup is intact and whether restoring would lose writes.
      if (deployment.kind === 'rollback') await checkRestorable(ctx, release, deployment);
      await target.prepare(release);
      return { ok: true, detail: { commit: release.commit } };
    case 'measure-baseline': {
      // A rollback goes back to a known release; only a deploy is compared with what it replaces.
      if (deployment.kind !== 'deploy') return { ok: true, detail: { skipped: 'rollback' } };
      const { baseline, note } = await measureBaseline(ctx, environment);
      await ctx.store.setDeploymentMeta(deployment.id, { ...(deployment.meta ?? {}), baseline, baselineNote: note });
      return { ok: true, detail: { baseline, note } };
    }
    case 'tag-release':
      return tagStep(ctx, release, deployment);
    case 'backup-database':
      return backupStep(ctx, release, deployment);
    case 'migrate-database':
      return migrateStep(ctx, environment, release, deployment);
    case 'restore-database':
      return restoreStep(ctx, release, deployment);
    case 'stop-old':
      // Checked again right before stopping: a resumed rollback may meet writes made since it began.
      if (deployment.kind === 'rollback') await checkRestorable(ctx, release, deployment);
      {
        if (target.updatesInPlace) return { ok: true, detail: { skipped: 'the target updates services in place (rolling update)' } };
        if (target.stopsOldOnStart && !restoresDatabase(deployment)) return { ok: true, detail: { deferred: 'start-new stops each old container right before starting its replacement' } };
        const strays = await reportStrays(ctx, target, release.env);
        await target.down(release.env);
        return { ok: true, detail: strays.length ? { straysStopped: strays } : {} };
      }
    case 'start-new': {
      const strays = await reportStrays(ctx, target, release.env);
      await target.up(release);
      return { ok: true, detail: { services: (await target.ps(release.env)).map((s) => ({ service: s.service, pid: s.pid })), ...(strays.length ? { straysStopped: strays } : {}) } };
    }
    case 'verify': {
      const policy = environment.spec.health;
      const listener: ListenerProof | undefined = target.checkListener
        ? async (s) => {
            const port = listeningPort(s);
            return port === undefined ? undefined : target.checkListener!(release.env, s.name, port);
          }
        : undefined;
      // The lock is checked at every attempt: a deploy whose lock was broken stops verifying at once.
      const lost = new AbortController();
      let lockError: unknown;
      const onAttempt = () =>
        void lock.renew().catch((err) => {
          if (!(err instanceof LockLostError)) return;
          lockError = err;
          lost.abort();
        });
      const services = target.reachable ? await target.reachable(release.env, release.services) : release.services;
      const health = await verifyHealth(services, release.version, policy, { probe: ctx.probe, onAttempt, signal: lost.signal, ...(listener ? { listener } : {}) });
      if (lockError) throw lockError;
      const images = await verifyUnversionedImages(ctx, target, release, health);
      const unhealthy = health.services.filter((s) => !s.healthy);
      const exited = await exitedNotes(target, release.env, unhealthy.map((s) => s.service));
      const problems = [...unhealthy.map((s) => `${s.service} (${s.reason}${exited.get(s.service) ?? ''})`), ...images.filter((i) => !i.ok).map((i) => `${i.service} (${i.detail})`)];
      const error = problems.length ? `unhealthy after ${Math.round(health.elapsedMs / 1000)}s: ${problems.join(', ')}` : undefined;
      return { ok: health.healthy && problems.length === 0, detail: { health, ...(images.length ? { images } : {}) }, health, ...(error ? { error } : {}) };
    }
  }
}

/**
 * Processes of the environment that are not on record (a crash between start and record, a
 * deleted run file) are said out loud and recorded; the target's down/up stops them.
 */
async function reportStrays(ctx: AppContext, target: Target, env: string): Promise<StrayRunning[]> {
  const strays = (await target.strays?.(env)) ?? [];
  if (strays.length === 0) return strays;
  const list = strays.map((s) => `pid ${s.pid} (${s.command})`).join(', ');
  ctx.progress.warn(`${strays.length} process${strays.length > 1 ? 'es' : ''} of ${env} not on record will be stopped: ${list}`);
  await record(ctx, { action: 'process.stray', outcome: 'stopping', env, reason: `not on record: ${list}`, detail: { strays } });
  return strays;
}

/**
 * Services whose health does not report their release (health.version: ignore) are proven
 * another way where the target can (compose/ssh: every container runs the release's image);
 * where it cannot, the report says on every deploy that the version was not checked.
 */
async function verifyUnversionedImages(ctx: AppContext, target: Target, release: ReleaseSpec, health: HealthReport): Promise<ImageCheck[]> {
  const unversioned = release.services.filter((s) => healthContract(s)?.version === 'ignore').map((s) => s.name);
  if (unversioned.length === 0 || !health.healthy) return [];
  if (!target.verifyImages) {
    for (const note of health.notes ?? []) ctx.progress.warn(note);
    return [];
  }
  const images = await target.verifyImages(release, unversioned);
  health.notes = images.map((i) => `${i.service}: version not reported (health.version: ignore); image ${i.ok ? 'verified' : 'NOT verified'}: ${i.detail}`);
  for (const note of health.notes) ctx.progress.warn(note);
  return images;
}
