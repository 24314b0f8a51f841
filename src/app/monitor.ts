import type { WatchRecord } from '../adapters/store/store.js';
import { environmentSpec, resolveServices } from '../config/resolve.js';
import { evaluateCheck, type CheckResult } from '../core/analysis/checks.js';
import { isoNow } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { monitorPhase } from '../core/monitor-phase.js';
import { collectReadings } from './analysis/readings.js';
import type { DeploymentMeta, MonitorData, Trigger } from './analysis/watch-data.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import { openIncident } from './incidents.js';
import { rollback } from './rollback.js';
import { checkHealthOnce } from './verify-health.js';
import { startMarker } from '../adapters/targets/target.js';

const ERROR_LINE = /\b(ERROR|FATAL|CRITICAL)\b/;

export async function startMonitor(ctx: AppContext, env: string, version: string, deploymentId: number, meta: DeploymentMeta): Promise<WatchRecord<MonitorData> | undefined> {
  const policy = environmentSpec(ctx.config, env).monitor;
  if (!policy) return undefined;
  const at = isoNow(ctx.clock);
  const data: MonitorData = {
    phase: 'immediate', autoRollback: policy.autoRollback, liveAt: at, lastEvaluatedAt: null, checks: {}, latest: [], baseline: meta.baseline ?? {},
    warnings: [], unhealthySince: null, logErrorLines: 0, trigger: null, rollback: null, incidentId: null, reason: null,
  };
  const monitor = await ctx.store.createWatch<MonitorData>('monitor', env, version, deploymentId, at, data);
  await record(ctx, { action: 'monitor.start', outcome: 'started', env, version, detail: { monitorId: monitor.id, autoRollback: policy.autoRollback, baseline: data.baseline } });
  return monitor;
}

/**
 * One evaluation of a production release: health, log errors, metric checks. A trigger
 * (error rate over the limit, latency +50%, a failed state check, health failing past its
 * grace period) rolls back when autoRollback is on, with the evidence recorded.
 */
export async function evaluateMonitor(ctx: AppContext, monitor: WatchRecord<MonitorData>): Promise<WatchRecord<MonitorData>> {
  const spec = environmentSpec(ctx.config, monitor.env);
  const policy = spec.monitor!;
  const analysis = spec.analysis;
  const now = ctx.clock.now();
  const at = now.toISOString();
  const data = structuredClone(monitor.data);
  const elapsed = now.getTime() - new Date(monitor.startedAt).getTime();
  data.phase = monitorPhase(elapsed, policy);
  const services = resolveServices(ctx.config, monitor.env);

  const [health, readings] = await Promise.all([
    checkHealthOnce(services, monitor.version, spec.health.requestTimeout, { probe: ctx.probe }),
    analysis?.checks.length ? collectReadings(analysis, services) : Promise.resolve(new Map()),
  ]);
  let trigger: Trigger | null = null;
  if (health.healthy) data.unhealthySince = null;
  else {
    data.unhealthySince ??= at;
    const down = now.getTime() - new Date(data.unhealthySince).getTime();
    const sick = health.services.filter((s) => !s.healthy).map((s) => `${s.service} (${s.reason})`).join(', ');
    if (down >= policy.healthGrace) trigger = { check: 'health', reason: `unhealthy for ${formatDuration(down)} (grace ${formatDuration(policy.healthGrace)}): ${sick}`, at, evidence: health.services };
  }

  const results: CheckResult[] = (analysis?.checks ?? []).map((check) => {
    const { state, result } = evaluateCheck(check, data.checks[check.name], readings.get(check.name) ?? { kind: 'no-data', reason: 'not read' }, {
      role: 'monitor', at, baseline: data.baseline[check.name], alpha: analysis!.alpha, beta: analysis!.beta, minRequests: analysis!.minRequests,
    });
    data.checks[check.name] = state;
    return result;
  });
  data.latest = results;
  const failed = results.find((r) => r.verdict === 'fail');
  if (!trigger && failed) trigger = { check: failed.name, reason: failed.reason, at, evidence: failed.evidence };

  if (data.phase === 'immediate') await countLogErrors(ctx, monitor, data);
  if (data.phase !== 'immediate') {
    for (const r of results) if (r.warning) addWarning(data, at, r.warning);
  }
  data.lastEvaluatedAt = at;

  if (trigger) return triggerRollback(ctx, monitor, data, trigger);

  let state: WatchRecord<MonitorData>['state'] = 'running';
  if (data.phase === 'done') {
    // Time alone is not evidence: the release passes only once every rate check has seen
    // enough traffic to call it healthy ("inconclusive never counts as pass").
    const waiting = (analysis?.checks ?? []).filter((c) => (c.type === 'error-rate' || c.type === 'latency') && !data.checks[c.name]?.healthySeen).map((c) => c.name);
    if (waiting.length === 0) {
      state = 'passed';
      data.reason = `no trigger in ${formatDuration(elapsed)}${data.warnings.length ? `; ${data.warnings.length} warnings` : ''}`;
    } else data.reason = `monitoring window over; waiting for conclusive evidence from ${waiting.join(', ')}`;
  }
  const updated = await ctx.store.updateWatch<MonitorData>(monitor.id, { state, data, finishedAt: state === 'running' ? null : at }, at);
  if (state !== 'running') await record(ctx, { action: 'monitor.finish', outcome: state, env: monitor.env, version: monitor.version, reason: data.reason, detail: { monitorId: monitor.id, warnings: data.warnings.length } });
  return updated;
}

