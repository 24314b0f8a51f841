// CI state of a commit: combined commit status and check runs.

import type { GitHubHttp, Json } from './http.js';
import { optString } from './http.js';
import { listNames, PASSING_CONCLUSIONS, shortSha } from './summary.js';
import type { CiReport, CiState } from './types.js';

export async function ciStatus(http: GitHubHttp, sha: string): Promise<CiReport> {
  const ref = encodeURIComponent(sha);
  let combinedState: string | undefined;
  let rawStatuses: Json[];
  let rawChecks: Json[];
  try {
    [rawStatuses, rawChecks] = await Promise.all([
      http.paginate(`commits/${ref}/status`, 'statuses', (page) => {
        combinedState ??= optString(page.state);
      }),
      http.paginate(`commits/${ref}/check-runs`, 'check_runs'),
    ]);
  } catch (err) {
    const reason = http.describe(err);
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
    summary = `no commit statuses or check runs reported for ${at} on ${http.repo}`;
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
