// ps, logs and what `diagnose` reports about a stack: task errors, unschedulable tasks, missing
// images, nodes down or drained, and Swarm's own rollbacks.

import type { ResolvedService } from '../../../config/resolve.js';
import type { ServiceLogs, ServiceStatus } from '../target.js';
import { serviceName, swarmCommands } from './commands.js';
import { isCurrent, onNode, taskError } from './convergence.js';
import { logLines, type SwarmNode, type SwarmService, type SwarmTask } from './parse.js';
import type { SwarmSession } from './session.js';

export interface SwarmServiceStatus extends ServiceStatus {
  replicas: { running: number; desired: number | undefined };
  /** Node address of each running task of the current spec. */
  nodes: string[];
  image: string;
  updateState: string | undefined;
}

export async function listServices(ss: SwarmSession, env: string): Promise<SwarmServiceStatus[]> {
  const { services, tasks, nodes } = await ss.observe(env);
  const addr = new Map(nodes.map((n) => [n.id, n.addr]));
  const prefix = `${ss.stack}_`;
  return services.map((svc) => {
    const running = tasks.filter((t) => isCurrent(svc, t) && t.state === 'running' && t.desired === 'running');
    return {
      service: svc.name.startsWith(prefix) ? svc.name.slice(prefix.length) : svc.name,
      state: running.length ? 'running' : 'stopped',
      version: svc.release,
      replicas: { running: running.length, desired: svc.replicas },
      nodes: running.map((t) => addr.get(t.nodeId) ?? t.nodeId),
      image: svc.image,
      updateState: svc.updateState,
    };
  });
}

export async function serviceLogs(ss: SwarmSession, env: string, service: string | undefined, tail: number): Promise<ServiceLogs[]> {
  const names = service ? [service] : await ss.serviceNames(env);
  const out: ServiceLogs[] = [];
  for (const name of names) {
    const res = await ss.exec(env, swarmCommands.logs(serviceName(ss.stack, name), tail));
    out.push({ service: name, lines: logLines(`${res.stdout}${res.stderr}`) });
  }
  return out;
}

export interface SwarmFinding {
  id: string;
  severity: 'error' | 'warning' | 'info';
  title: string;
  evidence: string[];
  next: string;
}

/** Pure: the findings from what the manager reports. */
export function swarmFindings(input: { env: string; stack: string; services: SwarmService[]; tasks: SwarmTask[]; nodes: SwarmNode[]; swarmRollbacks: { at: string; version: string; detail: string }[] }): SwarmFinding[] {
  const out: SwarmFinding[] = [];
  const nodes = new Map(input.nodes.map((n) => [n.id, n]));
  for (const n of input.nodes.filter((x) => x.state !== 'ready')) {
    out.push({ id: 'node-down', severity: 'error', title: `node ${n.addr || n.hostname} (${n.role}) is ${n.state}`, evidence: [n.message || `status ${n.state}`], next: `docker node inspect ${n.id} --pretty   # then restart its engine, or docker node rm it` });
  }
  for (const n of input.nodes.filter((x) => x.availability !== 'active')) {
    out.push({ id: 'node-drained', severity: 'warning', title: `node ${n.addr || n.hostname} is ${n.availability}: it runs no new tasks`, evidence: [`availability ${n.availability}`], next: `docker node update --availability active ${n.id}` });
  }
  for (const svc of input.services) {
    const short = svc.name.slice(input.stack.length + 1);
    const recent = input.tasks.filter((t) => isCurrent(svc, t));
    const noNode = recent.filter((t) => t.state === 'pending' && /no suitable node/i.test(t.err));
    if (noNode.length) out.push({ id: 'no-suitable-node', severity: 'error', title: `${short}: ${noNode.length} task${noNode.length > 1 ? 's' : ''} cannot be placed`, evidence: noNode.slice(0, 3).map((t) => taskError(t, nodes)), next: `docker node ls   # constraints, max_replicas_per_node, host ports and drained nodes decide where tasks fit` });
    const image = recent.filter((t) => /No such image|pull access denied|manifest unknown|image .* not found/i.test(t.err));
    if (image.length) out.push({ id: 'image-missing', severity: 'error', title: `${short}: a node does not have image ${svc.image}`, evidence: image.slice(0, 3).map((t) => taskError(t, nodes)), next: 'push the image to the registry the nodes use, or docker load it on every node' });
    const failedTasks = recent.filter((t) => (t.state === 'failed' || t.state === 'rejected') && !image.includes(t));
    if (failedTasks.length) out.push({ id: 'task-failed', severity: 'error', title: `${short}: ${failedTasks.length} task${failedTasks.length > 1 ? 's' : ''} of ${svc.release ?? 'its spec'} failed`, evidence: failedTasks.slice(0, 5).map((t) => taskError(t, nodes)), next: `docker service ps --no-trunc ${svc.name}; shipgate logs ${input.env} ${short}` });
    if (svc.updateState === 'paused' || svc.updateState === 'rollback_paused') out.push({ id: 'update-paused', severity: 'error', title: `${short}: Swarm ${svc.updateState.replace('_', ' ')}`, evidence: [svc.updateMessage], next: `shipgate rollback ${input.env} --reason "update paused"` });
  }
  for (const r of input.swarmRollbacks.slice(-3)) out.push({ id: 'swarm-rollback', severity: 'warning', title: `Swarm rolled back ${r.version} itself before shipgate did`, evidence: [`${r.at}: ${r.detail}`], next: `shipgate status ${input.env}` });
  return out;
}

