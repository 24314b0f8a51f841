export interface LoadSummary {
  sent: number;
  ok: number;
  errors: number;
  /** HTTP status as a string ("201", "500"), or "network" | "timeout" | "aborted". */
  byStatus: Record<string, number>;
  errorRate: number;
}
export interface LoadOptions {
  /** Base URL of the execution gateway; orders go to `${url}/orders`. */
  url: string;
  rps?: number;
  /** 0 = until `signal` aborts or `total` orders were sent. */
  durationSeconds?: number;
  total?: number;
  signal?: AbortSignal;
  seed?: number;
  timeoutMs?: number;
}
export const SYMBOLS: string[];
export function makeOrder(i: number, rand: () => number): { symbol: string; qty: number; side: 'buy' | 'sell'; type: 'market' };
export function runLoad(options: LoadOptions): Promise<LoadSummary>;
