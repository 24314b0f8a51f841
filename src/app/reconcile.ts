import pg from 'pg';
import type { Broker, BrokerPosition } from '../adapters/broker/broker.js';
import { environmentSpec } from '../config/resolve.js';
import type { AppContext } from './context.js';

export interface ReconciliationRow {
  symbol: string;
  platform: number;
  broker: number;
  diff: number;
}

export interface Reconciliation {
  state: 'clean' | 'drift' | 'unknown' | 'not-configured';
  reason: string;
  rows: ReconciliationRow[];
}

type PositionsRead = { kind: 'ok'; value: BrokerPosition[] } | { kind: 'unavailable'; reason: string };

async function platformPositions(ctx: AppContext, env: string): Promise<PositionsRead> {
  const spec = environmentSpec(ctx.config, env);
  const rec = spec.trading?.reconciliation;
  try {
    if (rec?.positionsUrl) {
      const res = await fetch(rec.positionsUrl, { signal: AbortSignal.timeout(3000) });
      if (!res.ok) return { kind: 'unavailable', reason: `HTTP ${res.status} from the platform's positions` };
      const rows = (await res.json()) as { symbol: string; qty: number | string }[];
      return { kind: 'ok', value: rows.map((r) => ({ symbol: r.symbol, qty: Number(r.qty) })) };
    }
    if (rec?.positionsQuery && spec.database) {
      const url = process.env[spec.database.urlEnv];
      if (!url) return { kind: 'unavailable', reason: `${spec.database.urlEnv} is not set` };
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      try {
        await client.connect();
        const res = await client.query<{ symbol: string; qty: string | number }>(rec.positionsQuery);
        return { kind: 'ok', value: res.rows.map((r) => ({ symbol: r.symbol, qty: Number(r.qty) })) };
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  } catch (err) {
    return { kind: 'unavailable', reason: `platform positions: ${(err as Error).message}` };
  }
  return { kind: 'unavailable', reason: 'no positionsUrl or positionsQuery configured' };
}

function compare(platform: BrokerPosition[], broker: BrokerPosition[], tolerance: number): ReconciliationRow[] {
  const symbols = [...new Set([...platform.map((p) => p.symbol), ...broker.map((b) => b.symbol)])].sort();
  const sum = (list: BrokerPosition[], s: string) => list.filter((p) => p.symbol === s).reduce((a, p) => a + p.qty, 0);
  return symbols.map((symbol) => ({ symbol, platform: sum(platform, symbol), broker: sum(broker, symbol), diff: sum(platform, symbol) - sum(broker, symbol) })).filter((r) => Math.abs(r.diff) > tolerance);
}

/**
 * Broker positions against the platform's, per symbol within a tolerance. Missing data from
 * either side is "unknown", never flat; a difference is read twice before it is called drift
 * (an order filling between the two reads is not drift).
 */
export async function reconcile(ctx: AppContext, env: string, broker: Broker | undefined, settleMs = 500): Promise<Reconciliation> {
  const rec = environmentSpec(ctx.config, env).trading?.reconciliation;
  if (!rec) return { state: 'not-configured', reason: `environments.${env}.trading.reconciliation is not configured`, rows: [] };
  if (!broker) return { state: 'unknown', reason: 'no broker configured', rows: [] };
  let rows: ReconciliationRow[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, settleMs));
    const [platform, held] = await Promise.all([platformPositions(ctx, env), broker.positions()]);
    if (platform.kind === 'unavailable') return { state: 'unknown', reason: platform.reason, rows: [] };
    if (held.kind === 'unavailable') return { state: 'unknown', reason: `broker positions: ${held.reason}`, rows: [] };
    rows = compare(platform.value, held.value, rec.tolerance);
    if (rows.length === 0) return { state: 'clean', reason: `${platform.value.length} platform positions match the broker within ${rec.tolerance}`, rows };
  }
  return { state: 'drift', reason: `${rows.length} symbol${rows.length > 1 ? 's' : ''} differ (read twice): ${rows.slice(0, 5).map((r) => `${r.symbol} platform ${r.platform} broker ${r.broker}`).join(', ')}`, rows };
}
