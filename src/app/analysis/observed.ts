// Where an environment's services are read: their configured URLs, or where the target says they
// answer. A swarm has no routing mesh here: each health URL goes to a node running one of the
// service's tasks and the metrics of every task are scraped on its node (target.reachable).
import type { ResolvedService } from '../../config/resolve.js';
import type { AppContext } from '../context.js';

export interface ObservedServices {
  services: ResolvedService[];
  /** The target could not say where its services run: nothing read through them is evidence. */
  error?: string;
}

/** `configured`: the environment's services as resolved once for the command (ctx.environment). */
export async function observedServices(ctx: Pick<AppContext, 'target'>, env: string, configured: ResolvedService[]): Promise<ObservedServices> {
  const target = ctx.target(env);
  if (!target.reachable) return { services: configured };
  try {
    return { services: await target.reachable(env, configured) };
  } catch (err) {
    return { services: configured, error: `cannot find where the services of ${env} run: ${(err as Error).message.split('\n')[0]}` };
  }
}
