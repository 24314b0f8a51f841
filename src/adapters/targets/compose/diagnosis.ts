import type { ResolvedService } from '../../../config/resolve.js';
import type { ComposeDiagnosis, ComposeTarget } from './driver.js';

/** Same shape as app/diagnose.ts's Finding (kept structural so adapters do not import the app layer). */
export interface ComposeFinding {
  id: string;
  severity: 'error' | 'warning' | 'info';
  title: string;
  evidence: string[];
  next: string;
}

/**
 * The runbook's "Docker Container Won't Start" checks for one environment: containers that
 * exited (with their code and last lines), failing container healthchecks, images that are
 * not built, compose variables that are not set, and services shipgate checks that the compose
 * file does not declare. Register with
 * `registerTargetDiagnosis('compose', (ctx, env) => composeFindings(ctx.target(env) as ComposeTarget, env, resolveServices(ctx.config, env)))`.
 */
export async function composeFindings(target: ComposeTarget, env: string, services: ResolvedService[]): Promise<ComposeFinding[]> {
  return findingsFrom(await target.diagnose(env), env, services);
}

/** Pure part of composeFindings. */
export function findingsFrom(d: ComposeDiagnosis, env: string, services: ResolvedService[]): ComposeFinding[] {
  const out: ComposeFinding[] = [];
  const logsNext = (service: string) => d.logsCommand?.(service) ?? `shipgate logs ${env} ${service} --tail 100`;
  for (const s of d.services) {
    if (s.state !== 'running') {
      out.push({
        id: 'container-exited', severity: 'error',
        title: `${s.service}: container ${s.container} is ${s.status}${s.exitCode !== undefined ? ` (exit code ${s.exitCode}${s.exitCode === 137 ? ', killed' : ''})` : ''}`,
        evidence: d.logs[s.service]?.slice(-8) ?? ['no log lines'],
        next: logsNext(s.service),
      });
    } else if (s.health === 'unhealthy') {
      out.push({ id: 'container-unhealthy', severity: 'error', title: `${s.service}: its container healthcheck fails`, evidence: d.logs[s.service]?.slice(-8) ?? [], next: logsNext(s.service) });
    }
  }
  if (d.config && !d.config.ok) {
    out.push({ id: 'compose-config', severity: 'error', title: `the compose files of ${d.version ?? 'the last release'} do not resolve`, evidence: (d.config.error ?? '').split('\n').slice(-5), next: d.configCommand ?? `docker-compose config` });
  }
  if (d.config?.warnings.length) {
    out.push({ id: 'compose-variables', severity: 'warning', title: 'compose warns about variables that are not set', evidence: d.config.warnings.slice(0, 5), next: `${d.configCommand ?? 'docker-compose config'}   # add them to the environment's env (or passEnv) in shipgate.yml` });
  }
  if (d.missingImages.length) {
    out.push({ id: 'image-missing', severity: 'error', title: `${d.missingImages.length} image${d.missingImages.length > 1 ? 's' : ''} of ${d.version ?? 'the last release'} not built`, evidence: d.missingImages, next: `shipgate deploy ${env} --version ${d.version ?? '<tag>'}   # prepare builds what is missing` });
  }
  if (d.config?.ok) {
    const declared = new Set(d.config.services.map((s) => s.name));
    const absent = services.filter((s) => !declared.has(s.name)).map((s) => s.name);
    if (absent.length) out.push({ id: 'compose-service-unknown', severity: 'warning', title: `shipgate.yml checks ${absent.join(', ')}, which the compose files do not declare`, evidence: [`compose services: ${[...declared].join(', ') || 'none'}`], next: 'Name the services in shipgate.yml as in the compose file.' });
  }
  return out;
}
