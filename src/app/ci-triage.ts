import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { GitHubClient, type Annotation, type RunJob, type WorkflowRun } from '../adapters/ci/github.js';
import { flakyTests, type FlakyTest } from '../core/ci/flaky.js';
import type { Triage } from '../core/ci/verdict.js';
import { isoNow } from '../core/clock.js';
import { badInput, failed } from '../core/errors.js';
import { assertVersionSyntax } from '../core/version.js';
import { record } from './audit.js';
import { markFlaky, outcomes, readJUnit, scanLog, triageInputs, triageWithJUnit } from './ci/log-triage.js';
import type { AppContext } from './context.js';

export interface TriagedJob extends Triage {
  job: { id: number; name: string; url: string; conclusion: string | null };
  annotations: Annotation[];
}

export interface RunTriage {
  run: { id: number; name: string; url: string; commit: string; attempt: number; conclusion: string | null };
  jobs: TriagedJob[];
}

const FAILING = new Set(['failure', 'timed_out', 'cancelled', 'startup_failure']);

export function githubClient(ctx: AppContext): GitHubClient {
  const gh = ctx.config.preflight?.github;
  if (!gh) throw badInput('no GitHub repository configured', { where: 'shipgate.yml: preflight.github', hint: 'Add preflight.github: { repo: owner/name, tokenEnv: GITHUB_TOKEN }.' });
  return new GitHubClient({ apiUrl: gh.apiUrl, repo: gh.repo, ...(ctx.env[gh.tokenEnv] ? { token: ctx.env[gh.tokenEnv]! } : {}) });
}

/** `<run-id | run URL | tag | commit>`: the run ids to triage. A commit or tag means its failed runs. */
async function resolveRuns(ctx: AppContext, client: GitHubClient, ref: string): Promise<number[]> {
  const url = /^https?:\/\/[^/]+\/([\w.-]+\/[\w.-]+)\/actions\/runs\/(\d+)(\/|$)/.exec(ref);
  if (url) {
    if (url[1]!.toLowerCase() !== client.repo.toLowerCase()) throw badInput(`the run URL is for ${url[1]}, not the configured ${client.repo}`, { where: 'run URL', hint: 'Triage runs of the repository in preflight.github.repo.' });
    return [Number(url[2])];
  }
  if (/^\d{1,15}$/.test(ref)) return [Number(ref)]; // a run id; commits and tags are never all digits here
  assertVersionSyntax(ref);
  const commit = await ctx.repo.resolve(ref);
  const runs = await ask(client, () => client.commitRuns(commit), `the workflow runs of ${commit.slice(0, 10)}`);
  const failing = runs.filter((r) => r.status === 'completed' && r.conclusion !== null && FAILING.has(r.conclusion));
  return failing.length ? failing.map((r) => r.id) : runs.map((r) => r.id);
}

async function ask<T>(client: GitHubClient, call: () => Promise<T>, what: string): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw failed(`could not read ${what}: ${client.explain(err)}`, { hint: 'Check the token variable (preflight.github.tokenEnv) and the repository name.' });
  }
}

/** Each failed job of the run(s): its log triaged, its annotations; every job's test outcomes kept for flaky detection. */
export async function triageRemote(ctx: AppContext, ref: string): Promise<RunTriage[]> {
  const client = githubClient(ctx);
  const inputs = triageInputs(ctx.config);
  const result: RunTriage[] = [];
  for (const runId of await resolveRuns(ctx, client, ref)) {
    const run = await ask(client, () => client.workflowRun(runId), `run ${runId}`);
    const jobs = await ask(client, () => client.runJobs(runId), `the jobs of run ${runId}`);
    const triaged: TriagedJob[] = [];
    const rows = [];
    for (const job of jobs.filter((j) => j.status === 'completed')) {
      const isFailed = job.conclusion !== null && FAILING.has(job.conclusion);
      const log = await ask(client, () => client.jobLog(job.id), `the log of job ${job.id} (${job.name})`);
      const facts = await scanLog(Readable.fromWeb(log as WebReadableStream<Uint8Array>), inputs.causes);
      let triage = triageWithJUnit(facts, [], inputs);
      rows.push(...outcomes(triage, facts, [], run.headSha, `run ${run.id} attempt ${run.attempt}`, isoNow(ctx.clock)));
      if (!isFailed) continue;
      triage = withJobFacts(triage, job);
      const annotations = await ask(client, () => client.annotations(job.checkRunId), `the annotations of job ${job.id}`);
      triaged.push({ ...triage, job: { id: job.id, name: job.name, url: job.url, conclusion: job.conclusion }, annotations });
    }
    if (run.headSha && rows.length) await ctx.store.recordTestOutcomes(rows);
    for (let i = 0; i < triaged.length; i++) triaged[i] = { ...triaged[i]!, ...(await markFlaky(ctx.store, triaged[i]!)) };
    result.push({ run: { id: run.id, name: run.name, url: run.url, commit: run.headSha, attempt: run.attempt, conclusion: run.conclusion }, jobs: triaged });
  }
  return result;
}

