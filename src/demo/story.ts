import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDemoRepo } from '../../demo/stack/build-repo.mjs';
import { runLoad, type LoadSummary } from '../../demo/stack/base/loadgen.mjs';
import { createContext, type AppContext } from '../app/context.js';
import { deploy } from '../app/deploy.js';
import type { DeploymentOutcome } from '../app/execute-deployment.js';
import { silentProgress, type Progress } from '../app/progress.js';
import { rollback } from '../app/rollback.js';
import { environmentStatus, type EnvironmentStatus } from '../app/status.js';
import { loadConfig } from '../config/load.js';
import { freePorts } from './free-port.js';
import { demoStackConfig, type StackPorts } from './stack-config.js';

// The seed's rollback rule: "Error rate >5% = immediate rollback".
const ROLLBACK_ERROR_RATE = 0.05;

export interface DemoOptions {
  progress?: Progress;
  say?: (line: string) => void;
  keep?: boolean;
  ordersPerCheck?: number;
}

export interface DemoSummary {
  ok: boolean;
  workDir: string;
  deployed: { env: string; version: string; ok: boolean }[];
  rolledBack: { env: string; from: string; to: string; ok: boolean; reason: string } | null;
  errorRates: { env: string; version: string; sent: number; errors: number; errorRate: number }[];
  status: EnvironmentStatus[];
  timeline: { at: string; actor: string; action: string; env: string | null; version: string | null; outcome: string; reason: string | null }[];
  auditVerified: boolean;
  stopped: boolean;
}

/**
 * The issue-2 story on the real sample stack: v1.0.0 to staging and production, v1.1.0 (10% of
 * orders fail) to production, the error rate measured against the seed's 5% rule, rollback.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const say = options.say ?? (() => undefined);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-demo-'));
  const repo = await buildDemoRepo(path.join(workDir, 'trading_platform'), { releases: ['v1.0.0', 'v1.1.0'] });
  say(`built the sample trading stack in ${repo.dir} with tags ${repo.tags.join(', ')}`);

  const [a, b, c, d, e, f] = await freePorts(6);
  const ports: Record<string, StackPorts> = { staging: { signal: a!, gateway: b!, orchestrator: c! }, production: { signal: d!, gateway: e!, orchestrator: f! } };
  writeFileSync(path.join(workDir, 'shipgate.yml'), demoStackConfig(repo.dir, ports));
  const ctx = await createContext(loadConfig(undefined, workDir), { progress: options.progress ?? silentProgress, env: { ...process.env, SHIPGATE_ACTOR: 'demo' } });

  const summary: DemoSummary = { ok: false, workDir, deployed: [], rolledBack: null, errorRates: [], status: [], timeline: [], auditVerified: false, stopped: false };
  try {
    for (const env of ['staging', 'production']) {
      say(`deploy v1.0.0 to ${env}`);
      summary.deployed.push(outcomeLine(await deploy(ctx, { env, version: 'v1.0.0', reason: 'demo: initial release' })));
    }
    summary.status = await Promise.all(['staging', 'production'].map((env) => environmentStatus(ctx, env)));
    const orders = options.ordersPerCheck ?? 200;
    const gateway = `http://127.0.0.1:${ports.production!.gateway}`;
    summary.errorRates.push(rate('production', 'v1.0.0', await runLoad({ url: gateway, rps: 200, total: orders })));

    say('deploy v1.1.0 to production (its health checks pass; the bug is in order handling)');
    summary.deployed.push(outcomeLine(await deploy(ctx, { env: 'production', version: 'v1.1.0', reason: 'demo: notional limit check' })));
    const bad = rate('production', 'v1.1.0', await runLoad({ url: gateway, rps: 200, total: orders }));
    summary.errorRates.push(bad);
    say(`production v1.1.0: ${bad.errors}/${bad.sent} orders failed (${(bad.errorRate * 100).toFixed(1)}%)`);

    if (bad.errorRate > ROLLBACK_ERROR_RATE) {
      const reason = `order error rate ${(bad.errorRate * 100).toFixed(1)}% > 5% after v1.1.0`;
      say(`roll back production: ${reason}`);
      const rb = await rollback(ctx, { env: 'production', reason });
      summary.rolledBack = { env: 'production', from: 'v1.1.0', to: rb.version, ok: rb.ok, reason };
      summary.errorRates.push(rate('production', rb.version, await runLoad({ url: gateway, rps: 200, total: orders })));
    }
    summary.status = await Promise.all(['staging', 'production'].map((env) => environmentStatus(ctx, env)));
    summary.timeline = (await ctx.store.listAudit()).map((x) => ({ at: x.at, actor: x.actor, action: x.action, env: x.env, version: x.version, outcome: x.outcome, reason: x.reason }));
    summary.auditVerified = (await ctx.store.verifyAudit()).ok;
  } finally {
    summary.stopped = await stopAll(ctx);
    await ctx.store.close();
    if (!options.keep) rmSync(workDir, { recursive: true, force: true });
  }
  const after = summary.errorRates.at(-1);
  summary.ok =
    summary.deployed.every((x) => x.ok) &&
    summary.rolledBack?.ok === true &&
    summary.rolledBack.to === 'v1.0.0' &&
    after !== undefined && after.errorRate === 0 &&
    summary.auditVerified &&
    summary.stopped;
  return summary;
}

async function stopAll(ctx: AppContext): Promise<boolean> {
  for (const env of Object.keys(ctx.config.environments)) await ctx.target(env).down(env);
  const left = (await Promise.all(Object.keys(ctx.config.environments).map((env) => ctx.target(env).ps(env)))).flat();
  return left.every((p) => p.state === 'stopped');
}

const outcomeLine = (o: DeploymentOutcome) => ({ env: o.env, version: o.version, ok: o.ok });
const rate = (env: string, version: string, s: LoadSummary) => ({ env, version, sent: s.sent, errors: s.errors, errorRate: s.errorRate });
