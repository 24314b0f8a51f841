import type { Command } from 'commander';
import pc from 'picocolors';
import { findConfigFile } from '../../config/locate.js';
import type { Triage } from '../../core/ci/verdict.js';
import { badInput, ExitCode } from '../../core/errors.js';
import { line, printJson, table } from '../output.js';
import { globalOptions, withContext } from '../shared.js';

export function registerCiCommands(program: Command): void {
  const ci = program.command('ci').description('CI triage, flaky tests, re-runs and checks (seed: ops workflow §3)');

  ci.command('triage')
    .description('why CI failed, read from the log: the failed step, the category, the first error, the files and failing tests, the command to reproduce and the fix')
    .argument('[run]', 'workflow run id, run URL, tag or commit (read through the GitHub API)')
    .option('--log <file>', 'triage a saved log instead (raw job log, gh run view --log-failed, or plain output); - for stdin')
    .option('--junit <files...>', 'JUnit XML reports as extra evidence of failing tests')
    .option('--commit <sha>', 'the commit the log and reports belong to: their test outcomes are kept for flaky detection')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  gh run view 123 --log-failed | shipgate ci triage --log -\n  shipgate ci triage --log job.log --junit reports/unit.xml --commit HEAD\n  shipgate ci triage v1.2.3\n  shipgate ci triage https://github.com/acme/trading/actions/runs/123')
    .action(async (run: string | undefined, opts: { log?: string; junit?: string[]; commit?: string }, cmd: Command) => {
      const json = globalOptions(cmd).json ?? false;
      if (opts.log !== undefined) {
        if (run !== undefined) throw badInput('give either a run or --log, not both', { where: '<run>', hint: 'shipgate ci triage --log FILE, or shipgate ci triage <run-id>' });
        // Only the log path's modules: no GitHub client, and without a shipgate.yml no config (YAML, schema) either.
        const { openLog, triageLogWithProject } = await import('../../app/ci/log-triage.js');
        const triageOpts = { junit: opts.junit ?? [], commit: opts.commit };
        const triage = hasProject(cmd)
          ? await withContext(cmd, (ctx) => triageLogWithProject(ctx, openLog(opts.log!), triageOpts))
          : await triageLogWithProject(null, openLog(opts.log), triageOpts);
        if (json) return printJson(triage);
        return renderTriage(triage);
      }
      if (run === undefined) throw badInput('nothing to triage', { where: '<run>', hint: 'Give a run id, run URL, tag or commit, or --log FILE.' });
      const { triageRemote } = await import('../../app/ci-triage.js');
      const runs = await withContext(cmd, (ctx) => triageRemote(ctx, run));
      if (json) return printJson({ runs });
      if (!runs.length) return line('no workflow runs found');
      for (const r of runs) {
        line(`${pc.bold(r.run.name)} run ${r.run.id} (attempt ${r.run.attempt}, ${r.run.conclusion ?? r.run.commit.slice(0, 10)}) ${r.run.url}`);
        if (!r.jobs.length) line(`  ${pc.green('no failed jobs')}`);
        for (const j of r.jobs) {
          line(`${pc.red('✗')} job ${j.job.name} ${j.job.url}`);
          renderTriage(j, '    ');
          for (const a of j.annotations.slice(0, 10)) line(`    annotation: ${a.path}${a.line ? `:${a.line}` : ''} ${a.level}: ${a.message.split('\n')[0]}`);
        }
      }
    });

  ci.command('flaky')
    .description('tests that passed and failed on the same commit (from triaged runs, logs and JUnit reports), with counts and when last seen')
    .option('--json', 'print JSON')
    .action(async (_opts, cmd: Command) => {
      const { listFlaky } = await import('../../app/ci-triage.js');
      const flaky = await withContext(cmd, listFlaky);
      if (globalOptions(cmd).json) return printJson({ flaky });
      if (!flaky.length) return line('no flaky tests known');
      line(table([['test', 'passed', 'failed', 'commits', 'last seen'], ...flaky.map((f) => [f.test, String(f.passed), String(f.failed), f.commits.map((c) => c.slice(0, 10)).join(' '), f.lastSeen])]));
    });

  ci.command('rerun')
    .description('re-run the failed jobs of a workflow run through the GitHub API')
    .argument('<run>', 'workflow run id or run URL')
    .option('--failed', 'only the failed jobs (and their dependents); required')
    .option('--json', 'print JSON')
    .action(async (runRef: string, opts: { failed?: boolean }, cmd: Command) => {
      if (!opts.failed) throw badInput('only re-running the failed jobs is supported', { where: '--failed', hint: `shipgate ci rerun ${runRef} --failed` });
      const { rerunFailed } = await import('../../app/ci-triage.js');
      const { run } = await withContext(cmd, (ctx) => rerunFailed(ctx, runRef));
      if (globalOptions(cmd).json) return printJson({ ok: true, run });
      line(`re-running the failed jobs of ${run.name} run ${run.id}: ${run.url}`);
    });

  ci.command('status')
    .description("each check of a commit, tag or pull request with its state and link (gh's statusCheckRollup)")
    .argument('<ref>', 'tag, commit, or pull request as #N')
    .option('--json', 'print JSON')
    .action(async (ref: string, _opts, cmd: Command) => {
      const { commitChecks } = await import('../../app/ci-triage.js');
      const result = await withContext(cmd, (ctx) => commitChecks(ctx, ref));
      if (globalOptions(cmd).json) printJson(result);
      else {
        line(result.summary);
        if (result.checks.length) line(table([['check', 'state', 'link'], ...result.checks.map((c) => [c.name, colourState(c.state), c.url ?? ''])]));
      }
      if (result.state !== 'success') process.exitCode = ExitCode.failed;
    });

  ci.command('local')
    .description('run the local CI steps (ci.local in shipgate.yml) with live output; on a failure, triage it')
    .option('--json', 'print JSON (step output goes to stderr)')
    .action(async (_opts, cmd: Command) => {
      const json = globalOptions(cmd).json ?? false;
      const { runLocalCi } = await import('../../app/ci-triage.js');
      const result = await withContext(cmd, (ctx) => runLocalCi(ctx, json ? process.stderr : process.stdout));
      if (json) printJson(result);
      else if (result.triage) {
        line(pc.red('✗ local CI failed'));
        renderTriage(result.triage);
      } else line(pc.green(`✓ ${result.steps.length} local CI step(s) passed`));
      if (result.triage) process.exitCode = ExitCode.failed;
    });
}

