import { getText } from '../http/get-text.js';
import { parseExposition, type Sample } from './exposition.js';

/** `families`: the wanted families the payload holds (declared or sampled); `skipped`: the names of the others. */
export type ScrapeResult = { kind: 'samples'; samples: Sample[]; families: string[]; skipped: ReadonlySet<string> } | { kind: 'error'; reason: string };

/**
 * Fetches and parses one /metrics endpoint. A failure is reported, never turned into zeros.
 * `metrics`: the only metric names wanted (each also as `<name>_bucket`); other lines are skipped unparsed.
 */
export async function scrapeMetrics(url: string, timeoutMs = 2000, metrics?: ReadonlySet<string>, keepSkipped = false): Promise<ScrapeResult> {
  const answer = await getText(url, timeoutMs, { accept: 'text/plain;version=0.0.4' });
  if (answer.kind === 'timeout') return { kind: 'error', reason: `no answer from ${url} within ${timeoutMs}ms` };
  if (answer.kind === 'failed') return { kind: 'error', reason: `${url}: ${answer.reason}` };
  if (answer.status < 200 || answer.status > 299) return { kind: 'error', reason: `HTTP ${answer.status} from ${url}` };
  try {
    const parsed = parseExposition(answer.text, metrics, keepSkipped);
    return { kind: 'samples', samples: parsed.samples, families: [...parsed.families.keys()], skipped: parsed.skipped };
  } catch (err) {
    return { kind: 'error', reason: `${url}: ${(err as Error).message}` };
  }
}
