import { redactSecrets, resolveHeaders, type HeaderSpec } from './headers.js';

/** One of the platform's runbook endpoints, as configured (trading.actions.*). */
export interface HttpActionSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, HeaderSpec> | undefined;
  body?: Record<string, unknown> | undefined;
  expect?: number | number[] | undefined;
  verify?: { field: string; equals: string | number | boolean } | undefined;
  timeout: number;
}

/** What happened, safe to print and store: never a header value, never the answer's body. */
export interface ActionOutcome {
  action: string;
  method: string;
  url: string;
  ok: boolean;
  status: number | null;
  detail: string;
}

/** Values for {reason}, {actor}, {env}, {at} in the body's strings. */
export type ActionVariables = Record<'reason' | 'actor' | 'env' | 'at', string>;

export function fillBody(body: unknown, vars: ActionVariables): unknown {
  if (typeof body === 'string') return body.replace(/\{(reason|actor|env|at)\}/g, (_, k: keyof ActionVariables) => vars[k]);
  if (Array.isArray(body)) return body.map((b) => fillBody(b, vars));
  if (body && typeof body === 'object') return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, fillBody(v, vars)]));
  return body;
}

function fieldAt(node: unknown, path: string): unknown {
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object' || !(part in node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

export async function callAction(name: string, spec: HttpActionSpec, vars: ActionVariables, env: NodeJS.ProcessEnv = process.env): Promise<ActionOutcome> {
  const base = { action: name, method: spec.method, url: redactSecrets(spec.url, []) };
  const resolved = resolveHeaders(spec.headers, env);
  if (resolved.kind === 'missing') return { ...base, ok: false, status: null, detail: `not called: ${resolved.reason}` };
  const clean = (text: string) => redactSecrets(text, resolved.secrets);
  const body = spec.body === undefined ? undefined : JSON.stringify(fillBody(spec.body, vars));
  try {
    const res = await fetch(spec.url, {
      method: spec.method,
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...resolved.headers },
      body,
      signal: AbortSignal.timeout(spec.timeout),
    });
    const text = await res.text();
    const expected = spec.expect === undefined ? undefined : [spec.expect].flat();
    const statusOk = expected ? expected.includes(res.status) : res.status >= 200 && res.status < 300;
    if (!statusOk) return { ...base, ok: false, status: res.status, detail: clean(`HTTP ${res.status}, expected ${expected ? expected.join(' or ') : '2xx'}`) };
    if (!spec.verify) return { ...base, ok: true, status: res.status, detail: `HTTP ${res.status}` };
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      return { ...base, ok: false, status: res.status, detail: `HTTP ${res.status} but the answer is not JSON, so ${spec.verify.field} cannot be verified` };
    }
    const got = fieldAt(answer, spec.verify.field);
    const ok = got === spec.verify.equals;
    const shown = got === undefined ? 'absent' : JSON.stringify(got);
    return { ...base, ok, status: res.status, detail: clean(`HTTP ${res.status}; ${spec.verify.field} ${shown}${ok ? '' : `, expected ${JSON.stringify(spec.verify.equals)}`}`) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { ...base, ok: false, status: null, detail: clean(e.name === 'TimeoutError' ? `no answer within ${spec.timeout}ms` : (e.cause?.code ?? e.message)) };
  }
}
