// A job's plain-text log and its annotations.
//
// GET  /repos/{o}/{r}/actions/jobs/{id}/logs               302 to a short-lived plain-text download URL
// GET  /repos/{o}/{r}/check-runs/{id}/annotations          a job's annotations (a job is a check run)

import type { GitHubHttp } from './http.js';
import { assertId, GitHubError, optString, parseJson } from './http.js';
import type { Annotation } from './types.js';

/**
 * The plain-text log of one job, as a stream. GitHub answers with a redirect to a pre-signed URL
 * on another host: that URL is fetched without the token (it carries its own signature).
 */
export async function jobLog(http: GitHubHttp, jobId: number): Promise<ReadableStream<Uint8Array>> {
  assertId(jobId, 'job');
  const url = http.repoUrl(`actions/jobs/${jobId}/logs`);
  const where = `GET ${url.pathname}`;
  let res = await http.send('GET', url, true);
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
    res = await http.send('GET', target, false);
  }
  if (!res.ok || !res.body) {
    const text = await res.text().catch(() => '');
    throw http.httpError(res, parseJson(text), where);
  }
  return res.body;
}

export async function annotations(http: GitHubHttp, checkRunId: number): Promise<Annotation[]> {
  assertId(checkRunId, 'check run');
  const raw = await http.paginate(`check-runs/${checkRunId}/annotations`);
  return raw.map((a) => ({
    path: optString(a.path) ?? '',
    line: typeof a.start_line === 'number' ? a.start_line : null,
    level: optString(a.annotation_level) ?? 'failure',
    title: optString(a.title) ?? null,
    message: optString(a.message) ?? '',
  }));
}
