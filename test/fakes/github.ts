// A local stand-in for the few GitHub REST endpoints shipgate reads, answering with the documented
// response shapes (the fields shipgate uses plus realistic extras), GitHub-style pagination
// (per_page default 30, max 100, `Link` header with next/last/first/prev, next links in the
// `/repositories/{id}/...` form GitHub itself uses), rate-limit headers on every answer, and
// switchable failure modes. Listens on 127.0.0.1:0.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeStatus {
  context: string;
  state: 'success' | 'failure' | 'error' | 'pending';
  target_url?: string | null;
  description?: string | null;
}

export interface FakeCheckRun {
  name: string;
  status: 'queued' | 'in_progress' | 'completed' | 'waiting' | 'requested' | 'pending';
  conclusion?:
    | 'success'
    | 'failure'
    | 'neutral'
    | 'cancelled'
    | 'skipped'
    | 'timed_out'
    | 'action_required'
    | 'stale'
    | null;
}

export interface FakePull {
  number: number;
  title: string;
  state: 'open' | 'closed';
  merged?: boolean;
  /** Commits this PR is associated with (what GET /commits/{sha}/pulls matches on). */
  shas: string[];
}

export interface FakeReview {
  user: string | null;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';
  /** ISO time; omitted for PENDING reviews like GitHub does. */
  submitted_at?: string;
}

export interface FakeWorkflowRun {
  id: number;
  name: string;
  head_sha: string;
  status: 'queued' | 'in_progress' | 'completed' | 'waiting' | 'requested' | 'pending';
  conclusion: string | null;
  event?: string;
  run_number?: number;
  run_attempt?: number;
}

export interface FakeJob {
  id: number;
  name: string;
  status: 'queued' | 'in_progress' | 'completed' | 'waiting';
  conclusion: string | null;
  steps: { number: number; name: string; status: string; conclusion: string | null }[];
}

export interface FakeGitHubSeed {
  /** Keyed by commit SHA (or any ref string the test uses). */
  statuses?: Record<string, FakeStatus[]>;
  checkRuns?: Record<string, FakeCheckRun[]>;
  pulls?: FakePull[];
  /** Keyed by PR number, chronological. */
  reviews?: Record<number, FakeReview[]>;
  workflowRuns?: FakeWorkflowRun[];
  /** Keyed by workflow run id. */
  jobs?: Record<number, FakeJob[]>;
  /** Plain-text job logs, keyed by job id (served through a redirect, like GitHub). */
  jobLogs?: Record<number, string>;
  /** Check-run annotations, keyed by check run id (an Actions job's id). */
  annotations?: Record<number, FakeAnnotation[]>;
}

export interface FakeAnnotation {
  path: string;
  start_line: number;
  annotation_level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

export type FakeFailure =
  | { kind: 'rate-limit' } // primary: 403 + x-ratelimit-remaining: 0
  | { kind: 'secondary-rate-limit' } // 403 + retry-after
  | { kind: 'status'; status: number; message?: string }; // e.g. 500, 502, 404

export interface FakeGitHubOptions {
  /** owner/name served; any other repository answers 404. Default acme/trading. */
  repo?: string;
  /** When set, requests must carry `authorization: Bearer <token>` (or `token <token>`); else 401. */
  token?: string;
  /** Path prefix, e.g. '/api/v3' to look like GitHub Enterprise Server. */
  basePath?: string;
  seed?: FakeGitHubSeed;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

const REPO_ID = 1296269;

export class FakeGitHub {
  readonly requests: RecordedRequest[] = [];
  seed: FakeGitHubSeed;
  /** Applies to every request while set. */
  failure: FakeFailure | undefined;
  /** While `failure` is set, let this many more requests succeed before it applies (unset = immediately). */
  failAfter: number | undefined;
  /** Hold every answer this long. */
  delayMs = 0;
  /** Replaces scheme+host of generated Link URLs (to test cross-origin pagination links). */
  linkOrigin: string | undefined;
  /** Run ids whose failed jobs were asked to re-run (POST .../rerun-failed-jobs). */
  readonly reruns: number[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    readonly repo: string,
    private readonly token: string | undefined,
    private readonly basePath: string,
    seed: FakeGitHubSeed,
  ) {
    this.seed = seed;
  }

