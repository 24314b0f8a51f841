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
//
// The client is a facade: the transport is github/http.ts, each group of endpoints its own file.

import { annotations, jobLog } from './github/logs.js';
import { ciStatus } from './github/checks.js';
import { GitHubHttp } from './github/http.js';
import { rerunFailedJobs } from './github/reruns.js';
import { pullHeadSha, reviewStatus } from './github/reviews.js';
import { commitRuns, failedJobs, failedRuns, runJobs, workflowRun } from './github/runs.js';
import type { Annotation, CiReport, FailedJobsReport, FailedRunsReport, GitHubOptions, ReviewReport, RunJob, WorkflowRun } from './github/types.js';

export type * from './github/types.js';
export { GITHUB_API_VERSION, GitHubError, nextLink, type GitHubErrorKind } from './github/http.js';

export class GitHubClient {
  private readonly http: GitHubHttp;

  constructor(opts: GitHubOptions) {
    this.http = new GitHubHttp(opts);
  }

  get repo(): string {
    return this.http.repo;
  }

  ciStatus(sha: string): Promise<CiReport> {
    return ciStatus(this.http, sha);
  }

  reviewStatus(sha: string): Promise<ReviewReport> {
    return reviewStatus(this.http, sha);
  }

  failedRuns(sha: string): Promise<FailedRunsReport> {
    return failedRuns(this.http, sha);
  }

  /** Failed jobs of one workflow run (latest attempt) and, per job, the steps that failed. */
  failedJobs(runId: number): Promise<FailedJobsReport> {
    return failedJobs(this.http, runId);
  }

  // These throw GitHubError; `explain` turns one into a sentence without the token.

  workflowRun(runId: number): Promise<WorkflowRun> {
    return workflowRun(this.http, runId);
  }

  /** Workflow runs of a commit, newest first as GitHub lists them. */
  commitRuns(sha: string): Promise<WorkflowRun[]> {
    return commitRuns(this.http, sha);
  }

  runJobs(runId: number): Promise<RunJob[]> {
    return runJobs(this.http, runId);
  }

  /** The plain-text log of one job, as a stream (fetched from GitHub's redirect without the token). */
  jobLog(jobId: number): Promise<ReadableStream<Uint8Array>> {
    return jobLog(this.http, jobId);
  }

  annotations(checkRunId: number): Promise<Annotation[]> {
    return annotations(this.http, checkRunId);
  }

  rerunFailedJobs(runId: number): Promise<void> {
    return rerunFailedJobs(this.http, runId);
  }

  pullHeadSha(number: number): Promise<string> {
    return pullHeadSha(this.http, number);
  }

  /** A GitHubError (or anything thrown here) as one sentence, without the token. */
  explain(err: unknown): string {
    return this.http.describe(err);
  }
}
