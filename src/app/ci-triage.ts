import { GitHubClient } from '../adapters/ci/github.js';
import { triageJob, type Triage } from '../core/ci-triage.js';
import { badInput, failed } from '../core/errors.js';
import { assertVersionSyntax } from '../core/version.js';
import type { AppContext } from './context.js';

export interface TriagedJob extends Triage {
  run: { id: number; name: string; url: string };
  job: { id: number; name: string; url: string; conclusion: string };
  failedSteps: string[];
  commands: { logs: string; rerun: string; reproduce: string[] };
}

/** The seed's CI triage for a commit: failed runs, failed jobs and steps, each classified with its fix. */
export async function triageCommit(ctx: AppContext, version: string): Promise<{ commit: string; summary: string; jobs: TriagedJob[] }> {
  assertVersionSyntax(version);
  const gh = ctx.config.preflight?.github;
  if (!gh) throw badInput('no GitHub repository configured', { where: 'shipgate.yml: preflight.github', hint: 'Add preflight.github: { repo: owner/name, tokenEnv: GITHUB_TOKEN }.' });
  const commit = await ctx.repo.resolve(version);
  const client = new GitHubClient({ apiUrl: gh.apiUrl, repo: gh.repo, ...(ctx.env[gh.tokenEnv] ? { token: ctx.env[gh.tokenEnv]! } : {}) });
  const runs = await client.failedRuns(commit);
  if (runs.error) throw failed(`could not read the CI runs of ${commit.slice(0, 10)}: ${runs.error}`, { hint: `Check ${gh.tokenEnv} and the repository name.` });
  const reproduce = (ctx.config.preflight?.commands ?? []).map((c) => c.command.join(' '));
  const jobs: TriagedJob[] = [];
  for (const run of runs.runs) {
    const report = await client.failedJobs(run.id);
    for (const job of report.jobs) {
      jobs.push({
        ...triageJob(job),
        run: { id: run.id, name: run.name, url: run.url },
        job: { id: job.id, name: job.name, url: job.url, conclusion: job.conclusion },
        failedSteps: job.failedSteps.map((s) => s.name),
        commands: { logs: `gh run view ${run.id} --log-failed`, rerun: `gh run rerun ${run.id} --failed`, reproduce: reproduce.length ? reproduce : ['make ci-local'] },
      });
    }
  }
  return { commit, summary: runs.summary, jobs };
}
