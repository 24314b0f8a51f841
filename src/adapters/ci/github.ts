// Read-only GitHub REST client for deploy gates: CI state and review approval of a commit,
// plus failed Actions runs/jobs for triage. Plain global fetch, no SDK.
//
// Endpoints (REST API version 2022-11-28):
//   GET {api}/repos/{owner}/{repo}/commits/{ref}/status            combined commit status (paginated `statuses`)
//   GET {api}/repos/{owner}/{repo}/commits/{ref}/check-runs        check runs, latest per name (paginated `check_runs`)
//   GET {api}/repos/{owner}/{repo}/commits/{sha}/pulls             pull requests associated with a commit (array)
//   GET {api}/repos/{owner}/{repo}/pulls/{n}/reviews               reviews, chronological (array)
//   GET {api}/repos/{owner}/{repo}/actions/runs?head_sha={sha}     workflow runs (paginated `workflow_runs`)
//   GET {api}/repos/{owner}/{repo}/actions/runs/{id}/jobs          jobs of a run with their steps (paginated `jobs`)
// Pages are requested with per_page=100 and followed through the `Link: <...>; rel="next"` header, only
// ever to the origin of `apiUrl` (the token is never sent anywhere else).
//
// Nothing here ever concludes "success" from silence: no statuses and no check runs, an unreachable API,
// 401/403/404, a rate limit or a malformed answer all yield state `unknown` with the reason in `summary`.
// The token never appears in a summary or an error.

export interface GitHubOptions {
  /** e.g. https://api.github.com, or https://ghe.example.com/api/v3 for GitHub Enterprise Server. */
  apiUrl: string;
  /** owner/name */
  repo: string;
  token?: string;
  /** Per request; default 10 000 ms. */
  timeoutMs?: number;
}

export type CiState = 'success' | 'failure' | 'pending' | 'unknown';

export interface CiReport {
  state: CiState;
  statuses: { context: string; state: string; url?: string }[];
  checkRuns: { name: string; status: string; conclusion: string | null; url?: string }[];
  summary: string;
  /** Set when GitHub could not be asked or did not answer usefully (state is then `unknown`). */
  error?: string;
}

export interface ReviewReport {
  approved: boolean;
  pullRequests: { number: number; title: string; state: string; merged: boolean }[];
  /** Every submitted review of every associated pull request, in chronological order per PR. */
  reviews: { user: string; state: string; submittedAt: string; pullRequest: number }[];
  summary: string;
  /** Set when GitHub could not be asked or did not answer usefully (approved is then false). */
  error?: string;
}

export interface FailedRun {
  id: number;
  name: string;
  runNumber: number | undefined;
  event: string | undefined;
  conclusion: string;
  url: string;
}

export interface FailedRunsReport {
  /** Completed runs whose conclusion is a failure (failure, timed_out, cancelled, action_required, startup_failure). */
  runs: FailedRun[];
  /** All runs for the commit, failed or not. */
  total: number;
  summary: string;
  error?: string;
}

export interface FailedJob {
  id: number;
  name: string;
  conclusion: string;
  url: string;
  failedSteps: { number: number; name: string; conclusion: string }[];
}

export interface FailedJobsReport {
  jobs: FailedJob[];
  summary: string;
  error?: string;
}

export interface WorkflowRun {
  id: number;
  name: string;
  headSha: string;
  attempt: number;
  status: string;
  conclusion: string | null;
  url: string;
}

export interface RunJob {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  url: string;
  checkRunId: number;
  steps: { number: number; name: string; conclusion: string | null }[];
}

export interface Annotation {
  path: string;
  line: number | null;
  level: string;
  title: string | null;
  message: string;
}

function assertId(id: number, what: string): void {
  if (!Number.isSafeInteger(id) || id <= 0) throw new GitHubError(`invalid ${what} id ${id}`, 'bad-response');
}

