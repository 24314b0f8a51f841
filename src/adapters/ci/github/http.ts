// The transport of the GitHub client: one origin, the token only for it, pages followed through
// `Link: rel="next"`, and every failure as a GitHubError with a sentence that never holds the token.

import type { GitHubOptions } from './types.js';

export function assertId(id: number, what: string): void {
  if (!Number.isSafeInteger(id) || id <= 0) throw new GitHubError(`invalid ${what} id ${id}`, 'bad-response');
}

export function parseJson(text: string): unknown {
  try {
    return text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

export const GITHUB_API_VERSION = '2022-11-28';
const PER_PAGE = 100;
/** 50 pages x 100 = 5 000 items; GitHub itself caps check runs well below that. */
const MAX_PAGES = 50;
const DEFAULT_TIMEOUT_MS = 10_000;

export type GitHubErrorKind =
  | 'unreachable'
  | 'timeout'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'rate-limited'
  | 'http'
  | 'bad-response';

export class GitHubError extends Error {
  override readonly name = 'GitHubError';
  constructor(
    message: string,
    readonly kind: GitHubErrorKind,
    readonly status?: number,
  ) {
    super(message);
  }
}

export type Json = Record<string, unknown>;

export function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function optString(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(link: string | null): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (!m) continue;
    const rels = /\brel\s*=\s*"?([^";]*)"?/i.exec(m[2] ?? '')?.[1]?.split(/\s+/) ?? [];
    if (rels.includes('next')) return m[1];
  }
  return undefined;
}

