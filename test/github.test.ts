// GitHubClient against a local fake of the GitHub REST endpoints it reads.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GitHubClient, nextLink, type CiReport, type ReviewReport } from '../src/adapters/ci/github.js';
import { freePort } from '../src/demo/free-port.js';
import { FakeGitHub, type FakeCheckRun, type FakeGitHubSeed } from './fakes/github.js';

const TOKEN = 'ghp_TESTtokenDoNotLeak0123456789abcdef';
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const OTHER = '0123456789abcdef0123456789abcdef01234567';

let gh: FakeGitHub;
let client: GitHubClient;

function expectNoToken(report: CiReport | ReviewReport | { summary: string; error?: string }): void {
  const text = JSON.stringify(report);
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(TOKEN.slice(4, 20));
}

function reset(seed: FakeGitHubSeed): void {
  gh.seed = seed;
  gh.failure = undefined;
  gh.failAfter = undefined;
  gh.delayMs = 0;
  gh.linkOrigin = undefined;
  gh.requests.length = 0;
}

beforeAll(async () => {
  gh = await FakeGitHub.start({ repo: 'acme/trading', token: TOKEN });
  client = new GitHubClient({ apiUrl: gh.url, repo: 'acme/trading', token: TOKEN, timeoutMs: 2000 });
});
afterAll(async () => {
  await gh?.close();
});
afterEach(() => reset({}));

const green = (name: string): FakeCheckRun => ({ name, status: 'completed', conclusion: 'success' });

