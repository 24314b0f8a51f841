// Review approval of a commit, through the pull requests that contain it.

import type { GitHubHttp, Json } from './http.js';
import { assertId, GitHubError, isRecord, optString } from './http.js';
import { listNames, shortSha } from './summary.js';
import type { ReviewReport } from './types.js';

export async function reviewStatus(http: GitHubHttp, sha: string): Promise<ReviewReport> {
  const at = shortSha(sha);
  let prs: Json[];
  try {
    prs = await http.paginate(`commits/${encodeURIComponent(sha)}/pulls`);
  } catch (err) {
    const reason = http.describe(err);
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
    return { approved: false, pullRequests, reviews: [], summary: `no pull request is associated with ${at} on ${http.repo}; nothing approved it` };
  }

  const reviews: ReviewReport['reviews'] = [];
  const verdicts: { pr: number; approvers: string[]; blockers: string[] }[] = [];
  try {
    for (const pr of pullRequests) {
      const raw = await http.paginate(`pulls/${pr.number}/reviews`);
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
    const reason = http.describe(err);
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

export async function pullHeadSha(http: GitHubHttp, number: number): Promise<string> {
  assertId(number, 'pull request');
  const { body } = await http.get(http.repoUrl(`pulls/${number}`));
  const sha = isRecord(body) && isRecord(body.head) ? optString(body.head.sha) : undefined;
  if (!sha) throw new GitHubError(`unexpected answer for pull request #${number}: no head.sha`, 'bad-response');
  return sha;
}
