// Whether a stack runs a release (pure): every service's new tasks running, none failed or
// rejected, desired replicas reached, nothing of the old spec still running.

import type { SwarmNode, SwarmService, SwarmTask } from './parse.js';

export type ServiceVerdict = 'converged' | 'progressing' | 'failed';

export interface ServiceConvergence {
  /** The stack's service name (without the `<stack>_` prefix). */
  service: string;
  verdict: ServiceVerdict;
  desired: number;
  running: number;
  reason: string;
  /** Task errors of the new spec (failed, rejected, pending with a scheduler message). */
  errors: string[];
  /** Set when Swarm rolled the service back itself (update_config.failure_action: rollback). */
  swarmRollback?: string;
}

export interface Convergence {
  verdict: ServiceVerdict;
  services: ServiceConvergence[];
}

const FAILED = new Set(['failed', 'rejected']);

/** A task of the service's current spec (same release, image and forced-update counter). */
export const isCurrent = (svc: SwarmService, t: SwarmTask): boolean => t.serviceId === svc.id && t.release === svc.release && t.image === svc.image && t.forceUpdate === svc.forceUpdate;

export function taskError(t: SwarmTask, nodes: Map<string, SwarmNode>): string {
  const node = nodes.get(t.nodeId);
  const where = node ? ` on ${node.addr || node.hostname}` : '';
  const exit = t.exitCode ? ` (exit ${t.exitCode})` : '';
  return `task ${t.id.slice(0, 12)}${t.slot !== undefined ? ` (slot ${t.slot})` : ''}${where}: ${t.state}${exit}${t.err ? `: ${t.err}` : t.message ? `: ${t.message}` : ''}`;
}

/**
 * Judges each service of `wanted` (stack service names) against the release `version`.
 * `final` is set at the end of the timeout: whatever is still progressing then has failed.
 */
export function judge(input: { stack: string; version: string; wanted: string[]; services: SwarmService[]; tasks: SwarmTask[]; nodes: SwarmNode[]; final: boolean }): Convergence {
  const nodes = new Map(input.nodes.map((n) => [n.id, n]));
  const usable = input.nodes.filter((n) => n.state === 'ready' && n.availability === 'active').length;
  const out = input.wanted.map((name): ServiceConvergence => {
    const svc = input.services.find((s) => s.name === `${input.stack}_${name}`);
    if (!svc) return { service: name, verdict: input.final ? 'failed' : 'progressing', desired: 0, running: 0, reason: 'no such service in the stack yet', errors: [] };
    const desired = svc.replicas ?? usable;
    const mine = input.tasks.filter((t) => t.serviceId === svc.id);
    const current = mine.filter((t) => isCurrent(svc, t));
    const running = current.filter((t) => t.state === 'running' && t.desired === 'running').length;
    const errors = current.filter((t) => FAILED.has(t.state) || (t.state === 'pending' && t.err)).map((t) => taskError(t, nodes));
    const base = { service: name, desired, running, errors };
    if (svc.release !== input.version) {
      // shipgate's stack deploy changed every service's spec (its release label), so a rollback state
      // now is this deploy's. Swarm's own rollback clears PreviousSpec (seen on a real swarm, Docker
      // 20.10); `docker service rollback` by a person swaps it: either way, not shipgate's rollback.
      if (svc.updateState?.startsWith('rollback') && (svc.previousRelease === undefined || svc.previousRelease === input.version)) {
        const note = `Swarm rolled ${name} back to ${svc.release ?? 'its previous spec'} itself (failure_action: rollback): ${svc.updateMessage || svc.updateState}`;
        return { ...base, verdict: 'failed', reason: note, swarmRollback: note };
      }
      return { ...base, verdict: 'failed', reason: `the service runs the spec of ${svc.release ?? 'an unlabelled release'}, not ${input.version}` };
    }
    if (svc.updateState === 'paused') return { ...base, verdict: 'failed', reason: `Swarm paused the update (failure_action: pause): ${svc.updateMessage}` };
    const failedNow = current.filter((t) => FAILED.has(t.state));
    if (failedNow.length) return { ...base, verdict: 'failed', reason: `${failedNow.length} task${failedNow.length > 1 ? 's' : ''} of ${input.version} ${failedNow.length > 1 ? 'have' : 'has'} failed or been rejected` };
    const stale = mine.filter((t) => !isCurrent(svc, t) && t.state === 'running' && t.desired === 'running');
    const done = running === desired && !stale.length && svc.updateState !== 'updating';
    if (done) return { ...base, verdict: 'converged', reason: `${running}/${desired} tasks of ${input.version} running` };
    // Tasks told to stop on a node that is down: Swarm's update waits for them, and nobody can confirm they stopped.
    const unconfirmed = [...new Set(mine.filter((t) => !isCurrent(svc, t) && t.desired !== 'running' && t.state === 'running' && nodes.get(t.nodeId)?.state !== 'ready').map((t) => nodes.get(t.nodeId)?.addr || t.nodeId))];
    const waiting = unconfirmed.length ? ` (Swarm waits for old tasks on down node ${unconfirmed.join(', ')} to stop)` : '';
    const why = `${running}/${desired} tasks of ${input.version} running${stale.length ? `, ${stale.length} of an older spec still running` : ''}${svc.updateState === 'updating' ? `, update in progress${waiting}` : ''}`;
    return { ...base, verdict: input.final ? 'failed' : 'progressing', reason: input.final ? `not converged in time: ${why}` : why };
  });
  const verdict: ServiceVerdict = out.some((s) => s.verdict === 'failed') ? 'failed' : out.every((s) => s.verdict === 'converged') ? 'converged' : 'progressing';
  return { verdict, services: out };
}

/** `http://<node>:<port><path>` of every running task of the current spec, for services on the host network or published mode=host. */
export function taskEndpoints(svc: SwarmService, tasks: SwarmTask[], nodes: SwarmNode[], healthUrl: string): { task: string; url: string }[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const url = new URL(healthUrl);
  return tasks
    .filter((t) => isCurrent(svc, t) && t.state === 'running' && t.desired === 'running')
    .flatMap((t) => {
      const addr = byId.get(t.nodeId)?.addr;
      if (!addr) return [];
      const u = new URL(url.toString());
      u.hostname = addr;
      return [{ task: t.id, url: u.toString() }];
    });
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** A loopback URL moved to `addr` (a node running the task); any other URL is left as configured (a load balancer). */
export function onNode(url: string, addr: string): string {
  const u = new URL(url);
  if (!LOOPBACK.has(u.hostname)) return url;
  u.hostname = addr;
  return u.toString();
}