  static async start(opts: FakeGitHubOptions = {}): Promise<FakeGitHub> {
    const basePath = (opts.basePath ?? '').replace(/\/+$/, '');
    let fake: FakeGitHub | undefined;
    const server = http.createServer((req, res) => {
      fake!.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `fake crashed: ${String(err)}` }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    fake = new FakeGitHub(server, `http://127.0.0.1:${port}${basePath}`, opts.repo ?? 'acme/trading', opts.token, basePath, opts.seed ?? {});
    return fake;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private rateHeaders(remaining: number): Record<string, string> {
    return {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-used': String(5000 - remaining),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
    };
  }

  private send(res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...this.rateHeaders(4999), ...extra });
    res.end(JSON.stringify(body));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const host = req.headers.host ?? '127.0.0.1';
    const url = new URL(req.url ?? '/', `http://${host}`);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers });
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const docs = 'https://docs.github.com/rest';

    // Log downloads live on another host at GitHub, behind a pre-signed URL: no token, and none expected.
    const download = /^\/_download\/job-logs\/(\d+)$/.exec(url.pathname);
    if (download) {
      const log = this.seed.jobLogs?.[Number(download[1])];
      if (log === undefined || url.searchParams.get('sig') !== 'signed') return this.send(res, 403, { message: 'AuthenticationFailed' });
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(log);
      return;
    }

    // Authentication comes first, like GitHub.
    if (this.token !== undefined) {
      const auth = req.headers.authorization;
      if (auth === undefined) return this.send(res, 401, { message: 'Requires authentication', documentation_url: docs, status: '401' });
      if (auth !== `Bearer ${this.token}` && auth !== `token ${this.token}`) {
        return this.send(res, 401, { message: 'Bad credentials', documentation_url: docs, status: '401' });
      }
    }

    const spared = this.failure !== undefined && this.failAfter !== undefined && this.failAfter > 0;
    if (spared) this.failAfter! -= 1;
    if (this.failure && !spared) {
      const f = this.failure;
      if (f.kind === 'rate-limit') {
        return this.send(
          res,
          403,
          { message: 'API rate limit exceeded for 127.0.0.1. (But here\'s the good news: Authenticated requests get a higher rate limit.)', documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting' },
          this.rateHeaders(0),
        );
      }
      if (f.kind === 'secondary-rate-limit') {
        return this.send(res, 403, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: docs }, { 'retry-after': '60' });
      }
      return this.send(res, f.status, { message: f.message ?? (f.status >= 500 ? 'Server Error' : 'Error'), documentation_url: docs });
    }

    const version = req.headers['x-github-api-version'];
    if (version !== undefined && version !== '2022-11-28') {
      return this.send(res, 400, { message: `API version ${String(version)} is not supported.`, documentation_url: docs });
    }
    const rerun = req.method === 'POST' ? /^(?:\/repos\/[^/]+\/[^/]+)\/actions\/runs\/(\d+)\/rerun-failed-jobs$/.exec(url.pathname.slice(this.basePath.length)) : null;
    if (rerun) {
      const run = (this.seed.workflowRuns ?? []).find((r) => r.id === Number(rerun[1]));
      if (!run) return this.send(res, 404, { message: 'Not Found', documentation_url: docs, status: '404' });
      if (run.status !== 'completed') return this.send(res, 403, { message: 'This workflow is already running', documentation_url: docs });
      this.reruns.push(run.id);
      return this.send(res, 201, {});
    }
    if (req.method !== 'GET') return this.send(res, 404, { message: 'Not Found', documentation_url: docs, status: '404' });

    // Strip the base path, then accept both /repos/{owner}/{repo}/... and /repositories/{id}/...
    let path = url.pathname;
    if (this.basePath) {
      if (!path.startsWith(this.basePath + '/')) return this.send(res, 404, { message: 'Not Found', documentation_url: docs, status: '404' });
      path = path.slice(this.basePath.length);
    }
    const [owner, name] = this.repo.split('/') as [string, string];
    let rest: string | undefined;
    const byName = /^\/repos\/([^/]+)\/([^/]+)(\/.*)$/.exec(path);
    const byId = /^\/repositories\/(\d+)(\/.*)$/.exec(path);
    if (byName && decodeURIComponent(byName[1]!).toLowerCase() === owner.toLowerCase() && decodeURIComponent(byName[2]!).toLowerCase() === name.toLowerCase()) {
      rest = byName[3];
    } else if (byId && Number(byId[1]) === REPO_ID) {
      rest = byId[2];
    }
    if (rest === undefined) return this.send(res, 404, { message: 'Not Found', documentation_url: docs, status: '404' });

