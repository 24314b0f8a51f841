import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MonitorData, SoakData } from '../app/analysis/watch-data.js';
import { createContext, type AppContext } from '../app/context.js';
import { runController } from '../app/controller.js';
import { deploy } from '../app/deploy.js';
import { silentProgress, type Progress } from '../app/progress.js';
import { promote } from '../app/promote.js';
import { attest, runPreflight } from '../app/preflight.js';
import { approve, findApproval } from '../app/approvals.js';
import { flushNotifications } from '../app/notify.js';
import type { WatchRecord } from '../adapters/store/store.js';
import { loadConfig } from '../config/load.js';
import { scaledClock, type ScaledClock } from '../core/clock.js';
import { ShipgateError } from '../core/errors.js';
import { freePorts } from './free-port.js';
import { killSwitchDrill, type DrillReport } from './drill.js';
import { startReceiver } from './receiver.js';
import { exportIncident } from '../app/incidents.js';
import { serveDemo } from './serve.js';
import { demoStackConfig, type StackPorts } from './stack-config.js';

export interface DemoOptions {
  progress?: Progress;
  say?: (line: string) => void;
  keep?: boolean;
  /** How much faster than real time soaks and monitors run (a 24 h soak takes 86400/speed seconds). */
  speed?: number;
  rps?: number;
  /** Serve the control room API over the demo's store while it runs (`demo --serve`). */
  serve?: boolean;
}

export interface DemoSummary {
  ok: boolean;
  speed: number;
  workDir: string;
  deployed: { env: string; version: string; ok: boolean; kind: string }[];
  stagingCatch: null | {
    version: string;
    soak: { state: string; failedGate: string | null; reason: string | null };
    promotion: { refused: boolean; exitCode: number | null; reasons: string[] };
  };
  regression: null | {
    version: string;
    trigger: string | null;
    triggerReason: string | null;
    evidence: unknown;
    detectedAfterSeconds: number | null;
    rolledBackTo: string | null;
    restoredAfterSeconds: number | null;
    incidentId: number | null;
  };
  soaks: { version: string; state: string; reason: string | null }[];
  incidentReport: { file: string; markdown: string } | null;
  /** `unauthorized`: Grafana refused the request (the token did not reach it). */
  notifications: { channel: string; event: string; text: string; unauthorized?: boolean }[];
  killSwitchDrill: DrillReport | null;
  /** With `serve`: where the API was and the viewer token made for it (the server stops with the demo). */
  api: { url: string; viewerToken: string } | null;
  timeline: { realSeconds: number; at: string; action: string; env: string | null; version: string | null; outcome: string; reason: string | null }[];
  auditVerified: boolean;
  stopped: boolean;
}