/** What the API knows better than the log: which step failed, and that a job timed out. */
function withJobFacts(triage: Triage, job: RunJob): Triage {
  const failedStep = job.steps.find((s) => s.conclusion !== null && FAILING.has(s.conclusion))?.name ?? triage.failedStep;
  if (job.conclusion === 'timed_out' && triage.category !== 'job-timeout') {
    return { ...triage, failedStep, category: 'job-timeout', secondary: [triage.category, ...triage.secondary].filter((c) => c !== 'none' && c !== 'unknown' && c !== 'job-timeout'), hints: ['The job hit its timeout-minutes: find the slow step, cache dependencies or split the job.', ...triage.hints] };
  }
  return { ...triage, failedStep };
}

export { triageLogWithProject, type LogTriageOptions } from './ci/log-triage.js';

export async function listFlaky(ctx: AppContext): Promise<FlakyTest[]> {
  return flakyTests(await ctx.store.countTestOutcomes());
}

export async function rerunFailed(ctx: AppContext, runRef: string): Promise<{ run: WorkflowRun }> {
  const client = githubClient(ctx);
  const m = /^(?:https?:\/\/[^/]+\/[\w.-]+\/[\w.-]+\/actions\/runs\/)?(\d+)(\/.*)?$/.exec(runRef);
  if (!m) throw badInput(`"${runRef}" is not a workflow run id or run URL`, { where: '<run-id>', hint: 'e.g. shipgate ci rerun 123456789 --failed' });
  const runId = Number(m[1]);
  const run = await ask(client, () => client.workflowRun(runId), `run ${runId}`);
  try {
    await client.rerunFailedJobs(runId);
  } catch (err) {
    await record(ctx, { action: 'ci.rerun', outcome: 'failed', version: run.headSha || null, detail: { runId, error: client.explain(err) } });
    throw failed(`GitHub refused to re-run the failed jobs of run ${runId}: ${client.explain(err)}`, { hint: 'The token needs actions: write; a run still in progress cannot be re-run.' });
  }
  await record(ctx, { action: 'ci.rerun', outcome: 'requested', version: run.headSha || null, detail: { runId, failedOnly: true, url: run.url } });
  return { run };
}

export interface CheckState {
  name: string;
  kind: 'check-run' | 'status';
  state: string;
  url: string | null;
}

/** `ci status <tag|commit|pr>`: every check of the commit with its state and link (gh's statusCheckRollup). */
export async function commitChecks(ctx: AppContext, ref: string): Promise<{ commit: string; state: string; summary: string; checks: CheckState[] }> {
  const client = githubClient(ctx);
  const pr = /^(?:#|pr\/?|pull\/)(\d+)$/i.exec(ref);
  let commit: string;
  if (pr) commit = await ask(client, () => client.pullHeadSha(Number(pr[1])), `pull request #${pr[1]}`);
  else {
    assertVersionSyntax(ref);
    commit = await ctx.repo.resolve(ref);
  }
  const report = await client.ciStatus(commit);
  if (report.error) throw failed(`could not read the checks of ${commit.slice(0, 10)}: ${report.error}`, { hint: 'Check the token variable (preflight.github.tokenEnv) and the repository name.' });
  const checks: CheckState[] = [
    ...report.checkRuns.map((c) => ({ name: c.name, kind: 'check-run' as const, state: c.status === 'completed' ? c.conclusion ?? 'no conclusion' : c.status, url: c.url ?? null })),
    ...report.statuses.map((s) => ({ name: s.context, kind: 'status' as const, state: s.state, url: s.url ?? null })),
  ];
  return { commit, state: report.state, summary: report.summary, checks };
}

export interface LocalStepResult {
  name: string;
  command: string;
  exitCode: number;
}

/** `ci local`: the configured local CI steps in order, output live; on the first failure, its triage. */
export async function runLocalCi(ctx: AppContext, echo: NodeJS.WritableStream): Promise<{ steps: LocalStepResult[]; triage: Triage | null }> {
  const steps = ctx.config.ci?.local ?? [];
  if (!steps.length) throw badInput('no local CI steps configured', { where: 'shipgate.yml: ci.local', hint: 'Add ci.local: [{ name: tests, command: [make, ci-local] }].' });
  const { runLiveStep } = await import('../adapters/ci/local-steps.js');
  const { LogScanner } = await import('../core/ci/scanner.js');
  const { verdict } = await import('../core/ci/verdict.js');
  const { resolve } = await import('node:path');
  const inputs = triageInputs(ctx.config);
  const results: LocalStepResult[] = [];
  for (const step of steps) {
    const scanner = new LogScanner(inputs.causes);
    const command = step.command.join(' ');
    echo.write(`▶ ${step.name}: ${command}\n`);
    const { exitCode } = await runLiveStep(step.command as [string, ...string[]], { cwd: resolve(ctx.configDir, step.cwd), env: ctx.env, echo, onOutput: (c) => scanner.push(c) });
    results.push({ name: step.name, command, exitCode });
    if (exitCode !== 0) {
      const facts = scanner.end();
      const t = verdict({ ...facts, exitCode, failedStep: step.name, steps: [{ name: step.name, script: [command] }] }, { localCommands: [command] });
      const triage = t.category === 'none' ? { ...t, category: 'unknown' as const, hints: ['The step failed and no known cause matched: read its output above.'] } : t;
      return { steps: results, triage: await markFlaky(ctx.store, triage) };
    }
  }
  return { steps: results, triage: null };
}
