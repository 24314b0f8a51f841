import { redactSecrets, resolveHeaders, type HeaderSpec } from '../platform/headers.js';

export type JsonFieldRead = { kind: 'value'; value: string | number | boolean } | { kind: 'error'; reason: string };

/** Reads one field (dot path, e.g. "breaker.state") of a JSON answer; anything missing is an error, never a default. */
export async function readJsonField(url: string, fieldPath: string, timeoutMs = 2000, headerSpec?: Record<string, HeaderSpec>): Promise<JsonFieldRead> {
  const extra = resolveHeaders(headerSpec);
  if (extra.kind === 'missing') return { kind: 'error', reason: `${url} not asked: ${extra.reason}` };
  const read = await readWith(url, fieldPath, timeoutMs, extra.headers);
  return read.kind === 'error' ? { kind: 'error', reason: redactSecrets(read.reason, extra.secrets) } : read;
}

async function readWith(url: string, fieldPath: string, timeoutMs: number, headers: Record<string, string>): Promise<JsonFieldRead> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json', ...headers } });
    if (!res.ok) return { kind: 'error', reason: `HTTP ${res.status} from ${url}` };
    let node: unknown = await res.json();
    for (const part of fieldPath.split('.')) {
      if (node === null || typeof node !== 'object' || !(part in node)) return { kind: 'error', reason: `field ${fieldPath} is missing in the answer of ${url}` };
      node = (node as Record<string, unknown>)[part];
    }
    if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') return { kind: 'value', value: node };
    return { kind: 'error', reason: `field ${fieldPath} of ${url} is not a string, number or boolean` };
  } catch (err) {
    return { kind: 'error', reason: (err as Error).name === 'TimeoutError' ? `no answer from ${url} within ${timeoutMs}ms` : `${url}: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}` };
  }
}
