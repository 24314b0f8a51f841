/**
 * The broker port over Alpaca's Trading API v2 (https://docs.alpaca.markets/reference), paper or
 * live. Authentication is the documented header pair APCA-API-KEY-ID / APCA-API-SECRET-KEY,
 * read from the environment variables the config names, at each call. Numbers arrive as JSON
 * strings ("qty": "10") and are converted; a short position becomes a negative qty.
 *
 * Endpoints used:
 *   GET    /v2/account
 *   GET    /v2/orders?status=open&limit=500&direction=asc[&after=...]   (paged, see openOrders)
 *   DELETE /v2/orders              207 Multi-Status: [{id, status, body}] per order
 *   DELETE /v2/orders/{id}         204 accepted, 422 not cancelable, 404 not found
 *   GET    /v2/positions
 *   DELETE /v2/positions[?cancel_orders=true]   207 Multi-Status: [{symbol, status, body}] per position
 *   GET    /v2/clock
 *   GET    /v2/calendar?start=&end=
 */
import {
  ok,
  unavailable,
  type Broker,
  type BrokerAccount,
  type BrokerCalendarDay,
  type BrokerClock,
  type BrokerOrder,
  type BrokerPosition,
  type BrokerRead,
  type CancelResult,
  type CloseAllOptions,
  type ClosePositionResult,
} from './broker.js';
import { bodyMessage, brokerRequest, type BrokerHttpOptions, type BrokerRequest } from './http.js';

export const ALPACA_PAPER_URL = 'https://paper-api.alpaca.markets';
export const ALPACA_LIVE_URL = 'https://api.alpaca.markets';

/** Alpaca's largest page of orders (`limit` defaults to 50, max 500). */
const MAX_PAGE = 500;

export interface AlpacaBrokerOptions extends BrokerHttpOptions {
  mode: 'paper' | 'live';
  /** Replaces the paper/live URL (tests, proxies). */
  baseUrl?: string;
  /** Names of the variables holding the key id and the secret key (never the values). */
  keyIdEnv: string;
  secretKeyEnv: string;
  /** Where the variables are looked up; default process.env. */
  env?: Record<string, string | undefined>;
  /** Orders per page when listing (1..500, default 500). */
  pageSize?: number;
  /** Pages at most when listing open orders (default 50, i.e. 25,000 orders). */
  maxPages?: number;
}

type Credentials = { kind: 'ok'; headers: Record<string, string>; secrets: string[] } | { kind: 'missing'; reason: string };

type Answer = { status: number; body: unknown };

export class AlpacaBroker implements Broker {
  readonly name: string;
  private readonly baseUrl: string;
  private readonly env: Record<string, string | undefined>;
  private readonly pageSize: number;
  private readonly maxPages: number;

  constructor(private readonly options: AlpacaBrokerOptions) {
    this.baseUrl = options.baseUrl ?? (options.mode === 'live' ? ALPACA_LIVE_URL : ALPACA_PAPER_URL);
    this.name = `alpaca (${options.mode})`;
    this.env = options.env ?? process.env;
    this.pageSize = Math.min(MAX_PAGE, Math.max(1, Math.floor(options.pageSize ?? MAX_PAGE)));
    this.maxPages = Math.max(1, Math.floor(options.maxPages ?? 50));
  }

  async account(): Promise<BrokerRead<BrokerAccount>> {
    return this.read({ method: 'GET', path: '/v2/account', idempotent: true }, ({ status, body }) => {
      if (status !== 200) return unexpectedStatus('GET /v2/account', status, body);
      const a = asRecord(body);
      if (!a || typeof a.id !== 'string' || typeof a.status !== 'string') return unexpectedShape('GET /v2/account', 'an account object');
      const equity = decimal(a.equity);
      return ok({
        id: a.id,
        status: a.status,
        tradingBlocked: a.trading_blocked === true || a.account_blocked === true || a.trade_suspended_by_user === true,
        ...(equity !== undefined ? { equity } : {}),
      });
    });
  }

