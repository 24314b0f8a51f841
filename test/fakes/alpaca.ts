// A local stand-in for the Alpaca Trading API v2 endpoints shipgate's broker adapter uses,
// answering with Alpaca's documented response shapes (https://docs.alpaca.markets/reference):
// decimals as JSON strings, nanosecond timestamps, 207 Multi-Status for the bulk cancels and
// closes, `{code, message}` error bodies, X-RateLimit-* headers on every answer. Requests must
// carry APCA-API-KEY-ID / APCA-API-SECRET-KEY (401 when missing, 403 when wrong).
//
// Scriptable: open orders (many, or many within one millisecond to exercise paging), orders
// whose cancel fails on the first K attempts (500 in the 207 body / on DELETE /v2/orders/{id}),
// orders that are never cancelable (422), asynchronous cancels (an accepted cancel leaves the
// order `pending_cancel`, still listed as open, for `cancelDelayMs`), 429 with or without
// Retry-After for the next M requests, and "down" modes (503 or connection refused).
// Listens on 127.0.0.1:0.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAlpacaOrder {
  id: string;
  client_order_id: string;
  symbol: string;
  qty: number;
  side: 'buy' | 'sell';
  type: 'market' | 'limit';
  limit_price: number | null;
  status: string;
  /** Submission time in nanoseconds since the epoch. */
  submittedNs: bigint;
  canceledAtMs?: number;
  /** When an accepted cancel turns the order `canceled`. */
  cancelDueMs?: number;
}

export interface FakeAlpacaPosition {
  symbol: string;
  /** Signed: negative is short. */
  qty: number;
  avgEntryPrice?: number;
}

export interface RecordedAlpacaRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface FakeAlpacaOptions {
  keyId?: string;
  secretKey?: string;
}

/** Statuses Alpaca counts as open (everything not final). */
const CLOSED = new Set(['filled', 'canceled', 'expired', 'replaced', 'rejected', 'done_for_day']);

const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'SPY', 'QQQ', 'AMD'];

export class FakeAlpaca {
  readonly requests: RecordedAlpacaRequest[] = [];
  readonly orders = new Map<string, FakeAlpacaOrder>();
  positions: FakeAlpacaPosition[] = [];
  /** Order id -> cancel attempts that still fail with 500. */
  readonly cancelFailures = new Map<string, number>();
  /** Orders whose cancel is always refused with 422 "order is not cancelable". */
  readonly notCancelable = new Set<string>();
  /** Symbol -> failure of its close in DELETE /v2/positions (e.g. 403 insufficient qty). */
  readonly closeFailures = new Map<string, { status: number; message: string }>();
  /** How long an accepted cancel stays `pending_cancel`. */
  cancelDelayMs = 0;
  /** The next this-many requests are answered 429. */
  rateLimitNext = 0;
  /** Retry-After sent with a 429 (undefined: none, only X-RateLimit-Reset). */
  retryAfter: string | undefined = '1';
  /** Seconds until X-RateLimit-Reset, from now. */
  rateLimitResetSeconds = 1;
  /** Sends short positions with a positive qty (side still "short"), to test the adapter's defence. */
  shortQtyPositive = false;
  /** '503': answer every request 503; 'refused': not listening at all (see goDown). */
  down: 'no' | '503' | 'refused' = 'no';
  account: Record<string, unknown>;
  clock: Record<string, unknown> = {
    timestamp: '2024-03-22T16:36:27.528041708-04:00',
    is_open: false,
    next_open: '2024-03-25T09:30:00-04:00',
    next_close: '2024-03-25T16:00:00-04:00',
  };
  calendar: Record<string, unknown>[] = [
    { date: '2024-11-27', open: '09:30', close: '16:00', session_open: '0400', session_close: '2000', settlement_date: '2024-11-29' },
    { date: '2024-11-29', open: '09:30', close: '13:00', session_open: '0400', session_close: '2000', settlement_date: '2024-12-02' },
    { date: '2024-12-02', open: '09:30', close: '16:00', session_open: '0400', session_close: '2000', settlement_date: '2024-12-03' },
  ];

  private nextNs = BigInt(Date.UTC(2024, 2, 27, 13, 28, 13)) * 1_000_000n;
  private server: http.Server;
  readonly port: number;