function hasProject(cmd: Command): boolean {
  // A saved log can be triaged anywhere; inside a project its causes, local commands and the store are used too.
  if (globalOptions(cmd).config) return true;
  return findConfigFile(process.cwd()) !== undefined;
}

function colourState(state: string): string {
  return state === 'success' || state === 'neutral' || state === 'skipped' ? pc.green(state) : ['failure', 'error', 'timed_out', 'cancelled'].includes(state) ? pc.red(state) : pc.yellow(state);
}

export function renderTriage(t: Triage, indent = ''): void {
  const colour = t.category === 'none' ? pc.green : pc.red;
  const rows: [string, string][] = [
    ['failedStep', t.failedStep ?? '(not named: plain log)'],
    ['category', colour(t.category) + (t.secondary.length ? `  (also: ${t.secondary.join(', ')})` : '')],
    ['firstError', t.firstError ?? '-'],
    ['files', t.files.length ? t.files.join(', ') : '-'],
    ['tests', t.tests.length ? t.tests.join(', ') : '-'],
    ['exitCode', t.exitCode === null ? '-' : String(t.exitCode)],
    ['tool', t.tool ?? '-'],
    ['reproduce', t.reproduce ? t.reproduce.split('\n').join(' && ') : '-'],
  ];
  for (const [k, v] of rows) line(`${indent}${k.padEnd(11)} ${v}`);
  for (const h of t.hints) line(`${indent}${'hint'.padEnd(11)} ${h}`);
}