  /**
   * Every open order, oldest first. Alpaca lists at most 500 orders per request and pages by
   * submission time (`after`, exclusive), so each next page starts one millisecond before the
   * last order seen: orders sharing that instant are fetched again and de-duplicated by id
   * instead of being skipped. A page that brings nothing new while full cannot be paged past
   * (more than a page of orders in one millisecond), and too many pages stop the listing:
   * both are `unavailable`, never a short list.
   */
  async openOrders(): Promise<BrokerRead<BrokerOrder[]>> {
    const seen = new Map<string, BrokerOrder>();
    let after: string | undefined;
    for (let page = 0; page < this.maxPages; page++) {
      const query = { status: 'open', limit: this.pageSize, direction: 'asc', after };
      const result = await this.read<{ orders: BrokerOrder[]; lastSubmittedAt: string | undefined }>(
        { method: 'GET', path: '/v2/orders', query, idempotent: true },
        ({ status, body }) => {
          if (status !== 200) return unexpectedStatus('GET /v2/orders', status, body);
          if (!Array.isArray(body)) return unexpectedShape('GET /v2/orders', 'a list of orders');
          const orders: BrokerOrder[] = [];
          for (const raw of body) {
            const order = parseOrder(raw);
            if (!order) return unexpectedShape('GET /v2/orders', 'orders with an id and a status');
            orders.push(order);
          }
          return ok({ orders, lastSubmittedAt: orders.at(-1)?.submittedAt });
        },
      );
      if (result.kind !== 'ok') return result;
      const { orders, lastSubmittedAt } = result.value;
      let fresh = 0;
      for (const o of orders) {
        if (!seen.has(o.id)) {
          seen.set(o.id, o);
          fresh++;
        }
      }
      if (orders.length < this.pageSize) return ok([...seen.values()]);
      const lastMs = lastSubmittedAt === undefined ? Number.NaN : Date.parse(lastSubmittedAt);
      if (Number.isNaN(lastMs)) return unavailable('GET /v2/orders: a full page of orders without a usable submitted_at; cannot list the next page');
      if (fresh === 0) {
        return unavailable(`GET /v2/orders: more than ${this.pageSize} open orders were submitted within one millisecond; cannot page past them`);
      }
      after = new Date(lastMs - 1).toISOString();
    }
    return unavailable(`GET /v2/orders: more than ${this.maxPages} pages of open orders (${seen.size} so far); listing stopped`);
  }

  async cancelAllOrders(): Promise<BrokerRead<CancelResult[]>> {
    return this.read({ method: 'DELETE', path: '/v2/orders', idempotent: true }, ({ status, body }) => {
      if (status !== 207 && status !== 200) return unexpectedStatus('DELETE /v2/orders', status, body);
      if (!Array.isArray(body)) return unexpectedShape('DELETE /v2/orders', 'a list of per-order results');
      const results: CancelResult[] = [];
      for (const raw of body) {
        const r = asRecord(raw);
        const itemStatus = r ? integer(r.status) : undefined;
        if (!r || typeof r.id !== 'string' || itemStatus === undefined) return unexpectedShape('DELETE /v2/orders', 'results with an id and a status');
        results.push(cancelOutcome(r.id, itemStatus, r.body, this.secrets()));
      }
      return ok(results);
    });
  }

  async cancelOrder(id: string): Promise<CancelResult> {
    if (typeof id !== 'string' || id.trim() === '') return { id, ok: false, status: 0, reason: 'no order id given' };
    const path = `/v2/orders/${encodeURIComponent(id)}`;
    const result = await this.read<CancelResult>({ method: 'DELETE', path, idempotent: true }, ({ status, body }) =>
      ok(status === 204 || status === 200 ? { id, ok: true, status } : cancelOutcome(id, status, body, this.secrets())),
    );
    if (result.kind === 'ok') return result.value;
    return { id, ok: false, status: 0, reason: result.reason };
  }