export async function diagnoseStack(ss: SwarmSession, env: string): Promise<SwarmFinding[]> {
  const services = await ss.services(env);
  const [tasks, nodes] = await Promise.all([ss.tasks(env, services), ss.nodes(env)]);
  return swarmFindings({ env, stack: ss.stack, services, tasks, nodes, swarmRollbacks: ss.readState(env).swarmRollbacks ?? [] });
}

/**
 * Each service's health URL on the node of one of its running tasks, and the metrics URL of every
 * running task on its node (a watch sums them: one replica's counters are not the service's); see
 * convergence.onNode. Each service says where it was found (`placement`); one with no running task
 * on a ready node keeps its configured URLs and says why nothing can be read where it runs.
 */
export async function reachableServices(ss: SwarmSession, env: string, configured: ResolvedService[]): Promise<ResolvedService[]> {
  const { services, tasks, nodes } = await ss.observe(env, configured.map((s) => s.name));
  const addr = new Map(nodes.filter((n) => n.state === 'ready').map((n) => [n.id, n.addr]));
  return configured.map((s) => {
    const svc = services.find((x) => x.name === serviceName(ss.stack, s.name));
    if (!svc) return { ...s, placement: { nodes: [], desired: undefined, missing: `no service ${serviceName(ss.stack, s.name)} in stack ${ss.stack}` } };
    const running = tasks.filter((t) => isCurrent(svc, t) && t.state === 'running' && t.desired === 'running' && addr.has(t.nodeId)).sort((a, b) => (a.slot ?? 0) - (b.slot ?? 0));
    const placed = running.map((t) => addr.get(t.nodeId)!);
    const node = placed[0];
    if (!node) {
      const of = svc.replicas === undefined ? '' : ` of ${svc.replicas}`;
      return { ...s, placement: { nodes: [], desired: svc.replicas, missing: `no task of ${svc.release ?? 'its spec'} running on a ready node (0${of})` } };
    }
    const placement = { nodes: placed, desired: svc.replicas };
    const metricsUrl = s.metricsUrl;
    const metrics = metricsUrl ? { metricsUrl: onNode(metricsUrl, node), metricsUrls: [...new Set(placed.map((a) => onNode(metricsUrl, a)))] } : {};
    return { ...s, ...(s.healthUrl ? { healthUrl: onNode(s.healthUrl, node) } : {}), ...(s.health ? { health: { ...s.health, url: onNode(s.health.url, node) } } : {}), ...metrics, placement };
  });
}
