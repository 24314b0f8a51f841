// Order validation and placement. Kept separate from the HTTP layer so a
// release can change order handling without touching routing.
import { randomUUID } from 'node:crypto';

export class OrderRejected extends Error {}

const SIDES = new Set(['buy', 'sell']);
const TYPES = new Set(['market', 'limit']);
const MAX_QTY = 100_000;

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
