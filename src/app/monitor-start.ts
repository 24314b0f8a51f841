import type { WatchRecord } from '../adapters/store/store.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { isoNow } from '../core/clock.js';
import type { DeploymentMeta, MonitorData } from './analysis/watch-data.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';

/** After a verified production deploy: the monitor's watch record, evaluated later by the controller (monitor.ts). */
export async function startMonitor(ctx: AppContext, environment: ResolvedEnvironment, version: string, deploymentId: number, meta: DeploymentMeta): Promise<WatchRecord<MonitorData> | undefined> {
  const env = environment.name;
  const policy = environment.spec.monitor;
  if (!policy) return undefined;
  const at = isoNow(ctx.clock);
  const data: MonitorData = {
    phase: 'immediate', autoRollback: policy.autoRollback, liveAt: at, lastEvaluatedAt: null, checks: {}, latest: [], baseline: meta.baseline ?? {},
    warnings: [], unhealthySince: null, blind: null, logErrorLines: 0, trigger: null, rollback: null, incidentId: null, reason: null,
  };
  const monitor = await ctx.store.createWatch<MonitorData>('monitor', env, version, deploymentId, at, data);
  await record(ctx, { action: 'monitor.start', outcome: 'started', env, version, detail: { monitorId: monitor.id, autoRollback: policy.autoRollback, baseline: data.baseline } });
  return monitor;
}