/**
 * The whole story on the real sample stack, with soaks and monitors on a faster clock:
 * 1. v1.0.0 soaks in staging and is promoted; 2. v1.1.0 fails its soak and promotion is refused;
 * 3. v1.2.0 passes staging (its bug needs production's live-trading setting), is promoted, and the
 * production monitor detects it and rolls back to v1.0.0 on its own.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const say = options.say ?? (() => undefined);
  const speed = options.speed ?? 7200;
  const rps = options.rps ?? 50;
  // Imported, not bundled (scripts/bundle.mjs): these scripts find the stack's files next to themselves.
  const [{ buildDemoRepo }, { runLoad }] = await Promise.all([import('../../demo/stack/build-repo.mjs'), import('../../demo/stack/base/loadgen.mjs')]);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-demo-'));
  const repo = await buildDemoRepo(path.join(workDir, 'trading_platform'), { releases: ['v1.0.0', 'v1.1.0', 'v1.2.0'] });
  say(`built the sample trading stack in ${repo.dir} with tags ${repo.tags.join(', ')}; clock runs ${speed}x (a 24 h soak takes ${(86_400 / speed).toFixed(0)} s)`);

  const [a, b, c, d, e, f] = await freePorts(6);
  const ports: Record<string, StackPorts> = { staging: { signal: a!, gateway: b!, orchestrator: c! }, production: { signal: d!, gateway: e!, orchestrator: f! } };
  writeFileSync(path.join(workDir, 'shipgate.yml'), demoStackConfig(repo.dir, ports, { analysis: true }));
  const clock = scaledClock(speed);
  const receiver = await startReceiver();
  const ctx = await createContext(loadConfig(undefined, workDir), {
    clock,
    progress: options.progress ?? silentProgress,
    env: { ...process.env, SHIPGATE_ACTOR: 'demo', SHIPGATE_DEMO_SLACK_URL: `${receiver.url}/slack`, SHIPGATE_DEMO_WEBHOOK_URL: `${receiver.url}/webhook`, SHIPGATE_DEMO_GRAFANA_URL: `${receiver.url}/grafana`, SHIPGATE_DEMO_GRAFANA_TOKEN: receiver.grafanaToken },
  });

  const summary: DemoSummary = { ok: false, speed, workDir, deployed: [], stagingCatch: null, regression: null, soaks: [], incidentReport: null, notifications: [], killSwitchDrill: null, api: null, timeline: [], auditVerified: false, stopped: false };
  const served = options.serve ? await serveDemo(ctx, 'demo') : undefined;
  if (served) {
    summary.api = { url: served.url, viewerToken: served.viewerToken };
    say(`control room API: ${served.url} (dashboard ${served.url}/, API e.g. ${served.url}/api/soaks) — viewer token ${served.viewerToken}`);
  }
  const background = new AbortController();
  const started = Date.now();
  const traffic = ['staging', 'production'].map((env) => runLoad({ url: `http://127.0.0.1:${ports[env]!.gateway}`, rps, durationSeconds: 0, signal: background.signal, timeoutMs: 2000 }));
  const controller = runController(ctx, { intervalMs: 250, until: 'forever', signal: background.signal, ...(served ? { onTick: (r) => served.api.metrics.observeTick(r) } : {}) });
  const deployed = (o: { env: string; version: string; ok: boolean; kind: string }) => summary.deployed.push({ env: o.env, version: o.version, ok: o.ok, kind: o.kind });

  try {
    say('act 1: v1.0.0 to staging, soak, promote to production');
    deployed(await deploy(ctx, { env: 'staging', version: 'v1.0.0', reason: 'demo: first release' }));
    const soak1 = await waitForWatch<SoakData>(ctx, 'soak', 'v1.0.0');
    say(`soak of v1.0.0: ${soak1.state} — ${soak1.data.reason}`);
    await clearForProduction(ctx, 'v1.0.0', ['ci', 'code-reviewed', 'stakeholders-notified', 'migrations-tested']);
    deployed(await promote(ctx, { env: 'production', reason: 'demo: first release' }));

    say('act 2: v1.1.0 (10% of orders fail) to staging');
    deployed(await deploy(ctx, { env: 'staging', version: 'v1.1.0', reason: 'demo: notional limit check' }));
    const soak2 = await waitForWatch<SoakData>(ctx, 'soak', 'v1.1.0');
    say(`soak of v1.1.0: ${soak2.state} — ${soak2.data.reason}`);
    await clearForProduction(ctx, 'v1.1.0', ['ci', 'code-reviewed', 'stakeholders-notified']);
    const refusal = await promote(ctx, { env: 'production', version: 'v1.1.0' }).then(
      () => ({ refused: false, exitCode: 0 as number | null, reasons: [] as string[] }),
      (err: unknown) => {
        if (!(err instanceof ShipgateError)) throw err;
        const checks = (err.data?.checks ?? []) as { met: boolean; requirement: string; detail: string }[];
        return { refused: true, exitCode: err.exitCode as number | null, reasons: checks.filter((x) => !x.met).map((x) => `${x.requirement}: ${x.detail}`) };
      },
    );
    say(`promote v1.1.0: ${refusal.refused ? `refused (exit ${refusal.exitCode}): ${refusal.reasons.join('; ')}` : 'NOT refused'}`);
    summary.stagingCatch = { version: 'v1.1.0', soak: { state: soak2.state, failedGate: soak2.data.failedCheck, reason: soak2.data.reason }, promotion: refusal };

    say('act 3: v1.2.0 to staging (its bug only runs with TRADING_MODE=live), soak, promote');
    deployed(await deploy(ctx, { env: 'staging', version: 'v1.2.0', reason: 'demo: sector cap for live trading' }));
    const soak3 = await waitForWatch<SoakData>(ctx, 'soak', 'v1.2.0');
    say(`soak of v1.2.0: ${soak3.state} — ${soak3.data.reason}`);
    await clearForProduction(ctx, 'v1.2.0', ['ci', 'code-reviewed', 'stakeholders-notified']);
    const promoted = await promote(ctx, { env: 'production', reason: 'demo: sector cap for live trading' });
    deployed(promoted);
    const monitor = await waitForWatch<MonitorData>(ctx, 'monitor', 'v1.2.0');
    summary.regression = regressionReport(ctx, clock, promoted.deploymentId, monitor, await liveAt(ctx, promoted.deploymentId));
    say(`production monitor of v1.2.0: ${monitor.state} — ${monitor.data.reason}`);
    summary.soaks = [soak1, soak2, soak3].map((s) => ({ version: s.version, state: s.state, reason: s.data.reason }));
    if (monitor.data.incidentId) {
      const file = await exportIncident(ctx, monitor.data.incidentId, undefined);
      summary.incidentReport = { file, markdown: readFileSync(file, 'utf8') };
      say(`incident #${monitor.data.incidentId} written to ${file}`);
    }

    say('act 4: kill-switch drill on the paper broker (order flow stopped first: the sample stack has no strategy loop that reads killswitch:active)');
    background.abort();
    await Promise.allSettled([controller, ...traffic]);
    summary.killSwitchDrill = await killSwitchDrill(ctx, 'production', `http://127.0.0.1:${ports.production!.gateway}`);
    const k = summary.killSwitchDrill;
    say(`kill switch: ${k.ordersPlaced} orders placed, ${k.killSwitch.cancelRequested} cancels accepted, ${k.afterKill.openOrders} open left, breaker ${k.afterKill.breaker}; after the two-person reset: breaker ${k.afterReset.breaker}`);
  } finally {
    background.abort();
    await Promise.allSettled([controller, ...traffic]);
    summary.timeline = (await ctx.store.listAudit()).map((x) => ({ realSeconds: round((clock.toRealMs(x.at) - started) / 1000), at: x.at, action: x.action, env: x.env, version: x.version, outcome: x.outcome, reason: x.reason }));
    summary.auditVerified = (await ctx.store.verifyAudit()).ok;
    summary.stopped = await stopAll(ctx);
    await flushNotifications(10_000);
    summary.notifications = receiver.received.map((m) => ({ ...describeMessage(m.path, m.body), ...(m.authorized === false ? { unauthorized: true } : {}) }));
    await receiver.stop();
    await served?.api.close();
    await ctx.connections.closeAll();
    await ctx.store.close();
    if (!options.keep) rmSync(workDir, { recursive: true, force: true });
  }
  const r = summary.regression;
  summary.ok =
    summary.stagingCatch?.soak.state === 'failed' && summary.stagingCatch.promotion.refused &&
    summary.soaks[0]?.state === 'passed' && summary.soaks[2]?.state === 'passed' &&
    r?.rolledBackTo === 'v1.0.0' && r.restoredAfterSeconds !== null &&
    summary.incidentReport !== null && summary.notifications.some((n) => n.event === 'rollback.finished') &&
    summary.killSwitchDrill?.killSwitch.ok === true && summary.killSwitchDrill.afterKill.openOrders === 0 && summary.killSwitchDrill.afterReset.breaker === 'OPEN' &&
    summary.auditVerified && summary.stopped;
  return summary;
}

/**
 * What people do before a promotion: attest the checklist items the demo has no GitHub or Slack
 * for, run the preflight (the rollback plan is a real file in each release), and have a second
 * person approve.
 */
