// What the GitHub client answers: reports for deploy gates and the Actions data triage reads.

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
