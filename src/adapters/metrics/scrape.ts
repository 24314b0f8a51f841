import { parseExposition, type Sample } from './exposition.js';

export type ScrapeResult = { kind: 'samples'; samples: Sample[] } | { kind: 'error'; reason: string };

/** Fetches and parses one /metrics endpoint. A failure is reported, never turned into zeros. */
export async function scrapeMetrics(url: string, timeoutMs = 2000): Promise<ScrapeResult> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'text/plain;version=0.0.4' } });
    if (!res.ok) return { kind: 'error', reason: `HTTP ${res.status} from ${url}` };
    return { kind: 'samples', samples: parseExposition(await res.text()).samples };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError') return { kind: 'error', reason: `no answer from ${url} within ${timeoutMs}ms` };
    return { kind: 'error', reason: `${url}: ${e.cause?.code ?? e.message}` };
  }
}
