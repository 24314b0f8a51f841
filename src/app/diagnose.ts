import { statfsSync } from 'node:fs';
import { portHolder } from '../adapters/host/ports.js';
import { formatDuration } from '../core/duration.js';
import type { AppContext } from './context.js';
import { runMigration } from './database.js';
import { currentVersion, latestDeployment } from './history.js';
import { readSafety, safetySpecs, safetyStoreFor } from './safety.js';
import { describeFlag } from '../core/safety-state.js';
import { checkHealthOnce } from './verify-health.js';
import { processLayout } from '../adapters/targets/process/launch.js';
import { composeFindings } from '../adapters/targets/compose/diagnosis.js';
import type { ComposeTarget } from '../adapters/targets/compose/driver.js';
import type { SwarmTarget } from '../adapters/targets/swarm/driver.js';

export interface Finding {
  id: string;
  severity: 'error' | 'warning' | 'info';
  title: string;
  evidence: string[];
  /** The next command to run. */
  next: string;
}

/** Target-specific findings (containers that will not start, unbuilt images, compose variables). */
export type TargetDiagnosis = (ctx: AppContext, env: string) => Promise<Finding[]>;

const targetDiagnoses = new Map<string, TargetDiagnosis>([
  ['compose', (ctx, env) => composeFindings(ctx.target(env) as ComposeTarget, env, ctx.environment(env).services)],
  ['swarm', (ctx, env) => (ctx.target(env) as SwarmTarget).diagnose(env)],
]);
export function registerTargetDiagnosis(type: string, diagnose: TargetDiagnosis): void {
  targetDiagnoses.set(type, diagnose);
}

/** The seeds' "Common Issues & Solutions", each finding with its evidence and the next command. */
export async function diagnose(ctx: AppContext, env: string): Promise<Finding[]> {
  const { spec, services } = ctx.environment(env);
  const findings: Finding[] = [];
  const version = await currentVersion(ctx.store, env);
  const health = await checkHealthOnce(services, version, spec.health.requestTimeout, { probe: ctx.probe });
  const ps = await ctx.target(env).ps(env).catch(() => []);

  for (const s of health.services.filter((h) => !h.healthy)) {
    const svc = services.find((x) => x.name === s.service)!;
    const proc = ps.find((p) => p.service === s.service);
    const logs = (await ctx.target(env).logs(env, s.service, 15).catch(() => []))[0]?.lines ?? [];
    const holder = svc.port !== undefined && proc?.state !== 'running' ? portHolder(svc.port) : undefined;
    if (holder) {
      findings.push({
        id: 'port-in-use', severity: 'error', title: `${s.service}: port ${svc.port} is already in use${holder.pid ? ` by pid ${holder.pid}` : ''}`,
        evidence: [`${holder.command ?? 'unknown process'} listens on 127.0.0.1:${svc.port}`, ...logs.slice(-3)],
        next: holder.pid ? `ps -o pid,cmd -p ${holder.pid}   # then stop it, or change ${s.service}'s port in shipgate.yml` : `lsof -i :${svc.port}`,
      });
      continue;
    }
    findings.push({
      id: 'service-down', severity: 'error', title: `${s.service} is ${proc?.state === 'running' ? 'running but unhealthy' : 'not running'}: ${s.reason}`,
      evidence: logs.length ? logs.slice(-8) : ['no log lines'],
      next: `shipgate logs ${env} ${s.service} --tail 100`,
    });
  }
  const strays = (await ctx.target(env).strays?.(env).catch(() => [])) ?? [];
  if (strays.length) {
    findings.push({
      id: 'untracked-process', severity: 'error', title: `${strays.length} process${strays.length > 1 ? 'es' : ''} of ${env} running without a record (shipgate would not stop ${strays.length > 1 ? 'them' : 'it'} otherwise)`,
      evidence: strays.map((x) => `pid ${x.pid}: ${x.command}${x.service ? ` (${x.service}${x.version ? ` ${x.version}` : ''})` : ''}`),
      next: `shipgate deploy ${env} --resume   # or shipgate rollback ${env} --reason "..."; both stop them first`,
    });
  }
  for (const s of services) {
    const unset = s.passEnv.filter((name) => !ctx.env[name]);
    if (unset.length) findings.push({ id: 'missing-env', severity: 'error', title: `${s.name} needs ${unset.join(', ')}, which ${unset.length > 1 ? 'are' : 'is'} not set`, evidence: [`services.${s.name}.passEnv lists ${s.passEnv.join(', ')}`], next: `export ${unset[0]}=...   # then shipgate deploy ${env} --resume or redeploy` });
  }
  const diagnoseTarget = targetDiagnoses.get(spec.target.type);
  if (diagnoseTarget) findings.push(...(await diagnoseTarget(ctx, env)));

  findings.push(...(await databaseFindings(ctx, env, version)));
  findings.push(...(await breakerFindings(ctx, env)));
  findings.push(diskFinding(ctx));
  findings.push(await commitsFinding(ctx, env, version));
  return findings;
}

