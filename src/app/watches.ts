import type { DeploymentRecord } from '../adapters/store/store.js';
import { isoNow } from '../core/clock.js';
import type { DeploymentMeta } from './analysis/watch-data.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { startMonitor } from './monitor-start.js';
import { startSoak } from './soak.js';

/** A new deployment supersedes whatever was being soaked or monitored there: a redeploy restarts the soak. */
export async function abortWatches(ctx: AppContext, env: string, because: string, exceptWatchId?: number): Promise<void> {
  const running = await ctx.store.listWatches({ env, state: 'running' });
  for (const w of running) {
    // The monitor that triggered a rollback records its own outcome.
    if (w.id === exceptWatchId) continue;
    const at = isoNow(ctx.clock);
    await ctx.store.updateWatch(w.id, { state: 'aborted', data: { ...(w.data as object), reason: because }, finishedAt: at }, at);
    await record(ctx, { action: `${w.kind}.abort`, outcome: 'aborted', env, version: w.version, reason: because, detail: { watchId: w.id } });
  }
}

/** After a verified deploy: start the environment's soak and/or monitor. */
export async function startWatches(ctx: AppContext, environment: ResolvedEnvironment, deployment: DeploymentRecord): Promise<void> {
  const meta = (deployment.meta ?? {}) as DeploymentMeta;
  await startSoak(ctx, environment, deployment.version, deployment.id, meta);
  await startMonitor(ctx, environment, deployment.version, deployment.id, meta);
}