async function triggerRollback(ctx: AppContext, monitor: WatchRecord<MonitorData>, data: MonitorData, trigger: Trigger): Promise<WatchRecord<MonitorData>> {
  data.trigger = trigger;
  const at = trigger.at;
  await record(ctx, { action: 'monitor.trigger', outcome: data.autoRollback ? 'rolling-back' : 'alert', env: monitor.env, version: monitor.version, reason: `${trigger.check}: ${trigger.reason}`, detail: { monitorId: monitor.id, evidence: trigger.evidence } });
  if (!data.autoRollback) {
    data.reason = `trigger ${trigger.check} (automatic rollback is off): ${trigger.reason}`;
    data.incidentId = await openIncident(ctx, { env: monitor.env, version: monitor.version, deploymentId: monitor.deploymentId, title: `${monitor.version} in ${monitor.env}: ${trigger.check}`, trigger, rollback: null });
    return ctx.store.updateWatch<MonitorData>(monitor.id, { state: 'failed', data, finishedAt: at }, at);
  }
  let rb: MonitorData['rollback'] = null;
  // Another controller, or a person, may have moved the environment on since this tick began.
  const latest = (await ctx.store.listDeployments({ env: monitor.env, limit: 1 }))[0];
  if (latest?.id !== monitor.deploymentId) {
    data.reason = `trigger ${trigger.check}, but ${monitor.env} has moved on (deployment #${latest?.id}); not rolled back again`;
    return ctx.store.updateWatch<MonitorData>(monitor.id, { state: 'aborted', data, finishedAt: at }, at);
  }
  try {
    const outcome = await rollback(ctx, { env: monitor.env, reason: `automatic: ${trigger.check}: ${trigger.reason}`, triggeredByWatch: monitor.id, trigger });
    rb = { deploymentId: outcome.deploymentId, ok: outcome.ok, version: outcome.version, finishedAt: isoNow(ctx.clock), error: outcome.error };
    data.incidentId = outcome.incidentId ?? null;
  } catch (err) {
    rb = { deploymentId: 0, ok: false, version: '', finishedAt: isoNow(ctx.clock), error: (err as Error).message };
  }
  data.rollback = rb;
  data.reason = rb.ok ? `rolled back to ${rb.version}: ${trigger.check}: ${trigger.reason}` : `rollback failed (${rb.error}); trigger ${trigger.check}: ${trigger.reason}`;
  // A rollback that could not even start opens no incident itself, so open one here.
  data.incidentId ??= await openIncident(ctx, { env: monitor.env, version: monitor.version, deploymentId: monitor.deploymentId, title: `${monitor.version} in ${monitor.env}: ${trigger.check} (rollback failed)`, trigger, rollback: rb });
  const finishedAt = isoNow(ctx.clock);
  return ctx.store.updateWatch<MonitorData>(monitor.id, { state: rb.ok ? 'rolled-back' : 'failed', data, finishedAt }, finishedAt);
}

async function countLogErrors(ctx: AppContext, monitor: WatchRecord<MonitorData>, data: MonitorData): Promise<void> {
  try {
    const logs = await ctx.target(monitor.env).logs(monitor.env, undefined, 1000);
    // Only lines after this release's start marker count (the log file spans releases).
    const lines = logs.flatMap((l) => {
      const marker = l.lines.findLastIndex((line) => line.startsWith(startMarker(l.service, monitor.version)));
      return l.lines.slice(marker + 1).filter((line) => ERROR_LINE.test(line)).map((line) => `${l.service}: ${line}`);
    });
    if (lines.length > data.logErrorLines) addWarning(data, isoNow(ctx.clock), `${lines.length} error lines in the logs since ${monitor.version} started, latest: ${lines.at(-1)!.slice(0, 160)}`);
    data.logErrorLines = lines.length;
  } catch {
    /* logs are evidence, not a gate: a target that cannot show them is not a failure */
  }
}

function addWarning(data: MonitorData, at: string, message: string): void {
  const key = message.replace(/[\d.]+/g, '#');
  if (data.warnings.some((w) => w.message.replace(/[\d.]+/g, '#') === key)) return;
  data.warnings.push({ at, phase: data.phase, message });
  if (data.warnings.length > 100) data.warnings.shift();
}
