/**
 * The broker port: what the emergency runbooks (kill switch, reconciliation, deployment window)
 * need from a broker. Two implementations sit beside this file: `alpaca.ts` (Alpaca Trading API
 * v2, paper or live) and `paper.ts` (the sample stack's in-memory paper broker); `factory.ts`
 * builds one from the `trading.broker` config.
 *
 * Fail closed: every read says whether it knows. A broker that cannot be reached, refuses the
 * credentials or answers something unexpected is `unavailable`, never "no open orders" or
 * "flat". Nothing here throws for a broker problem, and no reason ever contains a credential.
 */

export interface BrokerOrder {
  id: string;
  symbol: string;
  /** Ordered quantity (0 when the broker gives none, e.g. a notional order). */
  qty: number;
  /** buy or sell, as the broker says it. */
  side: string;
  /** The broker's status word, e.g. new, accepted, partially_filled, pending_cancel (Alpaca) or open (paper). */
  status: string;
  /** ISO-8601 submission time, when the broker gives one. */
  submittedAt?: string;
}

/** One position; qty is signed: a short position is negative. */
export interface BrokerPosition {
  symbol: string;
  qty: number;
}

/**
 * The outcome of asking to cancel one order. `ok` means the broker accepted the cancel request,
 * not that the order is gone: Alpaca cancels asynchronously (`pending_cancel`), so callers confirm
 * with `openOrders()`. `status` is the broker's HTTP status for this order (0: no answer).
 */
export interface CancelResult {
  id: string;
  ok: boolean;
  status: number;
  reason?: string;
}

/** The outcome of asking to close one position (a closing order was accepted when `ok`). */
export interface ClosePositionResult {
  symbol: string;
  ok: boolean;
  status: number;
  reason?: string;
  /** The closing order, when the broker placed one. */
  orderId?: string;
}

/** A read that either knows (`ok`) or says why it does not (`unavailable`); never a guess. */
export type BrokerRead<T> = { kind: 'ok'; value: T } | { kind: 'unavailable'; reason: string };

export interface BrokerAccount {
  id: string;
  /** e.g. ACTIVE (Alpaca account status). */
  status: string;
  /** True when the account may not place orders (Alpaca: trading_blocked, account_blocked or trade_suspended_by_user). */
  tradingBlocked: boolean;
  equity?: number;
}

export interface BrokerClock {
  isOpen: boolean;
  /** ISO-8601 with the exchange's offset, e.g. 2024-03-25T09:30:00-04:00. */
  nextOpen: string;
  nextClose: string;
}

/** One trading day: date YYYY-MM-DD, open and close HH:MM in New York time (early closes included). */
export interface BrokerCalendarDay {
  date: string;
  open: string;
  close: string;
}

export interface CloseAllOptions {
  /** Ask the broker to cancel open orders first (Alpaca `cancel_orders=true`). Default false, as Alpaca. */
  cancelOrders?: boolean;
}

export interface Broker {
  /** e.g. "alpaca (paper)", "paper"; never contains a credential. */
  readonly name: string;
  account(): Promise<BrokerRead<BrokerAccount>>;
  /** Every order the broker still considers open (pending_cancel included), all pages. */
  openOrders(): Promise<BrokerRead<BrokerOrder[]>>;
  /** One cancel request for every open order; one result per order the broker tried. */
  cancelAllOrders(): Promise<BrokerRead<CancelResult[]>>;
  cancelOrder(id: string): Promise<CancelResult>;
  positions(): Promise<BrokerRead<BrokerPosition[]>>;
  /** Liquidates every position; one result per symbol. */
  closeAllPositions(options?: CloseAllOptions): Promise<BrokerRead<ClosePositionResult[]>>;
  clock?(): Promise<BrokerRead<BrokerClock>>;
  /** Trading days from start to end inclusive (YYYY-MM-DD). */
  calendar?(start: string, end: string): Promise<BrokerRead<BrokerCalendarDay[]>>;
}

export const ok = <T>(value: T): BrokerRead<T> => ({ kind: 'ok', value });
export const unavailable = <T = never>(reason: string): BrokerRead<T> => ({ kind: 'unavailable', reason });