  async positions(): Promise<BrokerRead<BrokerPosition[]>> {
    return this.read({ method: 'GET', path: '/v2/positions', idempotent: true }, ({ status, body }) => {
      if (status !== 200) return unexpectedStatus('GET /v2/positions', status, body);
      if (!Array.isArray(body)) return unexpectedShape('GET /v2/positions', 'a list of positions');
      const positions: BrokerPosition[] = [];
      for (const raw of body) {
        const p = asRecord(raw);
        const qty = p ? decimal(p.qty) : undefined;
        if (!p || typeof p.symbol !== 'string' || qty === undefined) {
          return unexpectedShape('GET /v2/positions', 'positions with a symbol and a numeric qty');
        }
        positions.push({ symbol: p.symbol, qty: signedQty(qty, p.side) });
      }
      return ok(positions);
    });
  }

  /**
   * Liquidates every position (one market order each). Placing orders is not idempotent, so the
   * request is retried only when Alpaca certainly did not act: 429 or no connection.
   */
  async closeAllPositions(options: CloseAllOptions = {}): Promise<BrokerRead<ClosePositionResult[]>> {
    const query = options.cancelOrders ? { cancel_orders: 'true' } : undefined;
    return this.read({ method: 'DELETE', path: '/v2/positions', ...(query ? { query } : {}), idempotent: false }, ({ status, body }) => {
      if (status !== 207 && status !== 200) return unexpectedStatus('DELETE /v2/positions', status, body);
      if (!Array.isArray(body)) return unexpectedShape('DELETE /v2/positions', 'a list of per-position results');
      const results: ClosePositionResult[] = [];
      for (const raw of body) {
        const r = asRecord(raw);
        const itemStatus = r ? integer(r.status) : undefined;
        if (!r || typeof r.symbol !== 'string' || itemStatus === undefined) {
          return unexpectedShape('DELETE /v2/positions', 'results with a symbol and a status');
        }
        const accepted = itemStatus >= 200 && itemStatus < 300;
        const order = asRecord(r.body);
        const orderId = typeof r.order_id === 'string' ? r.order_id : accepted && order && typeof order.id === 'string' ? order.id : undefined;
        results.push({
          symbol: r.symbol,
          ok: accepted,
          status: itemStatus,
          ...(accepted ? {} : { reason: redact(bodyMessage(r.body) ?? `HTTP ${itemStatus}`, this.secrets()) }),
          ...(orderId !== undefined ? { orderId } : {}),
        });
      }
      return ok(results);
    });
  }

  async clock(): Promise<BrokerRead<BrokerClock>> {
    return this.read({ method: 'GET', path: '/v2/clock', idempotent: true }, ({ status, body }) => {
      if (status !== 200) return unexpectedStatus('GET /v2/clock', status, body);
      const c = asRecord(body);
      if (!c || typeof c.is_open !== 'boolean' || !isTimestamp(c.next_open) || !isTimestamp(c.next_close)) {
        return unexpectedShape('GET /v2/clock', 'a clock with is_open, next_open and next_close');
      }
      return ok({ isOpen: c.is_open, nextOpen: c.next_open, nextClose: c.next_close });
    });
  }

  async calendar(start: string, end: string): Promise<BrokerRead<BrokerCalendarDay[]>> {
    if (!DATE.test(start) || !DATE.test(end)) return unavailable('the calendar needs start and end dates as YYYY-MM-DD');
    return this.read({ method: 'GET', path: '/v2/calendar', query: { start, end }, idempotent: true }, ({ status, body }) => {
      if (status !== 200) return unexpectedStatus('GET /v2/calendar', status, body);
      if (!Array.isArray(body)) return unexpectedShape('GET /v2/calendar', 'a list of trading days');
      const days: BrokerCalendarDay[] = [];
      for (const raw of body) {
        const d = asRecord(raw);
        if (!d || typeof d.date !== 'string' || !DATE.test(d.date) || typeof d.open !== 'string' || !HHMM.test(d.open) || typeof d.close !== 'string' || !HHMM.test(d.close)) {
          return unexpectedShape('GET /v2/calendar', 'days with date YYYY-MM-DD and open/close HH:MM');
        }
        days.push({ date: d.date, open: d.open, close: d.close });
      }
      return ok(days);
    });
  }

  // ---------------------------------------------------------------------------------------------