describe('ciStatus', () => {
  it('sends the documented headers', async () => {
    reset({ statuses: { [SHA]: [{ context: 'ci/build', state: 'success' }] } });
    await client.ciStatus(SHA);
    expect(gh.requests.length).toBe(2);
    for (const r of gh.requests) {
      expect(r.headers.accept).toBe('application/vnd.github+json');
      expect(r.headers['x-github-api-version']).toBe('2022-11-28');
      expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(r.path).toContain('per_page=100');
    }
    expect(gh.requests.map((r) => r.path.split('?')[0]).sort()).toEqual([
      `/repos/acme/trading/commits/${SHA}/check-runs`,
      `/repos/acme/trading/commits/${SHA}/status`,
    ]);
  });

  it('success when every status and check run is good', async () => {
    reset({
      statuses: { [SHA]: [{ context: 'ci/build', state: 'success' }, { context: 'security', state: 'success', target_url: null }] },
      checkRuns: { [SHA]: [green('test'), { name: 'lint', status: 'completed', conclusion: 'neutral' }, { name: 'docs', status: 'completed', conclusion: 'skipped' }] },
    });
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('success');
    expect(r.error).toBeUndefined();
    expect(r.statuses).toHaveLength(2);
    expect(r.statuses[0]).toEqual({ context: 'ci/build', state: 'success', url: `https://ci.example.com/ci%2Fbuild/${SHA}` });
    expect(r.statuses[1]).toEqual({ context: 'security', state: 'success' });
    expect(r.checkRuns).toHaveLength(3);
    expect(r.checkRuns[0]).toMatchObject({ name: 'test', status: 'completed', conclusion: 'success' });
    expect(r.checkRuns[0]?.url).toMatch(/^https:\/\/github\.com\/acme\/trading\/runs\/\d+$/);
    expect(r.summary).toContain('passed');
  });

  it('success with only statuses, or only check runs', async () => {
    reset({ statuses: { [SHA]: [{ context: 'ci', state: 'success' }] } });
    expect((await client.ciStatus(SHA)).state).toBe('success');
    reset({ checkRuns: { [SHA]: [green('test')] } });
    expect((await client.ciStatus(SHA)).state).toBe('success');
  });

  it('unknown (never success) when nothing reported at all', async () => {
    reset({ statuses: { [OTHER]: [{ context: 'ci', state: 'success' }] } });
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('unknown');
    expect(r.error).toBeUndefined();
    expect(r.summary).toMatch(/no commit statuses or check runs/);
  });

  it('failure when a status failed', async () => {
    reset({
      statuses: { [SHA]: [{ context: 'ci/build', state: 'failure' }, { context: 'security', state: 'success' }] },
      checkRuns: { [SHA]: [green('test')] },
    });
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('failure');
    expect(r.summary).toContain('ci/build (failure)');
  });

  it('a status in state error counts as failure', async () => {
    reset({ statuses: { [SHA]: [{ context: 'ci/deploy-preview', state: 'error' }] }, checkRuns: { [SHA]: [green('test')] } });
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('failure');
    expect(r.summary).toContain('ci/deploy-preview (error)');
  });

  it.each(['failure', 'timed_out', 'cancelled', 'action_required'] as const)('failure when a completed check run concluded %s', async (conclusion) => {
    reset({ checkRuns: { [SHA]: [green('build'), { name: 'test', status: 'completed', conclusion }] }, statuses: { [SHA]: [{ context: 'ci', state: 'success' }] } });
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('failure');
    expect(r.summary).toContain(`test (${conclusion})`);
  });

  it('failure wins over pending', async () => {
    reset({
      statuses: { [SHA]: [{ context: 'ci/slow', state: 'pending' }] },
      checkRuns: { [SHA]: [{ name: 'test', status: 'completed', conclusion: 'failure' }, { name: 'e2e', status: 'in_progress' }] },
    });
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('failure');
    expect(r.summary).toContain('still running');
  });

  it.each(['queued', 'in_progress', 'waiting', 'requested', 'pending'] as const)('pending while a check run is %s', async (status) => {
    reset({ checkRuns: { [SHA]: [green('build'), { name: 'e2e', status }] } });
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('pending');
    expect(r.checkRuns.find((c) => c.name === 'e2e')).toMatchObject({ status, conclusion: null });
    expect(r.summary).toContain(`e2e (${status})`);
  });

  it('pending while a status is pending', async () => {
    reset({ statuses: { [SHA]: [{ context: 'ci/build', state: 'pending' }, { context: 'sec', state: 'success' }] }, checkRuns: { [SHA]: [green('t')] } });
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('pending');
  });

  it('a stale check run (never finished) is not success', async () => {
    reset({ checkRuns: { [SHA]: [green('build'), { name: 'flaky', status: 'completed', conclusion: 'stale' }] } });
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('pending');
    expect(r.summary).toContain('flaky (stale)');
  });

  it('follows Link rel="next" across >100 check runs and statuses', async () => {
    const runs: FakeCheckRun[] = Array.from({ length: 250 }, (_, i) => green(`check-${i}`));
    runs[237] = { name: 'check-237', status: 'completed', conclusion: 'timed_out' };
    reset({
      checkRuns: { [SHA]: runs },
      statuses: { [SHA]: Array.from({ length: 130 }, (_, i) => ({ context: `ctx-${i}`, state: 'success' as const })) },
    });
    const r = await client.ciStatus(SHA);
    expect(r.checkRuns).toHaveLength(250);
    expect(new Set(r.checkRuns.map((c) => c.name)).size).toBe(250);
    expect(r.statuses).toHaveLength(130);
    expect(r.state).toBe('failure'); // the failure sits on page 3
    expect(r.summary).toContain('check-237 (timed_out)');
    const checkPages = gh.requests.filter((q) => q.path.includes('/check-runs'));
    expect(checkPages).toHaveLength(3);
    // pages 2+ are the Link targets GitHub hands out (repository-id form), fetched with auth
    expect(checkPages.slice(1).every((q) => q.path.startsWith('/repositories/') && q.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(gh.requests.filter((q) => q.path.includes('/status'))).toHaveLength(2);

    runs[237] = green('check-237');
    reset({ checkRuns: { [SHA]: runs } });
    expect((await client.ciStatus(SHA)).state).toBe('success');
  });

  it('refuses a pagination link to another origin and does not send the token there', async () => {
    let foreignHits = 0;
    const foreign = http.createServer((_req, res) => {
      foreignHits++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"total_count":0,"check_runs":[]}');
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', () => r()));
    try {
      reset({ checkRuns: { [SHA]: Array.from({ length: 150 }, (_, i) => green(`c${i}`)) } });
      gh.linkOrigin = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
      const r = await client.ciStatus(SHA);
      expect(r.state).toBe('unknown');
      expect(r.summary).toMatch(/another origin/);
      expect(foreignHits).toBe(0);
      expectNoToken(r);
    } finally {
      foreign.closeAllConnections();
      await new Promise<void>((r) => foreign.close(() => r()));
    }
  });

  it('works under an Enterprise-style base path', async () => {
    const ghes = await FakeGitHub.start({ repo: 'acme/trading', basePath: '/api/v3', seed: { checkRuns: { [SHA]: Array.from({ length: 120 }, (_, i) => green(`c${i}`)) } } });
    try {
      const c = new GitHubClient({ apiUrl: ghes.url, repo: 'acme/trading' });
      const r = await c.ciStatus(SHA);
      expect(r.state).toBe('success');
      expect(r.checkRuns).toHaveLength(120);
      expect(ghes.requests.every((q) => q.path.startsWith('/api/v3/'))).toBe(true);
      expect(ghes.requests.every((q) => q.headers.authorization === undefined)).toBe(true);
    } finally {
      await ghes.close();
    }
  });
});

describe('ciStatus when GitHub cannot answer → unknown, with a reason, without the token', () => {
  it('401 without a token', async () => {
    reset({ statuses: { [SHA]: [{ context: 'ci', state: 'success' }] } });
    const anon = new GitHubClient({ apiUrl: gh.url, repo: 'acme/trading' });
    const r = await anon.ciStatus(SHA);
    expect(r.state).toBe('unknown');
    expect(r.summary).toMatch(/401/);
    expect(r.summary).toMatch(/no token is configured/);
    expect(r.error).toBeDefined();
    expect(gh.requests.every((q) => q.headers.authorization === undefined)).toBe(true);
  });

  it('401 with a wrong token never echoes it', async () => {
    reset({ statuses: { [SHA]: [{ context: 'ci', state: 'success' }] } });
    const wrong = 'ghp_WRONGsecretValue999';
    const c = new GitHubClient({ apiUrl: gh.url, repo: 'acme/trading', token: wrong });
    const r = await c.ciStatus(SHA);
    expect(r.state).toBe('unknown');
    expect(r.summary).toMatch(/401.*Bad credentials.*rejected/);
    expect(JSON.stringify(r)).not.toContain(wrong);
  });

  it('403 primary rate limit (x-ratelimit-remaining: 0)', async () => {
    reset({ statuses: { [SHA]: [{ context: 'ci', state: 'success' }] } });
    gh.failure = { kind: 'rate-limit' };
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('unknown');
    expect(r.summary).toMatch(/rate limit exhausted \(HTTP 403; resets at \d{4}-/);
    expectNoToken(r);
  });

  it('403 secondary rate limit (retry-after)', async () => {
    reset({ statuses: { [SHA]: [{ context: 'ci', state: 'success' }] } });
    gh.failure = { kind: 'secondary-rate-limit' };
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('unknown');
    expect(r.summary).toMatch(/secondary rate limit.*retry after 60s/);
    expectNoToken(r);
  });

  it('rate-limited half way through pagination is still unknown, not a partial verdict', async () => {
    reset({ checkRuns: { [SHA]: Array.from({ length: 150 }, (_, i) => green(`c${i}`)) }, statuses: { [SHA]: [{ context: 'ci', state: 'success' }] } });
    gh.failure = { kind: 'rate-limit' };
    gh.failAfter = 2; // status page and check-runs page 1 succeed, page 2 is refused
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('unknown');
    expect(r.statuses).toEqual([]);
    expect(r.checkRuns).toEqual([]);
  });

  it('403 without rate limiting is a permission problem', async () => {
    reset({});
    gh.failure = { kind: 'status', status: 403, message: 'Resource not accessible by personal access token' };
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('unknown');
    expect(r.summary).toMatch(/403 Forbidden "Resource not accessible by personal access token"/);
  });

  it('404 for an unknown repository', async () => {
    reset({ statuses: { [SHA]: [{ context: 'ci', state: 'success' }] } });
    const c = new GitHubClient({ apiUrl: gh.url, repo: 'acme/other', token: TOKEN });
    const r = await c.ciStatus(SHA);
    expect(r.state).toBe('unknown');
    expect(r.summary).toMatch(/404 Not Found/);
    expectNoToken(r);
  });

  it('500', async () => {
    reset({ statuses: { [SHA]: [{ context: 'ci', state: 'success' }] } });
    gh.failure = { kind: 'status', status: 500 };
    const r = await client.ciStatus(SHA);
    expect(r.state).toBe('unknown');
    expect(r.summary).toMatch(/HTTP 500/);
    expectNoToken(r);
  });

  it('unreachable port', async () => {
    const port = await freePort();
    const c = new GitHubClient({ apiUrl: `http://127.0.0.1:${port}`, repo: 'acme/trading', token: TOKEN, timeoutMs: 2000 });
    const r = await c.ciStatus(SHA);
    expect(r.state).toBe('unknown');
    expect(r.summary).toMatch(new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
    expectNoToken(r);
  });

  it('no answer within the timeout', async () => {
    reset({ statuses: { [SHA]: [{ context: 'ci', state: 'success' }] } });
    gh.delayMs = 1500;
    const c = new GitHubClient({ apiUrl: gh.url, repo: 'acme/trading', token: TOKEN, timeoutMs: 300 });
    const r = await c.ciStatus(SHA);
    expect(r.state).toBe('unknown');
    expect(r.summary).toMatch(/no answer from .* within 300ms/);
    expectNoToken(r);
  });

  it('a non-JSON answer is unknown', async () => {
    const junk = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>captive portal</html>');
    });
    await new Promise<void>((r) => junk.listen(0, '127.0.0.1', () => r()));
    try {
      const c = new GitHubClient({ apiUrl: `http://127.0.0.1:${(junk.address() as AddressInfo).port}`, repo: 'acme/trading', token: TOKEN });
      const r = await c.ciStatus(SHA);
      expect(r.state).toBe('unknown');
      expect(r.summary).toMatch(/without JSON body/);
    } finally {
      junk.closeAllConnections();
      await new Promise<void>((r) => junk.close(() => r()));
    }
  });
});

describe('reviewStatus', () => {
  const pull = { number: 42, title: 'Tighten order risk limits', state: 'open' as const, shas: [SHA] };

  it('approved: latest review per user, at least one APPROVED', async () => {
    reset({
      pulls: [pull],
      reviews: {
        42: [
          { user: 'alice', state: 'COMMENTED', submitted_at: '2024-05-01T09:00:00Z' },
          { user: 'alice', state: 'APPROVED', submitted_at: '2024-05-01T10:00:00Z' },
          { user: 'bob', state: 'COMMENTED', submitted_at: '2024-05-01T10:30:00Z' },
        ],
      },
    });
    const r = await client.reviewStatus(SHA);
    expect(r.approved).toBe(true);
    expect(r.pullRequests).toEqual([{ number: 42, title: 'Tighten order risk limits', state: 'open', merged: false }]);
    expect(r.reviews).toHaveLength(3);
    expect(r.reviews[1]).toEqual({ user: 'alice', state: 'APPROVED', submittedAt: '2024-05-01T10:00:00Z', pullRequest: 42 });
    expect(r.summary).toMatch(/#42 approved by alice/);
    expect(gh.requests.map((q) => q.path.split('?')[0])).toEqual([`/repos/acme/trading/commits/${SHA}/pulls`, '/repos/acme/trading/pulls/42/reviews']);
  });

  it('not approved while someone’s latest review requests changes', async () => {
    reset({
      pulls: [pull],
      reviews: {
        42: [
          { user: 'alice', state: 'APPROVED', submitted_at: '2024-05-01T10:00:00Z' },
          { user: 'carol', state: 'CHANGES_REQUESTED', submitted_at: '2024-05-01T11:00:00Z' },
          { user: 'carol', state: 'COMMENTED', submitted_at: '2024-05-01T11:30:00Z' }, // a comment does not lift it
        ],
      },
    });
    const r = await client.reviewStatus(SHA);
    expect(r.approved).toBe(false);
    expect(r.error).toBeUndefined();
    expect(r.summary).toMatch(/#42 has changes requested by carol/);
  });

  it('a later approval by the same user replaces their change request', async () => {
    reset({
      pulls: [pull],
      reviews: {
        42: [
          { user: 'carol', state: 'CHANGES_REQUESTED', submitted_at: '2024-05-01T10:00:00Z' },
          { user: 'carol', state: 'APPROVED', submitted_at: '2024-05-01T12:00:00Z' },
        ],
      },
    });
    expect((await client.reviewStatus(SHA)).approved).toBe(true);
  });

  it('a later change request by the approver withdraws the approval', async () => {
    reset({
      pulls: [pull],
      reviews: {
        42: [
          { user: 'alice', state: 'APPROVED', submitted_at: '2024-05-01T10:00:00Z' },
          { user: 'alice', state: 'CHANGES_REQUESTED', submitted_at: '2024-05-01T12:00:00Z' },
        ],
      },
    });
    const r = await client.reviewStatus(SHA);
    expect(r.approved).toBe(false);
    expect(r.summary).toMatch(/changes requested by alice/);
  });

  it('a dismissed approval does not count; pending (unsubmitted) reviews are ignored', async () => {
    reset({
      pulls: [pull],
      reviews: {
        42: [
          { user: 'alice', state: 'DISMISSED', submitted_at: '2024-05-01T10:00:00Z' },
          { user: 'bob', state: 'PENDING' },
        ],
      },
    });
    const r = await client.reviewStatus(SHA);
    expect(r.approved).toBe(false);
    expect(r.reviews.map((x) => x.state)).toEqual(['DISMISSED']);
    expect(r.summary).toMatch(/#42 has no approving review/);
  });

  it('only comments → not approved', async () => {
    reset({ pulls: [pull], reviews: { 42: [{ user: 'bob', state: 'COMMENTED', submitted_at: '2024-05-01T10:00:00Z' }] } });
    expect((await client.reviewStatus(SHA)).approved).toBe(false);
  });

  it('no PR associated with the commit → not approved', async () => {
    reset({ pulls: [{ ...pull, shas: [OTHER] }], reviews: { 42: [{ user: 'alice', state: 'APPROVED', submitted_at: '2024-05-01T10:00:00Z' }] } });
    const r = await client.reviewStatus(SHA);
    expect(r.approved).toBe(false);
    expect(r.pullRequests).toEqual([]);
    expect(r.error).toBeUndefined();
    expect(r.summary).toMatch(/no pull request is associated/);
  });

  it('approved if at least one associated PR is approved; merged flag from merged_at', async () => {
    reset({
      pulls: [
        { number: 7, title: 'old attempt', state: 'closed', shas: [SHA] },
        { number: 8, title: 'the real one', state: 'closed', merged: true, shas: [SHA] },
      ],
      reviews: {
        7: [{ user: 'carol', state: 'CHANGES_REQUESTED', submitted_at: '2024-05-01T10:00:00Z' }],
        8: [{ user: 'alice', state: 'APPROVED', submitted_at: '2024-05-01T10:00:00Z' }],
      },
    });
    const r = await client.reviewStatus(SHA);
    expect(r.approved).toBe(true);
    expect(r.pullRequests).toEqual([
      { number: 7, title: 'old attempt', state: 'closed', merged: false },
      { number: 8, title: 'the real one', state: 'closed', merged: true },
    ]);
    expect(r.summary).toMatch(/#8 approved by alice/);
  });

  it('paginates reviews: a change request on page 2 still counts', async () => {
    const many = Array.from({ length: 120 }, (_, i) => ({
      user: `reviewer${i % 7}`,
      state: 'COMMENTED' as const,
      submitted_at: new Date(Date.UTC(2024, 4, 1, 8) + i * 60_000).toISOString(),
    }));
    many[3] = { user: 'alice', state: 'APPROVED' as never, submitted_at: many[3]!.submitted_at };
    many[110] = { user: 'dave', state: 'CHANGES_REQUESTED' as never, submitted_at: many[110]!.submitted_at };
    reset({ pulls: [pull], reviews: { 42: many } });
    const r = await client.reviewStatus(SHA);
    expect(r.reviews).toHaveLength(120);
    expect(r.approved).toBe(false);
    expect(r.summary).toMatch(/changes requested by dave/);
    expect(gh.requests.filter((q) => q.path.includes('/reviews'))).toHaveLength(2);
  });

  it('a ghost (deleted) reviewer is handled', async () => {
    reset({ pulls: [pull], reviews: { 42: [{ user: null, state: 'APPROVED', submitted_at: '2024-05-01T10:00:00Z' }] } });
    const r = await client.reviewStatus(SHA);
    expect(r.approved).toBe(true);
    expect(r.reviews[0]?.user).toBe('ghost');
  });

  it('401 without token / rate limit / 500 / unreachable → not approved, with a reason', async () => {
    reset({ pulls: [pull], reviews: { 42: [{ user: 'alice', state: 'APPROVED', submitted_at: '2024-05-01T10:00:00Z' }] } });
    const anon = await new GitHubClient({ apiUrl: gh.url, repo: 'acme/trading' }).reviewStatus(SHA);
    expect(anon).toMatchObject({ approved: false });
    expect(anon.error).toMatch(/401/);

    gh.failure = { kind: 'rate-limit' };
    gh.failAfter = 1; // the pulls list works, the reviews call is refused
    const limited = await client.reviewStatus(SHA);
    expect(limited.approved).toBe(false);
    expect(limited.pullRequests).toHaveLength(1);
    expect(limited.summary).toMatch(/unknown: .*rate limit/);
    expectNoToken(limited);

    reset({ pulls: [pull] });
    gh.failure = { kind: 'status', status: 500 };
    const broken = await client.reviewStatus(SHA);
    expect(broken.approved).toBe(false);
    expect(broken.error).toMatch(/HTTP 500/);
    expectNoToken(broken);

    const port = await freePort();
    const gone = await new GitHubClient({ apiUrl: `http://127.0.0.1:${port}`, repo: 'acme/trading', token: TOKEN }).reviewStatus(SHA);
    expect(gone.approved).toBe(false);
    expect(gone.error).toMatch(/ECONNREFUSED/);
    expectNoToken(gone);
  });
});

describe('failedRuns / failedJobs', () => {
  it('lists failed workflow runs for the commit and their failed steps', async () => {
    reset({
      workflowRuns: [
        { id: 30433642, name: 'Build', head_sha: SHA, status: 'completed', conclusion: 'success' },
        { id: 30433643, name: 'Tests', head_sha: SHA, status: 'completed', conclusion: 'failure', run_number: 562 },
        { id: 30433644, name: 'E2E', head_sha: SHA, status: 'in_progress', conclusion: null },
        { id: 30433645, name: 'Deploy check', head_sha: SHA, status: 'completed', conclusion: 'timed_out' },
        { id: 30433646, name: 'Tests', head_sha: OTHER, status: 'completed', conclusion: 'failure' },
      ],
      jobs: {
        30433643: [
          { id: 1, name: 'unit', status: 'completed', conclusion: 'success', steps: [{ number: 1, name: 'Run tests', status: 'completed', conclusion: 'success' }] },
          {
            id: 2,
            name: 'integration',
            status: 'completed',
            conclusion: 'failure',
            steps: [
              { number: 1, name: 'Set up job', status: 'completed', conclusion: 'success' },
              { number: 2, name: 'npm test', status: 'completed', conclusion: 'failure' },
              { number: 3, name: 'Upload logs', status: 'completed', conclusion: 'skipped' },
            ],
          },
        ],
      },
    });
    const runs = await client.failedRuns(SHA);
    expect(runs.error).toBeUndefined();
    expect(runs.total).toBe(4);
    expect(runs.runs.map((r) => [r.id, r.name, r.conclusion])).toEqual([
      [30433643, 'Tests', 'failure'],
      [30433645, 'Deploy check', 'timed_out'],
    ]);
    expect(runs.runs[0]).toMatchObject({ runNumber: 562, event: 'push', url: 'https://github.com/acme/trading/actions/runs/30433643' });
    expect(gh.requests[0]?.path).toContain(`head_sha=${SHA}`);

    const jobs = await client.failedJobs(30433643);
    expect(jobs.jobs).toEqual([
      { id: 2, name: 'integration', conclusion: 'failure', url: 'https://github.com/acme/trading/actions/runs/30433643/job/2', failedSteps: [{ number: 2, name: 'npm test', conclusion: 'failure' }] },
    ]);
    expect(jobs.summary).toContain('integration (failure; step 2 "npm test")');
  });

  it('reports API trouble instead of "no failures"', async () => {
    reset({ workflowRuns: [{ id: 1, name: 'Tests', head_sha: SHA, status: 'completed', conclusion: 'failure' }] });
    gh.failure = { kind: 'rate-limit' };
    const runs = await client.failedRuns(SHA);
    expect(runs.runs).toEqual([]);
    expect(runs.error).toMatch(/rate limit/);
    const jobs = await client.failedJobs(1);
    expect(jobs.error).toMatch(/rate limit/);
    expectNoToken(runs);
    expectNoToken(jobs);
  });
});

describe('helpers and construction', () => {
  it('parses Link headers', () => {
    expect(nextLink('<https://api.github.com/repositories/1/x?page=2>; rel="next", <https://api.github.com/repositories/1/x?page=5>; rel="last"')).toBe(
      'https://api.github.com/repositories/1/x?page=2',
    );
    expect(nextLink('<https://a/x?page=1>; rel="prev", <https://a/x?page=1>; rel="first"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });

  it('rejects a malformed repo or apiUrl without echoing the token', () => {
    expect(() => new GitHubClient({ apiUrl: 'https://api.github.com', repo: 'just-a-name', token: TOKEN })).toThrow(/owner\/name/);
    expect(() => new GitHubClient({ apiUrl: 'not a url', repo: 'a/b', token: TOKEN })).toThrow(/not a URL/);
    try {
      new GitHubClient({ apiUrl: 'nope', repo: 'a/b', token: TOKEN });
    } catch (err) {
      expect(String(err)).not.toContain(TOKEN);
    }
  });
});