    const api = `http://${host}${this.basePath}`;
    const repoApi = `${api}/repos/${owner}/${name}`;
    const page = <T,>(items: T[]) => this.paginate(url, items);
    let m: RegExpExecArray | null;

    if ((m = /^\/commits\/([^/]+)\/status$/.exec(rest))) {
      const sha = decodeURIComponent(m[1]!);
      const all = this.seed.statuses?.[sha] ?? [];
      const { items, link } = page(all);
      const states = all.map((s) => s.state);
      const combined = states.some((s) => s === 'failure' || s === 'error')
        ? 'failure'
        : states.length === 0 || states.includes('pending')
          ? 'pending'
          : 'success';
      return this.send(
        res,
        200,
        {
          state: combined,
          statuses: items.map((s, i) => ({
            url: `${repoApi}/statuses/${sha}`,
            avatar_url: 'https://avatars.githubusercontent.com/oa/4808?v=4',
            id: 1000 + i,
            node_id: `SC_kwDO${i}`,
            state: s.state,
            description: s.description ?? `${s.context} is ${s.state}`,
            target_url: s.target_url === undefined ? `https://ci.example.com/${encodeURIComponent(s.context)}/${sha}` : s.target_url,
            context: s.context,
            created_at: '2024-05-01T10:00:00Z',
            updated_at: '2024-05-01T10:05:00Z',
          })),
          sha,
          total_count: all.length,
          repository: this.repository(api),
          commit_url: `${repoApi}/commits/${sha}`,
          url: `${repoApi}/commits/${sha}/status`,
        },
        link,
      );
    }

    if ((m = /^\/commits\/([^/]+)\/check-runs$/.exec(rest))) {
      const sha = decodeURIComponent(m[1]!);
      const all = this.seed.checkRuns?.[sha] ?? [];
      const { items, link, offset } = page(all);
      return this.send(
        res,
        200,
        {
          total_count: all.length,
          check_runs: items.map((c, i) => {
            const id = 4000 + offset + i;
            const completed = c.status === 'completed';
            return {
              id,
              head_sha: sha,
              node_id: `CR_kwDO${id}`,
              external_id: '',
              url: `${repoApi}/check-runs/${id}`,
              html_url: `https://github.com/${owner}/${name}/runs/${id}`,
              details_url: `https://github.com/${owner}/${name}/runs/${id}`,
              status: c.status,
              conclusion: completed ? (c.conclusion ?? null) : null,
              started_at: '2024-05-01T10:00:00Z',
              completed_at: completed ? '2024-05-01T10:04:00Z' : null,
              output: { title: null, summary: null, text: null, annotations_count: 0, annotations_url: `${repoApi}/check-runs/${id}/annotations` },
              name: c.name,
              check_suite: { id: 5000 },
              app: { id: 15368, slug: 'github-actions', name: 'GitHub Actions' },
              pull_requests: [],
            };
          }),
        },
        link,
      );
    }

    if ((m = /^\/commits\/([^/]+)\/pulls$/.exec(rest))) {
      const sha = decodeURIComponent(m[1]!);
      const all = (this.seed.pulls ?? []).filter((p) => p.shas.includes(sha));
      const { items, link } = page(all);
      return this.send(res, 200, items.map((p) => this.pullSimple(p, repoApi, owner, name, sha)), link);
    }

    if ((m = /^\/pulls\/(\d+)\/reviews$/.exec(rest))) {
      const number = Number(m[1]);
      if (!(this.seed.pulls ?? []).some((p) => p.number === number)) return this.send(res, 404, { message: 'Not Found', documentation_url: docs, status: '404' });
      const all = this.seed.reviews?.[number] ?? [];
      const { items, link, offset } = page(all);
      return this.send(
        res,
        200,
        items.map((r, i) => {
          const id = 80_000 + number * 100 + offset + i;
          return {
            id,
            node_id: `PRR_kwDO${id}`,
            user: r.user === null ? null : { login: r.user, id: 1000 + r.user.length, type: 'User', site_admin: false },
            body: r.state === 'CHANGES_REQUESTED' ? 'Please fix.' : '',
            state: r.state,
            html_url: `https://github.com/${owner}/${name}/pull/${number}#pullrequestreview-${id}`,
            pull_request_url: `${repoApi}/pulls/${number}`,
            _links: { html: { href: `https://github.com/${owner}/${name}/pull/${number}#pullrequestreview-${id}` }, pull_request: { href: `${repoApi}/pulls/${number}` } },
            ...(r.state === 'PENDING' ? {} : { submitted_at: r.submitted_at ?? '2024-05-01T12:00:00Z' }),
            commit_id: 'f'.repeat(40),
            author_association: 'MEMBER',
          };
        }),
        link,
      );
    }