  private credentials(): Credentials {
    const { keyIdEnv, secretKeyEnv } = this.options;
    const keyId = this.env[keyIdEnv]?.trim();
    const secret = this.env[secretKeyEnv]?.trim();
    const missing = [!keyId ? keyIdEnv : undefined, !secret ? secretKeyEnv : undefined].filter((n): n is string => n !== undefined);
    if (missing.length > 0) {
      const names = missing.join(' and ');
      return {
        kind: 'missing',
        reason: `Alpaca credentials missing: environment variable${missing.length > 1 ? 's' : ''} ${names} ${missing.length > 1 ? 'are' : 'is'} not set`,
      };
    }
    return { kind: 'ok', headers: { 'APCA-API-KEY-ID': keyId!, 'APCA-API-SECRET-KEY': secret! }, secrets: [keyId!, secret!] };
  }

  private secrets(): string[] {
    const c = this.credentials();
    return c.kind === 'ok' ? c.secrets : [];
  }

  /** One request with credentials and retries; credential refusals and transport failures become `unavailable`. */
  private async read<T>(request: BrokerRequest, interpret: (answer: Answer) => BrokerRead<T>): Promise<BrokerRead<T>> {
    const creds = this.credentials();
    if (creds.kind === 'missing') return unavailable(creds.reason);
    const result = await brokerRequest(this.baseUrl, { ...request, headers: { ...request.headers, ...creds.headers } }, this.options);
    if (result.kind === 'failed') return unavailable(redact(`Alpaca ${this.options.mode}: ${result.reason}`, creds.secrets));
    if (result.status === 401 || result.status === 403) {
      // 403 is also Alpaca's answer to some refused actions; for the calls here it means the key pair.
      const detail = bodyMessage(result.body);
      return unavailable(
        redact(
          `Alpaca ${this.options.mode} refused the credentials from ${this.options.keyIdEnv}/${this.options.secretKeyEnv} (${request.method} ${request.path}: HTTP ${result.status}${detail ? `: ${detail}` : ''})`,
          creds.secrets,
        ),
      );
    }
    const read = interpret({ status: result.status, body: result.body });
    return read.kind === 'unavailable' ? unavailable(redact(`Alpaca ${this.options.mode}: ${read.reason}`, creds.secrets)) : read;
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const HHMM = /^\d{2}:\d{2}$/;

function cancelOutcome(id: string, status: number, body: unknown, secrets: string[]): CancelResult {
  if (status >= 200 && status < 300) return { id, ok: true, status };
  const message = bodyMessage(body);
  const fallback = status === 422 ? 'order is not cancelable' : status === 404 ? 'order not found' : `HTTP ${status}`;
  return { id, ok: false, status, reason: redact(message ?? fallback, secrets) };
}

function parseOrder(raw: unknown): BrokerOrder | undefined {
  const o = asRecord(raw);
  if (!o || typeof o.id !== 'string' || typeof o.status !== 'string') return undefined;
  const submittedAt = typeof o.submitted_at === 'string' ? o.submitted_at : typeof o.created_at === 'string' ? o.created_at : undefined;
  return {
    id: o.id,
    // Multi-leg orders carry no top-level symbol or side.
    symbol: typeof o.symbol === 'string' ? o.symbol : '',
    qty: decimal(o.qty) ?? 0,
    side: typeof o.side === 'string' ? o.side : '',
    status: o.status,
    ...(submittedAt !== undefined ? { submittedAt } : {}),
  };
}

/** Alpaca sends short positions with side "short" (and a negative qty); either way the result is negative. */
function signedQty(qty: number, side: unknown): number {
  if (side === 'short') return -Math.abs(qty);
  if (side === 'long') return Math.abs(qty);
  return qty;
}

/** A decimal that Alpaca sends as a string ("10", "-3.5"), or a plain number. */
function decimal(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : undefined;
}

function integer(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

function isTimestamp(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function unexpectedStatus<T>(label: string, status: number, body: unknown): BrokerRead<T> {
  const m = bodyMessage(body);
  return unavailable(`${label}: unexpected HTTP ${status}${m ? `: ${m}` : ''}`);
}

function unexpectedShape<T>(label: string, expected: string): BrokerRead<T> {
  return unavailable(`${label}: unexpected answer (expected ${expected})`);
}

/** Removes credential values from text that came from elsewhere (a broker may echo a header). */
function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}