function parseJson(text: string): unknown {
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

/** Completed-check conclusions that fail a commit. */
const FAILING_CONCLUSIONS = new Set(['failure', 'timed_out', 'cancelled', 'action_required', 'startup_failure']);
/** Completed-check conclusions that do not block. */
const PASSING_CONCLUSIONS = new Set(['success', 'neutral', 'skipped']);

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

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optString(v: unknown): string | undefined {
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

function shortSha(sha: string): string {
  return /^[0-9a-f]{40}$/i.test(sha) ? sha.slice(0, 7) : sha;
}

function listNames(names: string[], max = 5): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

export class GitHubClient {
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

  // ---------------------------------------------------------------- CI

  async ciStatus(sha: string): Promise<CiReport> {
    const ref = encodeURIComponent(sha);
    let combinedState: string | undefined;
    let rawStatuses: Json[];
    let rawChecks: Json[];
    try {
      [rawStatuses, rawChecks] = await Promise.all([
        this.paginate(`commits/${ref}/status`, 'statuses', (page) => {
          combinedState ??= optString(page.state);
        }),
        this.paginate(`commits/${ref}/check-runs`, 'check_runs'),
      ]);
    } catch (err) {
      const reason = this.describe(err);
      return { state: 'unknown', statuses: [], checkRuns: [], summary: `CI state of ${shortSha(sha)} unknown: ${reason}`, error: reason };
    }

    const statuses = rawStatuses.map((s) => ({
      context: optString(s.context) ?? '(no context)',
      state: optString(s.state) ?? '(missing)',
      ...(optString(s.target_url) ? { url: optString(s.target_url) } : {}),
    }));
    const checkRuns = rawChecks.map((c) => ({
      name: optString(c.name) ?? '(unnamed)',
      status: optString(c.status) ?? '(missing)',
      conclusion: optString(c.conclusion) ?? null,
      ...(optString(c.html_url) ?? optString(c.details_url) ? { url: optString(c.html_url) ?? optString(c.details_url) } : {}),
    }));

    const failed: string[] = [];
    const pending: string[] = [];
    let passed = 0;
    for (const s of statuses) {
      if (s.state === 'success') passed++;
      else if (s.state === 'pending') pending.push(s.context);
      else failed.push(`${s.context} (${s.state})`); // failure, error, or anything unrecognised
    }
    for (const c of checkRuns) {
      if (c.status !== 'completed') pending.push(`${c.name} (${c.status})`);
      else if (c.conclusion !== null && PASSING_CONCLUSIONS.has(c.conclusion)) passed++;
      else if (c.conclusion === 'stale') pending.push(`${c.name} (stale)`); // GitHub gave up waiting: no verdict
      else failed.push(`${c.name} (${c.conclusion ?? 'no conclusion'})`); // failing or unrecognised conclusion
    }
    // The combined state already accounts for every context; trust its failure verdict even if we missed one.
    if (combinedState !== undefined && (combinedState === 'failure' || combinedState === 'error') && !statuses.some((s) => s.state !== 'success' && s.state !== 'pending')) {
      failed.push(`combined status (${combinedState})`);
    }

    const total = statuses.length + checkRuns.length;
    const counts = `${statuses.length} status${statuses.length === 1 ? '' : 'es'}, ${checkRuns.length} check run${checkRuns.length === 1 ? '' : 's'}`;
    const at = shortSha(sha);
    let state: CiState;
    let summary: string;
    if (total === 0 && failed.length === 0) {
      state = 'unknown';
      summary = `no commit statuses or check runs reported for ${at} on ${this.repo}`;
    } else if (failed.length > 0) {
      state = 'failure';
      summary = `CI failed for ${at}: ${listNames(failed)}` + (pending.length ? `; still running: ${listNames(pending, 3)}` : '') + ` (${counts})`;
    } else if (pending.length > 0) {
      state = 'pending';
      summary = `CI pending for ${at}: ${pending.length} not finished (${listNames(pending)}); ${passed} passed (${counts})`;
    } else {
      state = 'success';
      summary = `CI passed for ${at}: all ${total} green (${counts})`;
    }
    return { state, statuses, checkRuns, summary };
  }

  // ---------------------------------------------------------------- reviews

  async reviewStatus(sha: string): Promise<ReviewReport> {
    const at = shortSha(sha);
    let prs: Json[];
    try {
      prs = await this.paginate(`commits/${encodeURIComponent(sha)}/pulls`);
    } catch (err) {
      const reason = this.describe(err);
      return { approved: false, pullRequests: [], reviews: [], summary: `review state of ${at} unknown: ${reason}`, error: reason };
    }
    const pullRequests: ReviewReport['pullRequests'] = [];
    for (const pr of prs) {
      const number = pr.number;
      if (typeof number !== 'number' || !Number.isInteger(number)) {
        const reason = `malformed pull request in answer for ${at} (no number)`;
        return { approved: false, pullRequests: [], reviews: [], summary: `review state of ${at} unknown: ${reason}`, error: reason };
      }
      pullRequests.push({
        number,
        title: optString(pr.title) ?? '',
        state: optString(pr.state) ?? '(missing)',
        merged: pr.merged === true || optString(pr.merged_at) !== undefined,
      });
    }
    if (pullRequests.length === 0) {
      return { approved: false, pullRequests, reviews: [], summary: `no pull request is associated with ${at} on ${this.repo}; nothing approved it` };
    }

    const reviews: ReviewReport['reviews'] = [];
    const verdicts: { pr: number; approvers: string[]; blockers: string[] }[] = [];
    try {
      for (const pr of pullRequests) {
        const raw = await this.paginate(`pulls/${pr.number}/reviews`);
        const submitted = raw
          .map((r, i) => ({
            user: isRecord(r.user) ? optString(r.user.login) ?? 'ghost' : 'ghost',
            state: optString(r.state) ?? '(missing)',
            submittedAt: optString(r.submitted_at) ?? '',
            i,
          }))
          .filter((r) => r.state !== 'PENDING' && r.submittedAt !== '')
          // documented as chronological already; sort anyway (stable on ties)
          .sort((a, b) => (a.submittedAt === b.submittedAt ? a.i - b.i : a.submittedAt < b.submittedAt ? -1 : 1));
        for (const r of submitted) reviews.push({ user: r.user, state: r.state, submittedAt: r.submittedAt, pullRequest: pr.number });
        // A user's standing verdict is their latest APPROVED / CHANGES_REQUESTED / DISMISSED review;
        // a later COMMENTED review does not withdraw an approval or a change request.
        const latest = new Map<string, string>();
        for (const r of submitted) {
          if (r.state === 'APPROVED' || r.state === 'CHANGES_REQUESTED' || r.state === 'DISMISSED') latest.set(r.user, r.state);
        }
        const approvers = [...latest].filter(([, s]) => s === 'APPROVED').map(([u]) => u);
        const blockers = [...latest].filter(([, s]) => s === 'CHANGES_REQUESTED').map(([u]) => u);
        verdicts.push({ pr: pr.number, approvers, blockers });
      }
    } catch (err) {
      const reason = this.describe(err);
      return { approved: false, pullRequests, reviews, summary: `review state of ${at} unknown: ${reason}`, error: reason };
    }

    const ok = verdicts.filter((v) => v.approvers.length > 0 && v.blockers.length === 0);
    if (ok.length > 0) {
      const parts = ok.map((v) => `#${v.pr} approved by ${listNames(v.approvers)}`);
      return { approved: true, pullRequests, reviews, summary: `${at} approved: ${parts.join('; ')}` };
    }
    const parts = verdicts.map((v) =>
      v.blockers.length > 0 ? `#${v.pr} has changes requested by ${listNames(v.blockers)}` : `#${v.pr} has no approving review`,
    );
    return { approved: false, pullRequests, reviews, summary: `${at} not approved: ${parts.join('; ')}` };
  }

  // ---------------------------------------------------------------- Actions triage

  async failedRuns(sha: string): Promise<FailedRunsReport> {
    const at = shortSha(sha);
    let raw: Json[];
    try {
      raw = await this.paginate('actions/runs', 'workflow_runs', undefined, { head_sha: sha });
    } catch (err) {
      const reason = this.describe(err);
      return { runs: [], total: 0, summary: `workflow runs of ${at} unknown: ${reason}`, error: reason };
    }
    const runs: FailedRun[] = [];
    for (const r of raw) {
      const conclusion = optString(r.conclusion);
      if (r.status !== 'completed' || conclusion === undefined || !FAILING_CONCLUSIONS.has(conclusion)) continue;
      runs.push({
        id: typeof r.id === 'number' ? r.id : NaN,
        name: optString(r.name) ?? optString(r.display_title) ?? '(unnamed workflow)',
        runNumber: typeof r.run_number === 'number' ? r.run_number : undefined,
        event: optString(r.event),
        conclusion,
        url: optString(r.html_url) ?? '',
      });
    }
    const summary =
      raw.length === 0
        ? `no workflow runs for ${at}`
        : runs.length === 0
          ? `none of ${raw.length} workflow run(s) for ${at} failed`
          : `${runs.length} of ${raw.length} workflow run(s) for ${at} failed: ${listNames(runs.map((r) => `${r.name} (${r.conclusion}) ${r.url}`))}`;
    return { runs, total: raw.length, summary };
  }

  /** Failed jobs of one workflow run (latest attempt) and, per job, the steps that failed. */
  async failedJobs(runId: number): Promise<FailedJobsReport> {
    if (!Number.isSafeInteger(runId) || runId <= 0) throw new Error(`invalid workflow run id ${runId}`);
    let raw: Json[];
    try {
      raw = await this.paginate(`actions/runs/${runId}/jobs`, 'jobs');
    } catch (err) {
      const reason = this.describe(err);
      return { jobs: [], summary: `jobs of run ${runId} unknown: ${reason}`, error: reason };
    }
    const jobs: FailedJob[] = [];
    for (const j of raw) {
      const conclusion = optString(j.conclusion);
      if (j.status !== 'completed' || conclusion === undefined || !FAILING_CONCLUSIONS.has(conclusion)) continue;
      const steps = Array.isArray(j.steps) ? j.steps.filter(isRecord) : [];
      jobs.push({
        id: typeof j.id === 'number' ? j.id : NaN,
        name: optString(j.name) ?? '(unnamed job)',
        conclusion,
        url: optString(j.html_url) ?? '',
        failedSteps: steps
          .filter((s) => typeof s.conclusion === 'string' && FAILING_CONCLUSIONS.has(s.conclusion))
          .map((s) => ({ number: typeof s.number === 'number' ? s.number : NaN, name: optString(s.name) ?? '(unnamed step)', conclusion: s.conclusion as string })),
      });
    }
    const summary =
      jobs.length === 0
        ? `no failed jobs in run ${runId} (${raw.length} job(s))`
        : `${jobs.length} failed job(s) in run ${runId}: ` +
          jobs.map((j) => `${j.name} (${j.conclusion}${j.failedSteps.length ? `; step ${j.failedSteps.map((s) => `${s.number} "${s.name}"`).join(', ')}` : ''})`).join('; ');
    return { jobs, summary };
  }

  // ---------------------------------------------------------------- Actions: one run, its logs, re-runs
  // GET  /repos/{o}/{r}/actions/runs/{id}                    the run (head_sha, run_attempt, conclusion)
  // GET  /repos/{o}/{r}/actions/runs/{id}/jobs               every job of the latest attempt, with steps
  // GET  /repos/{o}/{r}/actions/jobs/{id}/logs               302 to a short-lived plain-text download URL
  // GET  /repos/{o}/{r}/check-runs/{id}/annotations          a job's annotations (a job is a check run)
  // POST /repos/{o}/{r}/actions/runs/{id}/rerun-failed-jobs  201, re-runs the failed jobs and their dependents
  // These throw GitHubError; `explain` turns one into a sentence without the token.

  async workflowRun(runId: number): Promise<WorkflowRun> {
    assertId(runId, 'workflow run');
    const { body } = await this.get(this.repoUrl(`actions/runs/${runId}`));
    if (!isRecord(body) || typeof body.id !== 'number') throw new GitHubError(`unexpected answer for run ${runId}`, 'bad-response');
    return {
      id: body.id,
      name: optString(body.name) ?? optString(body.display_title) ?? '(unnamed workflow)',
      headSha: optString(body.head_sha) ?? '',
      attempt: typeof body.run_attempt === 'number' ? body.run_attempt : 1,
      status: optString(body.status) ?? '(missing)',
      conclusion: optString(body.conclusion) ?? null,
      url: optString(body.html_url) ?? '',
    };
  }

  /** Workflow runs of a commit, newest first as GitHub lists them. */
  async commitRuns(sha: string): Promise<WorkflowRun[]> {
    const raw = await this.paginate('actions/runs', 'workflow_runs', undefined, { head_sha: sha });
    return raw.map((r) => ({
      id: typeof r.id === 'number' ? r.id : NaN,
      name: optString(r.name) ?? optString(r.display_title) ?? '(unnamed workflow)',
      headSha: optString(r.head_sha) ?? sha,
      attempt: typeof r.run_attempt === 'number' ? r.run_attempt : 1,
      status: optString(r.status) ?? '(missing)',
      conclusion: optString(r.conclusion) ?? null,
      url: optString(r.html_url) ?? '',
    }));
  }

  async runJobs(runId: number): Promise<RunJob[]> {
    assertId(runId, 'workflow run');
    const raw = await this.paginate(`actions/runs/${runId}/jobs`, 'jobs');
    return raw.map((j) => {
      const steps = Array.isArray(j.steps) ? j.steps.filter(isRecord) : [];
      const checkRun = /\/check-runs\/(\d+)$/.exec(optString(j.check_run_url) ?? '');
      return {
        id: typeof j.id === 'number' ? j.id : NaN,
        name: optString(j.name) ?? '(unnamed job)',
        status: optString(j.status) ?? '(missing)',
        conclusion: optString(j.conclusion) ?? null,
        url: optString(j.html_url) ?? '',
        checkRunId: checkRun ? Number(checkRun[1]) : typeof j.id === 'number' ? j.id : NaN,
        steps: steps.map((st) => ({ number: typeof st.number === 'number' ? st.number : NaN, name: optString(st.name) ?? '(unnamed step)', conclusion: optString(st.conclusion) ?? null })),
      };
    });
  }

  /**
   * The plain-text log of one job, as a stream. GitHub answers with a redirect to a pre-signed URL
   * on another host: that URL is fetched without the token (it carries its own signature).
   */
  async jobLog(jobId: number): Promise<ReadableStream<Uint8Array>> {
    assertId(jobId, 'job');
    const url = this.repoUrl(`actions/jobs/${jobId}/logs`);
    const where = `GET ${url.pathname}`;
    let res = await this.send('GET', url, true);
    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location');
      await res.body?.cancel();
      if (!location) throw new GitHubError(`redirect without a location from ${where}`, 'bad-response');
      let target: URL;
      try {
        target = new URL(location, url);
      } catch {
        throw new GitHubError(`unparseable log location from ${where}`, 'bad-response');
      }
      if (target.protocol !== 'https:' && target.protocol !== 'http:') throw new GitHubError(`log location from ${where} is not http(s)`, 'bad-response');
      res = await this.send('GET', target, false);
    }
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => '');
      throw this.httpError(res, parseJson(text), where);
    }
    return res.body;
  }

  async annotations(checkRunId: number): Promise<Annotation[]> {
    assertId(checkRunId, 'check run');
    const raw = await this.paginate(`check-runs/${checkRunId}/annotations`);
    return raw.map((a) => ({
      path: optString(a.path) ?? '',
      line: typeof a.start_line === 'number' ? a.start_line : null,
      level: optString(a.annotation_level) ?? 'failure',
      title: optString(a.title) ?? null,
      message: optString(a.message) ?? '',
    }));
  }

  async rerunFailedJobs(runId: number): Promise<void> {
    assertId(runId, 'workflow run');
    const url = this.repoUrl(`actions/runs/${runId}/rerun-failed-jobs`);
    const res = await this.send('POST', url, true);
    const text = await res.text().catch(() => '');
    if (res.status !== 201 && res.status !== 204) throw this.httpError(res, parseJson(text), `POST ${url.pathname}`);
  }

  async pullHeadSha(number: number): Promise<string> {
    assertId(number, 'pull request');
    const { body } = await this.get(this.repoUrl(`pulls/${number}`));
    const sha = isRecord(body) && isRecord(body.head) ? optString(body.head.sha) : undefined;
    if (!sha) throw new GitHubError(`unexpected answer for pull request #${number}: no head.sha`, 'bad-response');
    return sha;
  }

  /** A GitHubError (or anything thrown here) as one sentence, without the token. */
  explain(err: unknown): string {
    return this.describe(err);
  }

  private repoUrl(path: string): URL {
    return new URL(`repos/${encodeURIComponent(this.owner)}/${encodeURIComponent(this.name)}/${path}`, this.base);
  }

  /** One request; the token goes only to the API origin, never to a redirect target elsewhere. */
  private async send(method: 'GET' | 'POST', url: URL, withToken: boolean): Promise<Response> {
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
  private async paginate(path: string, key?: string, onPage?: (page: Json) => void, query: Record<string, string> = {}): Promise<Json[]> {
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

  private async get(url: URL): Promise<{ body: unknown; next: URL | undefined }> {
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

  private httpError(res: Response, body: unknown, where: string): GitHubError {
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

  private redact(s: string): string {
    return this.token ? s.split(this.token).join('***') : s;
  }

  private describe(err: unknown): string {
    const msg = err instanceof Error ? err.message : String(err);
    return this.redact(msg);
  }
}