async function clearForProduction(ctx: AppContext, version: string, attestItems: string[]): Promise<void> {
  for (const item of attestItems) await attest(ctx, version, item, 'demo-reviewer', 'demo: checked by hand');
  await runPreflight(ctx, version, 'production');
  const request = await findApproval(ctx, { env: 'production', action: 'promote', subject: version, kind: 'standard', reason: `promote ${version}` });
  if (request.state !== 'approved') await approve(ctx, request.id, { by: 'demo-approver' });
}

async function waitForWatch<D>(ctx: AppContext, kind: 'soak' | 'monitor', version: string, timeoutMs = 180_000): Promise<WatchRecord<D>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const w = (await ctx.store.listWatches({ kind, limit: 5 })).find((x) => x.version === version);
    if (w && w.state !== 'running') return w as WatchRecord<D>;
    if (Date.now() > deadline) throw new Error(`the ${kind} of ${version} did not finish within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** When the release's processes started serving: the end of its start-new step. */
async function liveAt(ctx: AppContext, deploymentId: number): Promise<string | null> {
  const steps = await ctx.store.listSteps(deploymentId);
  return steps.find((s) => s.name === 'start-new' && s.state === 'succeeded')?.finishedAt ?? null;
}

function regressionReport(ctx: AppContext, clock: ScaledClock, _deploymentId: number, monitor: WatchRecord<MonitorData>, live: string | null): NonNullable<DemoSummary['regression']> {
  const sinceLive = (at: string | null | undefined) => (at && live ? round((clock.toRealMs(at) - clock.toRealMs(live)) / 1000) : null);
  return {
    version: monitor.version,
    trigger: monitor.data.trigger?.check ?? null,
    triggerReason: monitor.data.trigger?.reason ?? null,
    evidence: monitor.data.trigger?.evidence ?? null,
    detectedAfterSeconds: sinceLive(monitor.data.trigger?.at),
    rolledBackTo: monitor.data.rollback?.ok ? monitor.data.rollback.version : null,
    restoredAfterSeconds: monitor.data.rollback?.ok ? sinceLive(monitor.data.rollback.finishedAt) : null,
    incidentId: monitor.data.incidentId,
  };
}

async function stopAll(ctx: AppContext): Promise<boolean> {
  for (const env of Object.keys(ctx.config.environments)) await ctx.target(env).down(env);
  const left = (await Promise.all(Object.keys(ctx.config.environments).map((env) => ctx.target(env).ps(env)))).flat();
  return left.every((p) => p.state === 'stopped');
}

function describeMessage(path: string, body: unknown): { channel: string; event: string; text: string } {
  const b = body as { event?: string; text?: string; env?: string; version?: string; blocks?: { elements?: { text?: string }[] }[] };
  if (path.endsWith('/slack')) {
    const event = /`([a-z.]+)`/.exec(b.blocks?.[1]?.elements?.[0]?.text ?? '')?.[1] ?? 'unknown';
    return { channel: 'slack', event, text: b.text ?? '' };
  }
  if (path.startsWith('/grafana/')) {
    const g = body as { tags?: string[]; text?: string };
    const event = g.tags?.find((t) => /^[a-z]+\.[a-z]+$/.test(t)) ?? 'unknown';
    return { channel: 'grafana', event, text: `${g.text ?? ''} [${(g.tags ?? []).join(', ')}]` };
  }
  return { channel: 'webhook', event: b.event ?? 'unknown', text: `${b.event} ${b.env ?? ''} ${b.version ?? ''}`.trim() };
}

const round = (n: number) => Math.round(n * 100) / 100;
