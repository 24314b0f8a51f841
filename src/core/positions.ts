/**
 * Reconciliation arithmetic, pure: platform positions against the broker's, per symbol. A
 * quantity that is missing, null or not a number is unknown for its symbol: never 0, never
 * dropped, and one unknown symbol makes the whole reconciliation unknown (fail closed).
 */

/** One position as a source reported it, before its quantity is trusted. */
export interface ReportedPosition {
  symbol: unknown;
  qty: unknown;
}

export interface PositionRow {
  symbol: string;
  /** Summed quantity; null when any of this side's rows for the symbol had no readable quantity. */
  platform: number | null;
  broker: number | null;
  /** platform - broker; null when either side is unknown. */
  diff: number | null;
  state: 'match' | 'drift' | 'unknown';
  /** Why the row is unknown, naming the side and what it said. */
  reason?: string;
}

export interface PositionComparison {
  state: 'clean' | 'drift' | 'unknown';
  /** Every symbol seen on either side, sorted. */
  rows: PositionRow[];
  unknown: PositionRow[];
  drift: PositionRow[];
}

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A finite number, or a decimal string ("10", "-5.5"); anything else (null, "", "n/a", true, NaN) is undefined. */
export function readQuantity(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'string' && DECIMAL.test(raw.trim())) {
    const n = Number(raw.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

const describe = (raw: unknown) => (raw === undefined ? 'no qty' : `qty ${JSON.stringify(raw) ?? String(raw)}`);

interface Side {
  totals: Map<string, number>;
  unreadable: Map<string, string>;
  /** Rows without a symbol: nothing can be matched against them. */
  anonymous: string[];
}

function sideOf(rows: ReportedPosition[]): Side {
  const side: Side = { totals: new Map(), unreadable: new Map(), anonymous: [] };
  for (const row of rows) {
    if (typeof row.symbol !== 'string' || row.symbol === '') {
      side.anonymous.push(`a position without a symbol (${describe(row.qty)})`);
      continue;
    }
    const qty = readQuantity(row.qty);
    if (qty === undefined) side.unreadable.set(row.symbol, describe(row.qty));
    else side.totals.set(row.symbol, (side.totals.get(row.symbol) ?? 0) + qty);
  }
  return side;
}

export function comparePositions(platformRows: ReportedPosition[], brokerRows: ReportedPosition[], tolerance: number): PositionComparison {
  const platform = sideOf(platformRows);
  const broker = sideOf(brokerRows);
  const symbols = [...new Set([...platform.totals.keys(), ...platform.unreadable.keys(), ...broker.totals.keys(), ...broker.unreadable.keys()])].sort();
  const rows: PositionRow[] = symbols.map((symbol) => {
    const p = platform.unreadable.has(symbol) ? null : (platform.totals.get(symbol) ?? 0);
    const b = broker.unreadable.has(symbol) ? null : (broker.totals.get(symbol) ?? 0);
    if (p === null || b === null) {
      const why = [platform.unreadable.has(symbol) ? `platform reports ${platform.unreadable.get(symbol)}` : '', broker.unreadable.has(symbol) ? `broker reports ${broker.unreadable.get(symbol)}` : ''].filter(Boolean).join(', ');
      return { symbol, platform: p, broker: b, diff: null, state: 'unknown', reason: why };
    }
    const diff = p - b;
    return { symbol, platform: p, broker: b, diff, state: Math.abs(diff) > tolerance ? 'drift' : 'match' };
  });
  for (const [who, side] of [['platform', platform], ['broker', broker]] as const) {
    for (const what of side.anonymous) rows.push({ symbol: '?', platform: null, broker: null, diff: null, state: 'unknown', reason: `${who} reports ${what}` });
  }
  const unknown = rows.filter((r) => r.state === 'unknown');
  const drift = rows.filter((r) => r.state === 'drift');
  return { state: unknown.length ? 'unknown' : drift.length ? 'drift' : 'clean', rows, unknown, drift };
}