async function databaseFindings(ctx: AppContext, env: string, version: string | undefined): Promise<Finding[]> {
  const db = ctx.environment(env).spec.database;
  if (!db) return [];
  const out: Finding[] = [];
  const latest = await latestDeployment(ctx.store, env);
  const migrate = latest ? (await ctx.store.listSteps(latest.id)).find((s) => s.name === 'migrate-database') : undefined;
  const backup = latest ? (await ctx.store.listBackups({ env, deploymentId: latest.id, limit: 1 }))[0] : undefined;
  if (migrate?.state === 'failed') {
    out.push({
      id: 'migration-failed', severity: 'error', title: `the migration of ${latest!.version} failed`,
      evidence: [String((migrate.detail as { runs?: { output?: string[] }[] }).runs?.at(-1)?.output?.join(' | ') ?? migrate.detail.error ?? '')],
      next: backup ? `shipgate rollback ${env} --reason "migration failed"   # restores backup #${backup.id}; or --db down` : `shipgate rollback ${env} --db down --reason "migration failed"`,
    });
  }
  if (!ctx.env[db.urlEnv]) {
    out.push({ id: 'database-url-unset', severity: 'error', title: `${db.urlEnv} is not set`, evidence: [`environments.${env}.database.urlEnv`], next: `export ${db.urlEnv}=postgres://...` });
    return out;
  }
  if (db.migrate?.status && version) {
    const run = await runMigration(ctx, env, processLayout(ctx.stateDir).releaseDir(env, version), 'status').catch((err: Error) => ({ ok: false, output: err.message, exitCode: 1 }));
    out.push(run.ok
      ? { id: 'migration-status', severity: 'info', title: 'migration status', evidence: run.output.split('\n').filter(Boolean).slice(-5), next: `shipgate backups --env ${env}` }
      : { id: 'database-unreachable', severity: 'error', title: `the ${env} database does not answer the migration status`, evidence: run.output.split('\n').filter(Boolean).slice(-5), next: `psql "$${db.urlEnv}" -c 'select 1'` });
  }
  return out;
}

async function breakerFindings(ctx: AppContext, env: string): Promise<Finding[]> {
  const trading = ctx.environment(env).spec.trading;
  let state;
  try {
    state = await readSafety(ctx, env, safetyStoreFor(ctx, env));
  } catch (err) {
    return trading ? [{ id: 'safety-state-unreadable', severity: 'error', title: 'the breaker state cannot be read', evidence: [(err as Error).message], next: 'redis-cli -u "$SHIPGATE_REDIS_URL" PING' }] : [];
  }
  const { breaker, killSwitch } = state.state;
  const specs = safetySpecs(ctx, env);
  const out: Finding[] = [];
  // In the platform's own words (trading.killSwitch / trading.breaker), with shipgate's meaning beside them.
  if (killSwitch.meaning !== 'trading') {
    out.push({ id: 'killswitch-on', severity: 'error', title: `the kill switch of ${env} reads ${describeFlag(killSwitch)}: deploys and promotions are refused`, evidence: [killSwitch.explanation, ...(killSwitch.reason ? [`reason: ${killSwitch.reason}`] : [])], next: `shipgate killswitch status --env ${env}` });
  }
  if (breaker.meaning === 'trading') return out;
  const latest = await latestDeployment(ctx.store, env);
  const afterDeploy = latest && state.trippedAt && latest.finishedAt && state.trippedAt >= latest.startedAt;
  const reasonAt = specs.breaker.reasonField ? (specs.breaker.field ? `${specs.breaker.key} ${specs.breaker.reasonField}` : specs.breaker.reasonField) : 'trip reason';
  const evidence = [breaker.explanation, `${reasonAt}: ${breaker.reason ?? '(none)'}`, `tripped at ${state.trippedAt ?? 'unknown'}`];
  if (afterDeploy) evidence.push(`tripped ${formatDuration(new Date(state.trippedAt!).getTime() - new Date(latest!.finishedAt!).getTime())} after the ${latest!.kind} of ${latest!.version}`);
  if (state.lastWriter && state.lastWriter !== env) evidence.push(`these keys were last written by ${state.lastWriter}: state persisted from another environment (check trading.keyPrefix)`);
  const reason = (breaker.reason ?? '').toLowerCase();
  const cause = /stale|feed|market data/.test(reason) ? 'stale data triggered the staleness check' : /reconcil|position/.test(reason) ? 'initial position reconciliation failed' : /limit|config/.test(reason) ? 'a config mismatch (position limits)' : state.lastWriter && state.lastWriter !== env ? 'Redis state persisted from another environment' : undefined;
  const unknown = breaker.meaning === 'unknown' ? ': a value in neither word list, which fails closed (check trading.breaker)' : '';
  out.push({ id: 'breaker-tripped', severity: 'error', title: `the circuit breaker of ${env} reads ${describeFlag(breaker)}${afterDeploy ? ' after a deploy' : ''}${unknown}${cause ? `: likely ${cause}` : ''}`, evidence, next: `shipgate breaker reset --env ${env}   # shows each precondition; fix the cause first if it is real` });
  return out;
}

function diskFinding(ctx: AppContext): Finding {
  const s = statfsSync(ctx.stateDir);
  const free = s.bavail * s.bsize;
  const share = free / (s.blocks * s.bsize);
  const gib = (free / 2 ** 30).toFixed(1);
  return share < 0.1 || free < 2 * 2 ** 30
    ? { id: 'disk-low', severity: 'warning', title: `disk space low: ${gib} GiB free (${(share * 100).toFixed(0)}%)`, evidence: [ctx.stateDir], next: `df -h ${ctx.stateDir}` }
    : { id: 'disk', severity: 'info', title: `disk: ${gib} GiB free (${(share * 100).toFixed(0)}%)`, evidence: [ctx.stateDir], next: `df -h ${ctx.stateDir}` };
}

async function commitsFinding(ctx: AppContext, env: string, version: string | undefined): Promise<Finding> {
  if (!version) return { id: 'recent-commits', severity: 'info', title: `${env} has no deployed release`, evidence: [], next: `shipgate deploy ${env} --version <tag>` };
  const commit = await ctx.repo.resolve(version).catch(() => undefined);
  const log = commit ? (await ctx.repo.changelog(undefined, commit)).slice(0, 5) : [];
  return { id: 'recent-commits', severity: 'info', title: `recent commits on ${version}`, evidence: log, next: `git -C ${ctx.repo.dir} log -5 --oneline ${version}` };
}
