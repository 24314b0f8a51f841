import type { WatchRecord } from '../adapters/store/store.js';
import { DEFAULT_CONSECUTIVE_ERRORS, evaluateCheck, type CheckResult } from '../core/analysis/checks.js';
import { isoNow } from '../core/clock.js';
import { formatDuration } from '../core/duration.js';
import { monitorStep, type MonitorStep } from '../core/monitor-rules.js';
import { notify } from './notify.js';
import { metricsUnreadable, observedHealth, observedServices } from './analysis/observed.js';
import { collectReadings } from './analysis/readings.js';
import type { DeploymentMeta, MonitorData, Trigger } from './analysis/watch-data.js';
import { record } from './audit.js';
import { failpoint } from './failpoint.js';
import { interrupted } from './locks.js';
import type { AppContext } from './context.js';
import { openIncident } from './incidents.js';
import { rollback } from './rollback.js';
import { startMarker } from '../adapters/targets/target.js';

// Starting a monitor lives apart (monitor-start.ts): deployments start monitors, and monitors
// roll back through deployments, so one module doing both would be an import cycle.
export { startMonitor } from './monitor-start.js';

const ERROR_LINE = /\b(ERROR|FATAL|CRITICAL)\b/;
// Error lines in the logs are a warning, never a trigger: reading every service's log tail each
// pass was an eighth of the controller's CPU at 200 services (bench/controller-scale.bench.mjs).
const LOG_SCAN_EVERY_MS = 5000;

/**
 * One evaluation of a production release: health, log errors, metric checks, read here and judged
 * by core (monitorStep). A trigger (error rate over the limit, latency over rollbackIncrease, a
 * failed state check, health failing past its grace period, blind past blindLimit with onBlind:
 * rollback) rolls back when autoRollback is on, with the evidence recorded. Blindness is told at once.
 */
export async function evaluateMonitor(ctx: AppContext, monitor: WatchRecord<MonitorData>): Promise<WatchRecord<MonitorData>> {
  const spec = ctx.environment(monitor.env).spec;
  const policy = spec.monitor!;
  const analysis = spec.analysis;
  const now = ctx.clock.now();
  const at = now.toISOString();
  const data = structuredClone(monitor.data);
  const observed = await observedServices(ctx, monitor.env, ctx.environment(monitor.env).services);

  const [health, readings] = await Promise.all([
    observedHealth(observed, monitor.version, spec.health.requestTimeout, { probe: ctx.probe }),
    analysis?.checks.length ? collectReadings(analysis, observed.services, ctx.env, metricsUnreadable(observed)) : Promise.resolve(new Map()),
  ]);
  const results: CheckResult[] = (analysis?.checks ?? []).map((check) => {
    const { state, result } = evaluateCheck(check, data.checks[check.name], readings.get(check.name) ?? { kind: 'no-data', reason: 'not read' }, {
      role: 'monitor', at, baseline: data.baseline[check.name], alpha: analysis!.alpha, beta: analysis!.beta, minRequests: analysis!.minRequests, consecutiveErrors: analysis!.consecutiveErrors,
    });
    data.checks[check.name] = state;
    return result;
  });
  data.latest = results;
  const sick = health.services.filter((s) => !s.healthy).map((s) => `${s.service} (${s.reason})`).join(', ');
  const step = monitorStep({
    startedAt: monitor.startedAt, now, memory: { unhealthySince: data.unhealthySince, blind: data.blind ?? null, overSince: data.overSince ?? null },
    rules: { ...policy, consecutiveErrors: analysis?.consecutiveErrors ?? DEFAULT_CONSECUTIVE_ERRORS, interval: analysis?.interval ?? 1000 },
    health: { healthy: health.healthy, detail: sick, evidence: health.services },
    results, states: data.checks, rateChecks: (analysis?.checks ?? []).filter((c) => c.type === 'error-rate' || c.type === 'latency').map((c) => c.name),
  });
  data.phase = step.phase;
  data.unhealthySince = step.memory.unhealthySince;
  data.blind = step.memory.blind;
  data.overSince = step.memory.overSince ?? null;
  for (const event of step.events) await tellBlindness(ctx, monitor, event);

  const realNow = ctx.wallClock.now().getTime();
  if (data.phase === 'immediate' && (data.logsReadAtRealMs == null || realNow - data.logsReadAtRealMs >= LOG_SCAN_EVERY_MS)) {
    data.logsReadAtRealMs = realNow;
    await countLogErrors(ctx, monitor, data);
  }
  for (const w of step.warnings) addWarning(data, at, w);
  data.lastEvaluatedAt = at;

  if (step.outcome.kind === 'trigger') return triggerRollback(ctx, monitor, data, step.outcome.trigger);
  // A deploy may have aborted this monitor while it was being evaluated: its verdict is then moot.
  if (step.outcome.kind === 'running') return ctx.store.updateWatch<MonitorData>(monitor.id, { state: 'running', data, finishedAt: null }, at, { ifRunning: true });

  const state = step.outcome.kind;
  data.reason = `${step.outcome.reason}${data.warnings.length ? `; ${data.warnings.length} warnings` : ''}`;
  const updated = await ctx.store.updateWatch<MonitorData>(monitor.id, { state, data, finishedAt: at }, at, { ifRunning: true });
  if (updated.state !== state) return updated;
  if (state === 'passed') await ctx.store.setVerdict(monitor.env, monitor.version, 'good', `monitor #${monitor.id} passed`, at);
  await record(ctx, { action: 'monitor.finish', outcome: state, env: monitor.env, version: monitor.version, reason: data.reason, detail: { monitorId: monitor.id, warnings: data.warnings.length, blind: data.blind ?? null } });
  if (state === 'inconclusive') {
    // Without evidence the release is neither passed nor failed: people decide, with an incident to note it in.
    notify(ctx, { event: 'monitor.inconclusive', env: monitor.env, version: monitor.version, reason: data.reason, detail: { monitorId: monitor.id } });
    const trigger = { check: 'inconclusive', reason: data.reason, at };
    data.incidentId = await openIncident(ctx, { env: monitor.env, version: monitor.version, deploymentId: monitor.deploymentId, title: `${monitor.version} in ${monitor.env}: monitoring ended inconclusive`, trigger, rollback: null });
    return ctx.store.updateWatch<MonitorData>(monitor.id, { state, data, finishedAt: at }, at);
  }
  return updated;
}