  private constructor(server: http.Server, port: number, readonly keyId: string, readonly secretKey: string) {
    this.server = server;
    this.port = port;
    this.account = {
      id: '1d9eed04-be39-4e01-9b84-a48ac5bbafcf',
      account_number: 'PA3FAKE12345',
      status: 'ACTIVE',
      crypto_status: 'ACTIVE',
      currency: 'USD',
      buying_power: '245432.61',
      regt_buying_power: '245432.61',
      options_buying_power: '122716.305',
      non_marginable_buying_power: '122086.5',
      cash: '122086.5',
      accrued_fees: '0',
      portfolio_value: '123346.11',
      pattern_day_trader: false,
      trading_blocked: false,
      transfers_blocked: false,
      account_blocked: false,
      created_at: '2023-01-01T18:20:20.272275Z',
      trade_suspended_by_user: false,
      multiplier: '2',
      shorting_enabled: true,
      equity: '123346.11',
      last_equity: '122011.09751111286868',
      long_market_value: '1259.61',
      short_market_value: '0',
      initial_margin: '629.805',
      maintenance_margin: '377.883',
      sma: '0',
      daytrade_count: 0,
    };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(opts: FakeAlpacaOptions = {}): Promise<FakeAlpaca> {
    let fake: FakeAlpaca | undefined;
    const server = http.createServer((req, res) => fake!.dispatch(req, res));
    await listen(server, 0);
    const { port } = server.address() as AddressInfo;
    fake = new FakeAlpaca(server, port, opts.keyId ?? 'PKFAKE0123456789ABCD', opts.secretKey ?? 'fake-secret-0123456789abcdefghijklmnopqrs');
    return fake;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** 'refused': stops listening (connections are refused); '503': answers 503 to everything. */
  async goDown(how: '503' | 'refused'): Promise<void> {
    this.down = how;
    if (how === 'refused') await this.close();
  }

  /** Listens again on the same port and answers normally. */
  async goUp(): Promise<void> {
    this.down = 'no';
    if (!this.server.listening) {
      this.server = http.createServer((req, res) => this.dispatch(req, res));
      await listen(this.server, this.port);
    }
  }

  /**
   * Adds `n` open limit orders (status "new"); returns their ids, oldest first. With
   * `sameMillisecond`, all are submitted within one millisecond (distinct nanoseconds).
   */
  addOrders(n: number, opts: { sameMillisecond?: boolean; status?: string } = {}): string[] {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      this.nextNs += opts.sameMillisecond ? 1_000n : 1_234_567n; // 1µs, or ~1.2ms apart
      const id = randomUUID();
      const symbol = SYMBOLS[this.orders.size % SYMBOLS.length]!;
      this.orders.set(id, {
        id,
        client_order_id: randomUUID(),
        symbol,
        qty: 1 + (this.orders.size % 50),
        side: this.orders.size % 2 === 0 ? 'buy' : 'sell',
        type: 'limit',
        limit_price: 100 + (this.orders.size % 7),
        status: opts.status ?? 'new',
        submittedNs: this.nextNs,
      });
      ids.push(id);
    }
    if (opts.sameMillisecond) this.nextNs += 1_000_000n;
    return ids;
  }

  /** Orders Alpaca would list with status=open, after settling due cancels. */
  openOrders(): FakeAlpacaOrder[] {
    this.settle();
    return [...this.orders.values()].filter((o) => !CLOSED.has(o.status));
  }

  /** Requests that reached the API (auth and rate limit included), as "METHOD /path?query". */
  calls(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }

  // ---------------------------------------------------------------------------------------------

  private dispatch(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 50010000, message: `fake crashed: ${String(err)}` }));
    });
  }

  private rateHeaders(): Record<string, string> {
    return {
      'x-ratelimit-limit': '200',
      'x-ratelimit-remaining': this.rateLimitNext > 0 ? '0' : '199',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + this.rateLimitResetSeconds),
    };
  }

  private send(res: http.ServerResponse, status: number, body?: unknown, extra: Record<string, string> = {}): void {
    if (body === undefined) {
      res.writeHead(status, { ...this.rateHeaders(), ...extra }).end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': String(Buffer.byteLength(text)), ...this.rateHeaders(), ...extra });
    res.end(text);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers });
    for await (const _ of req) {
      // drain the body; none of these endpoints reads one
    }

    if (this.down === '503') {
      res.writeHead(503, { 'content-type': 'text/html' }).end('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
      return;
    }
    if (this.rateLimitNext > 0) {
      this.rateLimitNext--;
      return this.send(res, 429, { code: 42910000, message: 'rate limit exceeded' }, this.retryAfter !== undefined ? { 'retry-after': this.retryAfter } : {});
    }
    const keyId = req.headers['apca-api-key-id'];
    const secret = req.headers['apca-api-secret-key'];
    if (keyId === undefined || secret === undefined) return this.send(res, 401, { code: 40110000, message: 'request is not authorized' });
    if (keyId !== this.keyId || secret !== this.secretKey) return this.send(res, 403, { code: 40310000, message: 'forbidden' });

    this.settle();
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    const q = url.searchParams;
    let m: RegExpExecArray | null;

    if (path === '/v2/account' && method === 'GET') return this.send(res, 200, this.account);
    if (path === '/v2/clock' && method === 'GET') return this.send(res, 200, this.clock);
    if (path === '/v2/calendar' && method === 'GET') {
      const start = q.get('start') ?? '1970-01-01';
      const end = q.get('end') ?? '2029-12-31';
      return this.send(res, 200, this.calendar.filter((d) => String(d.date) >= start && String(d.date) <= end));
    }
    if (path === '/v2/orders' && method === 'GET') return this.listOrders(res, q);
    if (path === '/v2/orders' && method === 'DELETE') {
      const results = [...this.orders.values()].filter((o) => !CLOSED.has(o.status)).map((o) => this.cancel(o));
      return this.send(res, 207, results.map((r) => ({ id: r.id, status: r.status, body: r.body })));
    }
    if ((m = /^\/v2\/orders\/([^/]+)$/.exec(path))) {
      const order = this.orders.get(decodeURIComponent(m[1]!));
      if (!order) return this.send(res, 404, { code: 40410000, message: 'order not found' });
      if (method === 'GET') return this.send(res, 200, this.orderJson(order));
      if (method === 'DELETE') {
        const r = this.cancel(order);
        return r.status === 200 ? this.send(res, 204) : this.send(res, r.status, r.body);
      }
    }
    if (path === '/v2/positions' && method === 'GET') return this.send(res, 200, this.positions.map((p) => this.positionJson(p)));
    if (path === '/v2/positions' && method === 'DELETE') {
      if (q.get('cancel_orders') === 'true') for (const o of this.openOrders()) this.cancel(o);
      const results: unknown[] = [];
      const keep: FakeAlpacaPosition[] = [];
      for (const p of this.positions) {
        const failure = this.closeFailures.get(p.symbol);
        if (failure) {
          keep.push(p);
          results.push({
            symbol: p.symbol,
            status: failure.status,
            body: { code: failure.status * 100_000, message: failure.message, available: '0', existing_qty: String(Math.abs(p.qty)), held_for_orders: String(Math.abs(p.qty)), symbol: p.symbol },
          });
          continue;
        }
        this.nextNs += 1_000_000n;
        const order: FakeAlpacaOrder = {
          id: randomUUID(),
          client_order_id: randomUUID(),
          symbol: p.symbol,
          qty: Math.abs(p.qty),
          side: p.qty < 0 ? 'buy' : 'sell',
          type: 'market',
          limit_price: null,
          status: 'accepted',
          submittedNs: this.nextNs,
        };
        results.push({ symbol: p.symbol, status: 200, body: this.orderJson(order) });
        // The closing market order fills at once in this fake; the position is gone.
        order.status = 'filled';
        this.orders.set(order.id, order);
      }
      this.positions = keep;
      return this.send(res, 207, results);
    }
    if (/^\/v2\/(account|clock|calendar|orders|positions)/.test(path)) return this.send(res, 405, { code: 40510000, message: 'method not allowed' });
    return this.send(res, 404, { code: 40410000, message: 'endpoint not found' });
  }

  private listOrders(res: http.ServerResponse, q: URLSearchParams): void {
    const status = q.get('status') ?? 'open';
    if (!['open', 'closed', 'all'].includes(status)) return this.send(res, 422, { code: 40010001, message: 'invalid status' });
    const limitText = q.get('limit');
    const limit = limitText === null ? 50 : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1) return this.send(res, 422, { code: 40010001, message: 'invalid limit' });
    const direction = q.get('direction') ?? 'desc';
    if (direction !== 'asc' && direction !== 'desc') return this.send(res, 422, { code: 40010001, message: 'invalid direction' });
    const after = q.get('after');
    const until = q.get('until');
    const afterNs = after === null ? undefined : parseNs(after);
    const untilNs = until === null ? undefined : parseNs(until);
    if (afterNs === null || untilNs === null) return this.send(res, 422, { code: 40010001, message: 'invalid timestamp' });
    let list = [...this.orders.values()].filter((o) => (status === 'all' ? true : status === 'open' ? !CLOSED.has(o.status) : CLOSED.has(o.status)));
    if (afterNs !== undefined) list = list.filter((o) => o.submittedNs > afterNs);
    if (untilNs !== undefined) list = list.filter((o) => o.submittedNs < untilNs);
    list.sort((a, b) => (a.submittedNs < b.submittedNs ? -1 : a.submittedNs > b.submittedNs ? 1 : 0));
    if (direction === 'desc') list.reverse();
    return this.send(res, 200, list.slice(0, Math.min(limit, 500)).map((o) => this.orderJson(o)));
  }

  /** One cancel attempt, as both DELETE endpoints see it. */
  private cancel(order: FakeAlpacaOrder): { id: string; status: number; body: unknown } {
    if (CLOSED.has(order.status) || this.notCancelable.has(order.id)) {
      return { id: order.id, status: 422, body: { code: 42210000, message: 'order is not cancelable' } };
    }
    const failures = this.cancelFailures.get(order.id) ?? 0;
    if (failures > 0) {
      this.cancelFailures.set(order.id, failures - 1);
      return { id: order.id, status: 500, body: { code: 50010000, message: 'internal server error occurred' } };
    }
    if (order.status !== 'pending_cancel') {
      order.status = 'pending_cancel';
      order.cancelDueMs = Date.now() + this.cancelDelayMs;
    }
    this.settle();
    return { id: order.id, status: 200, body: this.orderJson(order) };
  }

  private settle(): void {
    const now = Date.now();
    for (const o of this.orders.values()) {
      if (o.status === 'pending_cancel' && o.cancelDueMs !== undefined && o.cancelDueMs <= now) {
        o.status = 'canceled';
        o.canceledAtMs = now;
      }
    }
  }

  private orderJson(o: FakeAlpacaOrder): Record<string, unknown> {
    const submitted = formatNs(o.submittedNs);
    const canceled = o.canceledAtMs !== undefined ? new Date(o.canceledAtMs).toISOString() : null;
    return {
      id: o.id,
      client_order_id: o.client_order_id,
      created_at: submitted,
      updated_at: canceled ?? submitted,
      submitted_at: submitted,
      filled_at: o.status === 'filled' ? submitted : null,
      expired_at: null,
      canceled_at: canceled,
      failed_at: null,
      replaced_at: null,
      replaced_by: null,
      replaces: null,
      asset_id: 'b0b6dd9d-8b9b-48a9-ba46-b9d54906e415',
      symbol: o.symbol,
      asset_class: 'us_equity',
      notional: null,
      qty: String(o.qty),
      filled_qty: o.status === 'filled' ? String(o.qty) : '0',
      filled_avg_price: o.status === 'filled' ? String(o.limit_price ?? 100) : null,
      order_class: '',
      order_type: o.type,
      type: o.type,
      side: o.side,
      position_intent: o.side === 'buy' ? 'buy_to_open' : 'sell_to_close',
      time_in_force: 'day',
      limit_price: o.limit_price === null ? null : String(o.limit_price),
      stop_price: null,
      status: o.status,
      extended_hours: false,
      legs: null,
      trail_percent: null,
      trail_price: null,
      hwm: null,
      subtag: null,
      source: null,
    };
  }

  private positionJson(p: FakeAlpacaPosition): Record<string, unknown> {
    const price = p.avgEntryPrice ?? 100;
    const short = p.qty < 0;
    const qty = this.shortQtyPositive ? Math.abs(p.qty) : p.qty;
    const value = (p.qty * price).toFixed(2);
    return {
      asset_id: '904837e3-3b76-47ec-b432-046db621571b',
      symbol: p.symbol,
      exchange: 'NASDAQ',
      asset_class: 'us_equity',
      asset_marginable: true,
      qty: String(qty),
      qty_available: String(qty),
      avg_entry_price: price.toFixed(2),
      side: short ? 'short' : 'long',
      market_value: value,
      cost_basis: value,
      unrealized_pl: '0',
      unrealized_plpc: '0',
      unrealized_intraday_pl: '0',
      unrealized_intraday_plpc: '0',
      current_price: price.toFixed(2),
      lastday_price: price.toFixed(2),
      change_today: '0',
    };
  }
}

function listen(server: http.Server, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** RFC 3339 with up to nine fraction digits, as Alpaca writes it. */
function formatNs(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${fraction}Z`;
}

/** A timestamp query parameter to nanoseconds; null when it is not one. */
function parseNs(text: string): bigint | null {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text.trim());
  if (!m) {
    const d = Date.parse(text);
    return Number.isNaN(d) ? null : BigInt(d) * 1_000_000n;
  }
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(seconds)) return null;
  return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}
