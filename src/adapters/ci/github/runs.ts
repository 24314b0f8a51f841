// Actions workflow runs and their jobs: the failed ones for triage, one run, the jobs of a run.
//
// GET  /repos/{o}/{r}/actions/runs/{id}                    the run (head_sha, run_attempt, conclusion)
// GET  /repos/{o}/{r}/actions/runs/{id}/jobs               every job of the latest attempt, with steps
// GET  /repos/{o}/{r}/actions/runs?head_sha={sha}         the runs of a commit

import type { GitHubHttp, Json } from './http.js';
import { assertId, GitHubError, isRecord, optString } from './http.js';
import { FAILING_CONCLUSIONS, listNames, shortSha } from './summary.js';
import type { FailedJob, FailedJobsReport, FailedRun, FailedRunsReport, RunJob, WorkflowRun } from './types.js';

export async function failedRuns(http: GitHubHttp, sha: string): Promise<FailedRunsReport> {
  const at = shortSha(sha);
  let raw: Json[];
  try {
    raw = await http.paginate('actions/runs', 'workflow_runs', undefined, { head_sha: sha });
  } catch (err) {
    const reason = http.describe(err);
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
export async function failedJobs(http: GitHubHttp, runId: number): Promise<FailedJobsReport> {
  if (!Number.isSafeInteger(runId) || runId <= 0) throw new Error(`invalid workflow run id ${runId}`);
  let raw: Json[];
  try {
    raw = await http.paginate(`actions/runs/${runId}/jobs`, 'jobs');
  } catch (err) {
    const reason = http.describe(err);
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

export async function workflowRun(http: GitHubHttp, runId: number): Promise<WorkflowRun> {
  assertId(runId, 'workflow run');
  const { body } = await http.get(http.repoUrl(`actions/runs/${runId}`));
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
export async function commitRuns(http: GitHubHttp, sha: string): Promise<WorkflowRun[]> {
  const raw = await http.paginate('actions/runs', 'workflow_runs', undefined, { head_sha: sha });
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

export async function runJobs(http: GitHubHttp, runId: number): Promise<RunJob[]> {
  assertId(runId, 'workflow run');
  const raw = await http.paginate(`actions/runs/${runId}/jobs`, 'jobs');
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
