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
  PLTR: { last: 42.77 },
  COIN: { last: 204.25 },
};

function referencePrice(symbol) {
  const ref = REFERENCE_PRICES[symbol];
  if (!ref) throw new OrderRejected(`no reference price for ${symbol}; send a limit order`);
  return ref.last;
}

function checkNotional(order) {
  const price = order.limitPrice ?? referencePrice(order.symbol);
  const notional = price * order.qty;
  if (notional > MAX_NOTIONAL_USD) {
    throw new OrderRejected(`notional ${notional.toFixed(2)} USD exceeds the ${MAX_NOTIONAL_USD} USD limit`);
  }
}

// Live trading only: compliance asked for a per-sector cap on a single order's notional before
// it reaches the broker. Paper trading (staging) skips it: the paper broker has no limits.
const LIVE = process.env.TRADING_MODE === 'live';
const SECTOR_OF = {
  AAPL: 'tech', MSFT: 'tech', NVDA: 'semis', AMD: 'semis', AVGO: 'semis', GOOGL: 'comms', META: 'comms',
  NFLX: 'comms', AMZN: 'retail', COST: 'retail', TSLA: 'autos', JPM: 'financials', V: 'payments',
  MA: 'payments', XOM: 'energy', UNH: 'health', CRM: 'software', ORCL: 'software', PLTR: 'software', COIN: 'crypto',
};
const SECTOR_LIMIT_USD = {
  tech: 900_000, semis: 900_000, comms: 900_000, retail: 900_000, autos: 600_000, financials: 900_000,
  energy: 600_000, health: 900_000, software: 600_000, crypto: 300_000,
};

function checkSectorLimit(order) {
  const sector = SECTOR_OF[order.symbol];
  // The bug this release ships: "payments" was added to SECTOR_OF but not to SECTOR_LIMIT_USD,
  // so the limit is undefined and formatting it throws for every V and MA order.
  const limit = SECTOR_LIMIT_USD[sector].toFixed(0);
  const notional = (order.limitPrice ?? referencePrice(order.symbol)) * order.qty;
  if (notional > Number(limit)) throw new OrderRejected(`${sector} order of ${notional.toFixed(0)} USD is over the ${limit} USD sector cap`);
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
  if (LIVE) checkSectorLimit(order);
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
