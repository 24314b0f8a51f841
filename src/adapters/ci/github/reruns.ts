// Re-running the failed jobs of a workflow run (the one write the client makes).
//
// POST /repos/{o}/{r}/actions/runs/{id}/rerun-failed-jobs  201, re-runs the failed jobs and their dependents

import type { GitHubHttp } from './http.js';
import { assertId, parseJson } from './http.js';

export async function rerunFailedJobs(http: GitHubHttp, runId: number): Promise<void> {
  assertId(runId, 'workflow run');
  const url = http.repoUrl(`actions/runs/${runId}/rerun-failed-jobs`);
  const res = await http.send('POST', url, true);
  const text = await res.text().catch(() => '');
  if (res.status !== 201 && res.status !== 204) throw http.httpError(res, parseJson(text), `POST ${url.pathname}`);
}
