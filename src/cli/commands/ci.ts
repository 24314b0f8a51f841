import type { Command } from 'commander';
import pc from 'picocolors';
import { triageCommit } from '../../app/ci-triage.js';
import { line, printJson } from '../output.js';
import { globalOptions, withContext } from '../shared.js';

export function registerCiCommands(program: Command): void {
  const ci = program.command('ci').description('CI triage (seed: ops workflow §3)');
  ci.command('triage')
    .description('the failed GitHub Actions runs of a commit: each failed job classified (type errors, lint, imports, tests, timeout, coverage) with the likely cause, the fix and the commands to read, reproduce and re-run it')
    .argument('<version>', 'tag or commit')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate ci triage v1.2.3')
    .action(async (version: string, _opts, cmd: Command) => {
      const result = await withContext(cmd, (ctx) => triageCommit(ctx, version));
      if (globalOptions(cmd).json) return printJson(result);
      line(`${result.commit.slice(0, 10)}: ${result.summary}`);
      if (!result.jobs.length) return line(pc.green('no failed jobs'));
      for (const j of result.jobs) {
        line(`${pc.red('✗')} ${j.run.name} / ${j.job.name}: ${pc.bold(j.type)}${j.failedSteps.length ? ` (failed step: ${j.failedSteps.join(', ')})` : ''}`);
        line(`    likely: ${j.likelyCause}\n    fix: ${j.fix}\n    logs: ${j.commands.logs}\n    reproduce: ${j.commands.reproduce.join(' && ')}\n    re-run: ${j.commands.rerun}`);
      }
    });
}
