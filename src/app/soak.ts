import type { WatchRecord } from '../adapters/store/store.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import type { ChangeType } from '../config/schema.js';
import { evaluateCheck, type CheckBaseline } from '../core/analysis/checks.js';
import { isoNow } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { changeTypesFromPaths, requiredSoakMs } from '../core/soak-policy.js';
import { soakStep } from '../core/soak-verdict.js';
import { metricsUnreadable, observedServices } from './analysis/observed.js';
import { collectReadings } from './analysis/readings.js';
import type { DeploymentMeta, SoakData } from './analysis/watch-data.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import { currentVersion } from './history.js';
import { notify } from './notify.js';

// A controller that was away this long did not watch: that time counts as inconclusive.
const UNOBSERVED_GAP_FACTOR = 5;

export async function soakChangeTypes(ctx: AppContext, env: string, version: string, flagged: ChangeType[]): Promise<{ types: ChangeType[]; source: string }> {
  const downstream = Object.entries(ctx.config.environments).find(([, spec]) => spec.promoteFrom === env)?.[0];
  const released = downstream ? await currentVersion(ctx.store, downstream) : undefined;
  if (!released) return { types: [...new Set(flagged)].sort(), source: `flags only: ${downstream ? `${downstream} has no release yet` : 'no environment promotes from ' + env}` };
  const [from, to] = [await ctx.repo.resolve(released), await ctx.repo.resolve(version)];
  const paths = await ctx.repo.changedPaths(from, to);
  const types = [...new Set([...changeTypesFromPaths(paths, ctx.config.changeTypes), ...flagged])].sort();
  return { types, source: `${paths.length} paths changed since ${downstream} release ${released}${flagged.length ? ` plus --change-type ${flagged.join(',')}` : ''}` };
}

export async function startSoak(ctx: AppContext, environment: ResolvedEnvironment, version: string, deploymentId: number, meta: DeploymentMeta): Promise<WatchRecord<SoakData> | undefined> {
  const env = environment.name;
  const policy = environment.spec.soak;
  if (!policy) return undefined;
  const { types, source } = await soakChangeTypes(ctx, env, version, (meta.changeTypes ?? []) as ChangeType[]);
  const { soakClass, ms } = requiredSoakMs(types, policy);
  const data: SoakData = {
    requiredMs: ms, soakClass, changeTypes: types, changeSource: source, maxInconclusive: policy.maxInconclusive,
    evaluatedMs: 0, inconclusiveMs: 0, lastEvaluatedAt: null, lastEvaluatedRealMs: null, checks: {}, latest: [], baseline: meta.baseline ?? {}, reason: null, failedCheck: null,
  };
  const soak = await ctx.store.createWatch<SoakData>('soak', env, version, deploymentId, isoNow(ctx.clock), data);
  await record(ctx, { action: 'soak.start', outcome: 'started', env, version, detail: { soakId: soak.id, required: formatDuration(ms), soakClass, changeTypes: types, changeSource: source } });
  return soak;
}

/** One evaluation: the readings are taken here, the verdict is core's (soakStep). */
export async function evaluateSoak(ctx: AppContext, soak: WatchRecord<SoakData>): Promise<WatchRecord<SoakData>> {
  const environment = ctx.environment(soak.env);
  const analysis = environment.spec.analysis;
  const now = ctx.clock.now();
  const at = now.toISOString();
  const data = structuredClone(soak.data);
  const observed = analysis?.checks.length ? await observedServices(ctx, soak.env, environment.services) : undefined;
  const readings = analysis && observed ? await collectReadings(analysis, observed.services, ctx.env, metricsUnreadable(observed)) : new Map();
  const results = (analysis?.checks ?? []).map((check) => {
    const { state, result } = evaluateCheck(check, data.checks[check.name], readings.get(check.name) ?? { kind: 'no-data', reason: 'not read' }, {
      role: 'soak', at, baseline: data.baseline[check.name], alpha: analysis!.alpha, beta: analysis!.beta, minRequests: analysis!.minRequests, consecutiveErrors: analysis!.consecutiveErrors,
    });
    data.checks[check.name] = state;
    return result;
  });
  data.latest = results;

  // A controller outage is measured in real time: the domain clock may run faster (the demo).
  const interval = analysis?.interval ?? 1000;
  const realNow = ctx.wallClock.now().getTime();
  const unobserved = data.lastEvaluatedRealMs !== null && realNow - data.lastEvaluatedRealMs > interval * UNOBSERVED_GAP_FACTOR;
  const step = soakStep({ startedAt: soak.startedAt, now, account: data, results, unobserved });
  Object.assign(data, step.account, { lastEvaluatedRealMs: realNow });
  const state = step.state;
  if (state !== 'running') {
    data.reason = step.reason;
    data.failedCheck = step.failedCheck;
  }
  const failedCheck = results.find((r) => r.name === step.failedCheck);
  // A redeploy may have aborted this soak while it was being evaluated: its verdict is then moot.
  const updated = await ctx.store.updateWatch<SoakData>(soak.id, { state, data, finishedAt: state === 'running' ? null : at }, at, { ifRunning: true });
  if (updated.state !== state) return updated;
  if (state !== 'running') {
    // A failed soak marks the release bad here (rollback skips it, deploy refuses it); a passed one
    // is the evidence that makes it good again. Inconclusive or aborted proves neither.
    if (state === 'failed') await ctx.store.setVerdict(soak.env, soak.version, 'bad', `soak #${soak.id} failed: ${data.reason ?? ''}`, at);
    if (state === 'passed') await ctx.store.setVerdict(soak.env, soak.version, 'good', `soak #${soak.id} passed`, at);
    await record(ctx, { action: 'soak.finish', outcome: state, env: soak.env, version: soak.version, reason: data.reason, detail: { soakId: soak.id, failedCheck: data.failedCheck, evidence: failedCheck?.evidence, baseline: failedCheck ? summarizeBaseline(data.baseline[failedCheck.name]) : undefined } });
    notify(ctx, { event: state === 'passed' ? 'soak.passed' : 'soak.failed', env: soak.env, version: soak.version, ...(data.reason ? { reason: data.reason } : {}), detail: { soakId: soak.id, failedCheck: data.failedCheck, evidence: failedCheck?.evidence } });
  }
  return updated;
}

/** The baseline's numbers without its histogram, for the audit log. */
function summarizeBaseline(b: CheckBaseline | undefined) {
  if (!b) return undefined;
  const { buckets: _buckets, ...rest } = b;
  return rest;
}
