// Order validation and placement. Kept separate from the HTTP layer so a
// release can change order handling without touching routing.
import { randomUUID } from 'node:crypto';

export class OrderRejected extends Error {}

const SIDES = new Set(['buy', 'sell']);
const TYPES = new Set(['market', 'limit']);
const MAX_QTY = 100_000;

// Risk asked for a per-order notional cap so a fat-fingered qty cannot send a
// seven-figure order. Market orders are valued at the last reference close.
const MAX_NOTIONAL_USD = 1_000_000;
const REFERENCE_PRICES = {
  AAPL: { last: 229.87 },
  MSFT: { last: 415.1 },
  NVDA: { last: 138.85 },
  AMZN: { last: 201.7 },
  GOOGL: { last: 176.49 },
  META: { last: 576.47 },
  TSLA: { last: 248.5 },
  AMD: { last: 155.12 },
  NFLX: { last: 728.45 },
  JPM: { last: 222.06 },
  V: { last: 289.3 },
  MA: { last: 500.45 },
  XOM: { last: 119.92 },
  UNH: { last: 603.23 },
  COST: { last: 901.78 },
  AVGO: { last: 172.05 },
  CRM: { last: 292.73 },
  ORCL: { last: 172.16 },
};

function checkNotional(order) {
  const price = order.limitPrice ?? REFERENCE_PRICES[order.symbol].last;
  const notional = price * order.qty;
  if (notional > MAX_NOTIONAL_USD) {
    throw new OrderRejected(`notional ${notional.toFixed(2)} USD exceeds the ${MAX_NOTIONAL_USD} USD limit`);
  }
}

// Brokers accept qty as a JSON number or a numeric string ("10").
function parseQty(raw) {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && /^\d+$/.test(raw.trim())) return Number(raw);
  return Number.NaN;
}

export function validateOrder(input) {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new OrderRejected('order must be a JSON object');
  }
  const symbol = typeof input.symbol === 'string' ? input.symbol.trim().toUpperCase() : '';
  if (!/^[A-Z][A-Z.]{0,9}$/.test(symbol)) throw new OrderRejected('symbol must be 1-10 letters');
  const qty = parseQty(input.qty);
  if (!Number.isInteger(qty) || qty < 1 || qty > MAX_QTY) {
    throw new OrderRejected(`qty must be an integer between 1 and ${MAX_QTY}`);
  }
  if (!SIDES.has(input.side)) throw new OrderRejected('side must be "buy" or "sell"');
  const type = input.type ?? 'market';
  if (!TYPES.has(type)) throw new OrderRejected('type must be "market" or "limit"');
  const order = { symbol, qty, side: input.side, type };
  if (type === 'limit') {
    const limitPrice = Number(input.limit_price ?? input.limitPrice);
    if (!(limitPrice > 0)) throw new OrderRejected('limit orders need a positive limit_price');
    order.limitPrice = limitPrice;
  }
  checkNotional(order);
  return order;
}

// Paper broker: orders are accepted and stay open until cancelled.
export function placeOrder(book, input) {
  const order = {
    id: randomUUID(),
    ...validateOrder(input),
    status: 'open',
    createdAt: new Date().toISOString(),
  };
  book.set(order.id, order);
  return order;
}
