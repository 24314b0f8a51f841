import type { BrokerSpec } from '../../config/schema.js';
import { AlpacaBroker } from './alpaca.js';
import type { Broker } from './broker.js';
import type { BrokerHttpOptions } from './http.js';
import { PaperBroker } from './paper.js';

export interface CreateBrokerOptions extends BrokerHttpOptions {
  /** Alpaca only: orders per page (1..500) and pages at most when listing open orders. */
  pageSize?: number;
  maxPages?: number;
}

/**
 * The broker of `trading.broker`. Credentials are looked up in `env` by the variable names the
 * config gives, at each call, so a missing variable shows up as `unavailable` naming it, not as
 * an error here.
 */
export function createBroker(spec: BrokerSpec, env: Record<string, string | undefined> = process.env, options: CreateBrokerOptions = {}): Broker {
  switch (spec.type) {
    case 'alpaca':
      return new AlpacaBroker({
        ...options,
        mode: spec.mode,
        ...(spec.baseUrl !== undefined ? { baseUrl: spec.baseUrl } : {}),
        keyIdEnv: spec.keyIdEnv,
        secretKeyEnv: spec.secretKeyEnv,
        env,
      });
    case 'paper':
      return new PaperBroker({ ...options, url: spec.url });
  }
}