    if ((m = /^\/actions\/runs\/(\d+)$/.exec(rest))) {
      const r = (this.seed.workflowRuns ?? []).find((w) => w.id === Number(m![1]));
      if (!r) return this.send(res, 404, { message: 'Not Found', documentation_url: docs, status: '404' });
      return this.send(res, 200, this.workflowRun(r, repoApi, owner, name));
    }

    if ((m = /^\/actions\/jobs\/(\d+)\/logs$/.exec(rest))) {
      const id = Number(m[1]);
      const known = Object.values(this.seed.jobs ?? {}).some((jobs) => jobs.some((j) => j.id === id));
      if (!known || this.seed.jobLogs?.[id] === undefined) return this.send(res, 404, { message: 'Not Found', documentation_url: docs, status: '404' });
      res.writeHead(302, { location: `http://${host}/_download/job-logs/${id}?sig=signed`, ...this.rateHeaders(4999) });
      res.end();
      return;
    }

    if ((m = /^\/check-runs\/(\d+)\/annotations$/.exec(rest))) {
      const all = this.seed.annotations?.[Number(m[1])] ?? [];
      const { items, link } = page(all);
      return this.send(res, 200, items.map((a) => ({ path: a.path, start_line: a.start_line, end_line: a.start_line, start_column: null, end_column: null, annotation_level: a.annotation_level, title: a.title ?? '', message: a.message, raw_details: '', blob_href: `https://github.com/${owner}/${name}/blob/main/${a.path}` })), link);
    }

    if ((m = /^\/pulls\/(\d+)$/.exec(rest))) {
      const p = (this.seed.pulls ?? []).find((x) => x.number === Number(m![1]));
      if (!p) return this.send(res, 404, { message: 'Not Found', documentation_url: docs, status: '404' });
      return this.send(res, 200, this.pullSimple(p, repoApi, owner, name, p.shas[p.shas.length - 1]!));
    }

    if (rest === '/actions/runs') {
      const headSha = url.searchParams.get('head_sha');
      const all = (this.seed.workflowRuns ?? []).filter((r) => headSha === null || r.head_sha === headSha);
      const { items, link } = page(all);
      return this.send(
        res,
        200,
        {
          total_count: all.length,
          workflow_runs: items.map((r) => this.workflowRun(r, repoApi, owner, name)),
        },
        link,
      );
    }
    if ((m = /^\/actions\/runs\/(\d+)\/jobs$/.exec(rest))) {
      const runId = Number(m[1]);
      const run = (this.seed.workflowRuns ?? []).find((r) => r.id === runId);
      if (!run) return this.send(res, 404, { message: 'Not Found', documentation_url: docs, status: '404' });
      const all = this.seed.jobs?.[runId] ?? [];
      const { items, link } = page(all);
      return this.send(
        res,
        200,
        {
          total_count: all.length,
          jobs: items.map((j) => ({
            id: j.id,
            run_id: runId,
            run_url: `${repoApi}/actions/runs/${runId}`,
            node_id: `CR_kwDO${j.id}`,
            head_sha: run.head_sha,
            url: `${repoApi}/actions/jobs/${j.id}`,
            html_url: `https://github.com/${owner}/${name}/actions/runs/${runId}/job/${j.id}`,
            status: j.status,
            conclusion: j.conclusion,
            started_at: '2024-05-01T10:00:00Z',
            completed_at: j.status === 'completed' ? '2024-05-01T10:04:00Z' : null,
            name: j.name,
            steps: j.steps.map((s) => ({ ...s, started_at: '2024-05-01T10:00:00Z', completed_at: '2024-05-01T10:01:00Z' })),
            check_run_url: `${repoApi}/check-runs/${j.id}`,
            labels: ['ubuntu-latest'],
            runner_name: 'GitHub Actions 2',
            workflow_name: run.name,
            head_branch: 'main',
          })),
        },
        link,
      );
    }