export class GitHubHttp {
  private readonly base: URL;
  private readonly owner: string;
  private readonly name: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(opts: GitHubOptions) {
    const m = /^([\w.-]+)\/([\w.-]+)$/.exec(opts.repo);
    if (!m) throw new Error(`github repo must be "owner/name", got ${JSON.stringify(opts.repo)}`);
    this.owner = m[1]!;
    this.name = m[2]!;
    let base: URL;
    try {
      base = new URL(opts.apiUrl);
    } catch {
      throw new Error(`github apiUrl is not a URL: ${JSON.stringify(opts.apiUrl)}`);
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error(`github apiUrl must be http(s): ${base.origin}`);
    if (base.username || base.password) throw new Error('github apiUrl must not carry credentials; use token');
    base.search = '';
    base.hash = '';
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.base = base;
    this.token = opts.token && opts.token.length > 0 ? opts.token : undefined;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get repo(): string {
    return `${this.owner}/${this.name}`;
  }
  repoUrl(path: string): URL {
    return new URL(`repos/${encodeURIComponent(this.owner)}/${encodeURIComponent(this.name)}/${path}`, this.base);
  }

  /** One request; the token goes only to the API origin, never to a redirect target elsewhere. */
  async send(method: 'GET' | 'POST', url: URL, withToken: boolean): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/vnd.github+json', 'x-github-api-version': GITHUB_API_VERSION, 'user-agent': 'shipgate' };
    if (withToken && this.token && url.origin === this.base.origin) headers.authorization = `Bearer ${this.token}`;
    try {
      return await fetch(url, { method, headers, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs * 6) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new GitHubError(`no answer from ${url.origin} (${method} ${url.pathname})`, 'timeout');
      throw new GitHubError(`cannot reach ${url.origin}: ${e.cause?.code ?? e.cause?.message ?? e.message} (${method} ${url.pathname})`, 'unreachable');
    }
  }

  // ---------------------------------------------------------------- transport

  /** Collects every page. `key` names the array inside object pages; without it a page is the array itself. */
  async paginate(path: string, key?: string, onPage?: (page: Json) => void, query: Record<string, string> = {}): Promise<Json[]> {
    const first = new URL(`repos/${encodeURIComponent(this.owner)}/${encodeURIComponent(this.name)}/${path}`, this.base);
    for (const [k, v] of Object.entries(query)) first.searchParams.set(k, v);
    first.searchParams.set('per_page', String(PER_PAGE));
    const items: Json[] = [];
    let url: URL | undefined = first;
    const seen = new Set<string>();
    for (let page = 1; url; page++) {
      if (page > MAX_PAGES) throw new GitHubError(`more than ${MAX_PAGES} pages from ${first.pathname}; stopped`, 'bad-response');
      if (seen.has(url.href)) throw new GitHubError(`pagination loop at ${url.pathname}`, 'bad-response');
      seen.add(url.href);
      const { body, next } = await this.get(url);
      let list: unknown;
      if (key === undefined) list = body;
      else {
        if (!isRecord(body)) throw new GitHubError(`unexpected answer from ${url.pathname}: not an object`, 'bad-response');
        onPage?.(body);
        list = body[key];
      }
      if (!Array.isArray(list)) throw new GitHubError(`unexpected answer from ${url.pathname}: no ${key ?? 'array'}`, 'bad-response');
      for (const item of list) {
        if (!isRecord(item)) throw new GitHubError(`unexpected item in answer from ${url.pathname}`, 'bad-response');
        items.push(item);
      }
      url = next;
    }
    return items;
  }

  async get(url: URL): Promise<{ body: unknown; next: URL | undefined }> {
    const headers: Record<string, string> = {
      accept: 'application/vnd.github+json',
      'x-github-api-version': GITHUB_API_VERSION,
      'user-agent': 'shipgate',
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const where = `GET ${url.pathname}`;
    let res: Response;
    try {
      res = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new GitHubError(`no answer from ${url.origin} within ${this.timeoutMs}ms (${where})`, 'timeout');
      }
      const cause = e.cause?.code ?? e.cause?.message ?? e.message;
      throw new GitHubError(`cannot reach ${url.origin}: ${cause} (${where})`, 'unreachable');
    }
    const text = await res.text().catch(() => '');
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!res.ok) throw this.httpError(res, body, where);
    if (body === undefined) throw new GitHubError(`unexpected answer from ${where}: HTTP ${res.status} without JSON body`, 'bad-response');

    const nextHref = nextLink(res.headers.get('link'));
    let next: URL | undefined;
    if (nextHref !== undefined) {
      try {
        next = new URL(nextHref, url);
      } catch {
        throw new GitHubError(`unparseable pagination link from ${where}`, 'bad-response');
      }
      // Never follow a link (and so never send the token) to a different server.
      if (next.origin !== this.base.origin) {
        throw new GitHubError(`refused to follow pagination link from ${where} to another origin (${next.origin})`, 'bad-response');
      }
    }
    return { body, next };
  }

  httpError(res: Response, body: unknown, where: string): GitHubError {
    const raw = isRecord(body) ? optString(body.message) : undefined;
    const message = raw ? ` "${this.redact(raw).slice(0, 200)}"` : '';
    const h = res.headers;
    const status = res.status;
    if ((status === 403 || status === 429) && h.get('x-ratelimit-remaining') === '0') {
      const reset = Number(h.get('x-ratelimit-reset'));
      const when = Number.isFinite(reset) && reset > 0 ? `; resets at ${new Date(reset * 1000).toISOString()}` : '';
      return new GitHubError(`GitHub API rate limit exhausted (HTTP ${status}${when}) at ${where}`, 'rate-limited', status);
    }
    const retryAfter = h.get('retry-after');
    if (status === 429 || ((status === 403) && (retryAfter !== null || /rate limit/i.test(raw ?? '')))) {
      const wait = retryAfter !== null ? `; retry after ${retryAfter}s` : '';
      return new GitHubError(`GitHub secondary rate limit hit (HTTP ${status}${wait})${message} at ${where}`, 'rate-limited', status);
    }
    if (status === 401) {
      const hint = this.token ? 'the configured token was rejected' : 'no token is configured';
      return new GitHubError(`GitHub answered 401 Unauthorized${message}: ${hint} (${where})`, 'unauthorized', status);
    }
    if (status === 403) {
      return new GitHubError(`GitHub answered 403 Forbidden${message}: the token lacks permission (${where})`, 'forbidden', status);
    }
    if (status === 404) {
      const hint = this.token ? 'repository, commit or pull request not found, or the token cannot see it' : 'not found (a private repository needs a token)';
      return new GitHubError(`GitHub answered 404 Not Found${message}: ${hint} (${where})`, 'not-found', status);
    }
    if (status >= 300 && status < 400) {
      return new GitHubError(`GitHub answered a ${status} redirect for ${where}; not followed (check apiUrl)`, 'http', status);
    }
    return new GitHubError(`GitHub answered HTTP ${status}${message} (${where})`, 'http', status);
  }

  redact(s: string): string {
    return this.token ? s.split(this.token).join('***') : s;
  }

  describe(err: unknown): string {
    const msg = err instanceof Error ? err.message : String(err);
    return this.redact(msg);
  }
}
