import type { Broker } from '../../adapters/broker/broker.js';
import { scrapeMetrics } from '../../adapters/metrics/scrape.js';
import { sumSamples } from '../../adapters/metrics/series.js';
import { formatDuration } from '../../core/duration.js';
import type { AppContext } from '../context.js';
import { reconcile } from '../reconcile.js';

export type PreconditionState = 'met' | 'unmet' | 'unknown' | 'not-configured';

export interface Precondition {
  name: string;
  state: PreconditionState;
  detail: string;
}

export const blocking = (p: Precondition) => p.state === 'unmet' || p.state === 'unknown';

async function gauge(url: string, metric: string): Promise<{ value: number } | { reason: string }> {
  const scrape = await scrapeMetrics(url);
  if (scrape.kind === 'error') return { reason: scrape.reason };
  const value = sumSamples(scrape.samples, metric);
  return value === undefined ? { reason: `no ${metric} at ${url}` } : { value };
}

/** The seed's "review conditions before recovery": drawdown, broker API, data feeds, reconciliation. */
export async function breakerPreconditions(ctx: AppContext, env: string, broker: Broker | undefined): Promise<Precondition[]> {
  const trading = ctx.environment(env).spec.trading;
  const reset = trading?.breakerReset;
  const out: Precondition[] = [];

  if (reset?.maxDrawdown !== undefined && reset.drawdownUrl) {
    const g = await gauge(reset.drawdownUrl, reset.drawdownMetric);
    out.push('reason' in g ? { name: 'drawdown normalized', state: 'unknown', detail: g.reason } : { name: 'drawdown normalized', state: g.value <= reset.maxDrawdown ? 'met' : 'unmet', detail: `${reset.drawdownMetric} ${g.value} (limit ${reset.maxDrawdown})` });
  } else out.push({ name: 'drawdown normalized', state: 'not-configured', detail: 'set trading.breakerReset.maxDrawdown and drawdownUrl' });

  if (broker) {
    const account = await broker.account();
    out.push(account.kind === 'unavailable' ? { name: 'broker API healthy', state: 'unknown', detail: account.reason } : { name: 'broker API healthy', state: account.value.tradingBlocked ? 'unmet' : 'met', detail: `${broker.name} account ${account.value.status}${account.value.tradingBlocked ? ', trading blocked' : ''}` });
  } else out.push({ name: 'broker API healthy', state: 'not-configured', detail: 'set trading.broker' });

  if (reset?.marketDataUrl) {
    const g = await gauge(reset.marketDataUrl, reset.marketDataMetric);
    if ('reason' in g) out.push({ name: 'market data fresh', state: 'unknown', detail: g.reason });
    else {
      // Freshness is about the real feed: wall-clock time, not a simulated clock.
      const age = Date.now() - g.value * 1000;
      out.push({ name: 'market data fresh', state: age <= reset.maxStaleness ? 'met' : 'unmet', detail: `last update ${formatDuration(Math.max(0, age))} ago (limit ${formatDuration(reset.maxStaleness)})` });
    }
  } else out.push({ name: 'market data fresh', state: 'not-configured', detail: 'set trading.breakerReset.marketDataUrl' });

  const rec = await reconcile(ctx, env, broker);
  out.push({ name: 'reconciliation clean', state: rec.state === 'clean' ? 'met' : rec.state === 'drift' ? 'unmet' : rec.state === 'unknown' ? 'unknown' : 'not-configured', detail: rec.reason });
  return out;
}
