import { badInput } from '../core/errors.js';
import { isoNow } from '../core/clock.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import { currentVersion, latestDeployment } from './history.js';
import { acquireEnvLock, interrupted } from './locks.js';
import { abortWatches } from './watches.js';

export interface StopOutcome {
  ok: boolean;
  env: string;
  /** The stop as recorded in the environment's history (status shows it). */
  deploymentId: number;
  /** What ran before the stop, when a verified release did. */
  stoppedVersion: string | null;
  /** Processes of the environment that were running without a record, stopped too. */
  strays: { pid: number; command: string }[];
  error?: string;
}

/**
 * Stops everything shipgate started in an environment, under the environment's lock like a
 * deploy. It is recorded as a deployment of kind "stop", so `status` says the environment is
 * stopped rather than running its last release; `rollback` or `deploy` starts it again.
 */
export async function stopEnvironment(ctx: AppContext, env: string, reasonText: string | undefined): Promise<StopOutcome> {
  ctx.environment(env);
  const reason = reasonText?.trim();
  if (!reason) throw badInput('stopping an environment needs a reason', { where: '--reason', hint: `Say why, e.g. \`shipgate stop ${env} --reason "market closed for the holiday"\`; it goes into the audit log.` });
  const lock = await acquireEnvLock(ctx, env, 'stop', { takeOverStale: true });
  try {
    const latest = await latestDeployment(ctx.store, env);
    if (latest && (await interrupted(ctx, latest, lock))) {
      await ctx.store.finishDeployment(latest.id, 'aborted', isoNow(ctx.clock), `interrupted; aborted by stop: ${reason}`);
      await record(ctx, { action: `${latest.kind}.abort`, outcome: 'aborted', env, version: latest.version, reason, detail: { deploymentId: latest.id } });
    }
    const running = (await currentVersion(ctx.store, env)) ?? null;
    const at = isoNow(ctx.clock);
    const version = running ?? latest?.version ?? 'none';
    const stop = await ctx.store.createDeployment({ env, kind: 'stop', version, fromVersion: running, actor: ctx.actor, reason, causeId: null, host: ctx.host, pid: ctx.pid, startedAt: at, meta: {} }, at);
    await record(ctx, { action: 'environment.stop', outcome: 'started', env, version: running, reason, detail: { deploymentId: stop.id } });
    await abortWatches(ctx, env, `environment stopped: ${reason}`);
    const target = ctx.target(env);
    const strays = ((await target.strays?.(env)) ?? []).map((s) => ({ pid: s.pid, command: s.command }));
    try {
      await ctx.progress.task(`stop every service of ${env}`, () => target.down(env));
    } catch (err) {
      const error = (err as Error).message;
      await ctx.store.finishDeployment(stop.id, 'failed', isoNow(ctx.clock), error);
      await record(ctx, { action: 'environment.stop', outcome: 'failed', env, version: running, reason: error, detail: { deploymentId: stop.id } });
      return { ok: false, env, deploymentId: stop.id, stoppedVersion: running, strays, error };
    }
    await ctx.store.finishDeployment(stop.id, 'succeeded', isoNow(ctx.clock));
    await record(ctx, { action: 'environment.stop', outcome: 'succeeded', env, version: running, reason, detail: { deploymentId: stop.id, strays } });
    return { ok: true, env, deploymentId: stop.id, stoppedVersion: running, strays };
  } finally {
    await lock.release();
  }
}
