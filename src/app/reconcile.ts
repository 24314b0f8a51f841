import type { Broker } from '../adapters/broker/broker.js';
import { comparePositions, type PositionRow, type ReportedPosition } from '../core/positions.js';
import type { AppContext } from './context.js';

/** A symbol that differs (drift) or cannot be compared (unknown: a quantity missing, null or not a number). */
export type ReconciliationRow = PositionRow;

export interface Reconciliation {
  state: 'clean' | 'drift' | 'unknown' | 'not-configured';
  reason: string;
  rows: ReconciliationRow[];
}

type PositionsRead = { kind: 'ok'; value: ReportedPosition[] } | { kind: 'unavailable'; reason: string };

async function platformPositions(ctx: AppContext, env: string): Promise<PositionsRead> {
  const spec = ctx.environment(env).spec;
  const rec = spec.trading?.reconciliation;
  try {
    if (rec?.positionsUrl) {
      const res = await fetch(rec.positionsUrl, { signal: AbortSignal.timeout(3000) });
      if (!res.ok) return { kind: 'unavailable', reason: `HTTP ${res.status} from the platform's positions` };
      const rows: unknown = await res.json();
      if (!Array.isArray(rows)) return { kind: 'unavailable', reason: `the platform's positions are not a list (${rec.positionsUrl})` };
      // Quantities stay as reported: comparePositions decides what is readable (Number(null) would be 0).
      return { kind: 'ok', value: rows.map((r) => ({ symbol: (r as { symbol?: unknown } | null)?.symbol, qty: (r as { qty?: unknown } | null)?.qty })) };
    }
    if (rec?.positionsQuery && spec.database) {
      const url = process.env[spec.database.urlEnv];
      if (!url) return { kind: 'unavailable', reason: `${spec.database.urlEnv} is not set` };
      const { default: pg } = await import('pg'); // on first use: keeps it out of the CLI's start-up
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      try {
        await client.connect();
        const res = await client.query<{ symbol: unknown; qty: unknown }>(rec.positionsQuery);
        return { kind: 'ok', value: res.rows.map((r) => ({ symbol: r.symbol, qty: r.qty })) };
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  } catch (err) {
    return { kind: 'unavailable', reason: `platform positions: ${(err as Error).message}` };
  }
  return { kind: 'unavailable', reason: 'no positionsUrl or positionsQuery configured' };
}

/**
 * Broker positions against the platform's, per symbol within a tolerance. Missing data from
 * either side (a whole side, or one symbol's quantity) is "unknown", never flat; a difference is
 * read twice before it is called drift (an order filling between the two reads is not drift).
 */
export async function reconcile(ctx: AppContext, env: string, broker: Broker | undefined, settleMs = 500): Promise<Reconciliation> {
  const rec = ctx.environment(env).spec.trading?.reconciliation;
  if (!rec) return { state: 'not-configured', reason: `environments.${env}.trading.reconciliation is not configured`, rows: [] };
  if (!broker) return { state: 'unknown', reason: 'no broker configured', rows: [] };
  let rows: ReconciliationRow[] = [];
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, settleMs));
    const [platform, held] = await Promise.all([platformPositions(ctx, env), broker.positions()]);
    if (platform.kind === 'unavailable') return { state: 'unknown', reason: platform.reason, rows: [] };
    if (held.kind === 'unavailable') return { state: 'unknown', reason: `broker positions: ${held.reason}`, rows: [] };
    const compared = comparePositions(platform.value, held.value, rec.tolerance);
    // Unknown is not re-read: a quantity the platform cannot state is not a race between two reads.
    if (compared.state === 'unknown') {
      return { state: 'unknown', reason: `${compared.unknown.length} symbol${compared.unknown.length > 1 ? 's' : ''} without a readable quantity: ${compared.unknown.slice(0, 5).map((r) => `${r.symbol} (${r.reason})`).join(', ')}`, rows: [...compared.unknown, ...compared.drift] };
    }
    rows = compared.drift;
    if (rows.length === 0) return { state: 'clean', reason: `${platform.value.length} platform positions match the broker within ${rec.tolerance}`, rows };
  }
  return { state: 'drift', reason: `${rows.length} symbol${rows.length > 1 ? 's' : ''} differ (read twice): ${rows.slice(0, 5).map((r) => `${r.symbol} platform ${r.platform} broker ${r.broker}`).join(', ')}`, rows };
}
