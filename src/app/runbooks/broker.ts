import type { Broker } from '../../adapters/broker/broker.js';
import { createBroker } from '../../adapters/broker/factory.js';
import type { AppContext } from '../context.js';

/** The environment's broker, or undefined when none is configured. */
export function brokerFor(ctx: AppContext, env: string, processEnv: NodeJS.ProcessEnv = process.env): Broker | undefined {
  const spec = ctx.environment(env).spec.trading?.broker;
  return spec ? createBroker(spec, processEnv) : undefined;
}