    return this.send(res, 404, { message: 'Not Found', documentation_url: docs, status: '404' });
  }

  private workflowRun(r: FakeWorkflowRun, repoApi: string, owner: string, name: string) {
    return {
      id: r.id,
      name: r.name,
      node_id: `WFR_kwLO${r.id}`,
      head_branch: 'main',
      head_sha: r.head_sha,
      path: `.github/workflows/${r.name.toLowerCase().replace(/\W+/g, '-')}.yml`,
      display_title: `Run ${r.name}`,
      run_number: r.run_number ?? r.id % 1000,
      event: r.event ?? 'push',
      status: r.status,
      conclusion: r.conclusion,
      workflow_id: 159038,
      url: `${repoApi}/actions/runs/${r.id}`,
      html_url: `https://github.com/${owner}/${name}/actions/runs/${r.id}`,
      jobs_url: `${repoApi}/actions/runs/${r.id}/jobs`,
      logs_url: `${repoApi}/actions/runs/${r.id}/logs`,
      run_attempt: r.run_attempt ?? 1,
      created_at: '2024-05-01T10:00:00Z',
      updated_at: '2024-05-01T10:06:00Z',
    };
  }

  /** One page of `all` per the request's page/per_page, and GitHub's Link header for it. */
  private paginate<T>(url: URL, all: T[]): { items: T[]; link: Record<string, string>; offset: number } {
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? '30') || 30));
    const pageNo = Math.max(1, Number(url.searchParams.get('page') ?? '1') || 1);
    const offset = (pageNo - 1) * perPage;
    const items = all.slice(offset, offset + perPage);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    if (last === 1) return { items, link: {}, offset };
    // GitHub's links address the repository by id.
    const basePath = url.pathname.replace(/\/repos\/[^/]+\/[^/]+\//, `/repositories/${REPO_ID}/`);
    const origin = this.linkOrigin ?? url.origin;
    const href = (p: number) => {
      const u = new URL(basePath + url.search, origin);
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('page', String(p));
      return u.href;
    };
    const rels: string[] = [];
    if (pageNo > 1) rels.push(`<${href(pageNo - 1)}>; rel="prev"`);
    if (pageNo < last) rels.push(`<${href(pageNo + 1)}>; rel="next"`);
    rels.push(`<${href(last)}>; rel="last"`);
    if (pageNo > 1) rels.push(`<${href(1)}>; rel="first"`);
    return { items, link: { link: rels.join(', ') }, offset };
  }

  private repository(api: string) {
    const [owner, name] = this.repo.split('/') as [string, string];
    return {
      id: REPO_ID,
      node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5',
      name,
      full_name: this.repo,
      owner: { login: owner, id: 1, type: 'Organization' },
      private: true,
      html_url: `https://github.com/${this.repo}`,
      url: `${api}/repos/${this.repo}`,
    };
  }

  private pullSimple(p: FakePull, repoApi: string, owner: string, name: string, sha: string) {
    const merged = p.merged === true;
    return {
      url: `${repoApi}/pulls/${p.number}`,
      id: 9_000_000 + p.number,
      node_id: `PR_kwDO${p.number}`,
      html_url: `https://github.com/${owner}/${name}/pull/${p.number}`,
      number: p.number,
      state: p.state,
      locked: false,
      title: p.title,
      user: { login: 'author', id: 7, type: 'User' },
      body: null,
      labels: [],
      created_at: '2024-04-30T09:00:00Z',
      updated_at: '2024-05-01T12:30:00Z',
      closed_at: p.state === 'closed' ? '2024-05-01T13:00:00Z' : null,
      merged_at: merged ? '2024-05-01T13:00:00Z' : null,
      merge_commit_sha: merged ? 'e'.repeat(40) : null,
      draft: false,
      head: { label: `${owner}:feature-${p.number}`, ref: `feature-${p.number}`, sha },
      base: { label: `${owner}:main`, ref: 'main', sha: 'b'.repeat(40) },
      author_association: 'MEMBER',
      auto_merge: null,
    };
  }
}