async function tellBlindness(ctx: AppContext, monitor: WatchRecord<MonitorData>, event: MonitorStep['events'][number]): Promise<void> {
  if (event.kind === 'blind') {
    const reason = `BLIND since ${event.blindness.since}: ${event.blindness.reason}`;
    await record(ctx, { action: 'monitor.blind', outcome: 'blind', env: monitor.env, version: monitor.version, reason, detail: { monitorId: monitor.id, checks: event.blindness.checks } });
    notify(ctx, { event: 'monitor.blind', env: monitor.env, version: monitor.version, reason, detail: { monitorId: monitor.id, checks: event.blindness.checks } });
  } else {
    await record(ctx, { action: 'monitor.sighted', outcome: 'ok', env: monitor.env, version: monitor.version, reason: `metrics readable again after ${formatDuration(event.blindFor)} blind`, detail: { monitorId: monitor.id } });
  }
}

async function triggerRollback(ctx: AppContext, monitor: WatchRecord<MonitorData>, data: MonitorData, trigger: Trigger): Promise<WatchRecord<MonitorData>> {
  // Superseded while it was being read (a deploy aborted it): a trigger on it would act on a release that is gone.
  const fresh = await ctx.store.getWatch(monitor.id);
  if (fresh?.state !== 'running') return (fresh ?? monitor) as WatchRecord<MonitorData>;
  // Tests stop or kill the controller here: it has decided and checked, and acted on nothing yet.
  // Resumed after another controller took over, only the fence (ctx.store.fenced) stops it.
  failpoint('monitor', 'trigger', 'before');
  data.trigger = trigger;
  const at = trigger.at;
  // The release failed here whether or not it is rolled back (autoRollback off, or moved on).
  await ctx.store.setVerdict(monitor.env, monitor.version, 'bad', `monitor #${monitor.id} trigger ${trigger.check}: ${trigger.reason}`, at);
  await record(ctx, { action: 'monitor.trigger', outcome: data.autoRollback ? 'rolling-back' : 'alert', env: monitor.env, version: monitor.version, reason: `${trigger.check}: ${trigger.reason}`, detail: { monitorId: monitor.id, evidence: trigger.evidence } });
  if (!data.autoRollback) {
    data.reason = `trigger ${trigger.check} (automatic rollback is off): ${trigger.reason}`;
    data.incidentId = await openIncident(ctx, { env: monitor.env, version: monitor.version, deploymentId: monitor.deploymentId, title: `${monitor.version} in ${monitor.env}: ${trigger.check}`, trigger, rollback: null });
    return ctx.store.updateWatch<MonitorData>(monitor.id, { state: 'failed', data, finishedAt: at }, at, { ifRunning: true });
  }
  let rb: MonitorData['rollback'] = null;
  // Another controller, or a person, may have moved the environment on since this tick began.
  const latest = (await ctx.store.listDeployments({ env: monitor.env, limit: 1 }))[0];
  // A controller that died during this monitor's rollback left it interrupted (on another host: its
  // lock went stale, or its generation no longer leads): rollback() resumes it.
  const ownInterrupted = latest?.kind === 'rollback' && latest.causeId === monitor.deploymentId && (await interrupted(ctx, latest));
  if (latest?.id !== monitor.deploymentId && !ownInterrupted) {
    data.reason = `trigger ${trigger.check}, but ${monitor.env} has moved on (deployment #${latest?.id}); not rolled back again`;
    return ctx.store.updateWatch<MonitorData>(monitor.id, { state: 'aborted', data, finishedAt: at }, at, { ifRunning: true });
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
