import type { Command } from 'commander';
import pc from 'picocolors';
import { ExitCode } from '../../core/errors.js';
import { line, printJson, table } from '../output.js';
import { globalOptions, withContext } from '../shared.js';

export function registerPreflightCommand(program: Command): void {
  program
    .command('preflight')
    .description('the pre-deployment checklist for a release: CI, tests and lint, ADRs, migrations tested, secrets, rollback plan, review, stakeholders, changelog')
    .argument('<version>', 'release (tag or commit)')
    .option('--env <env>', 'target environment', 'production')
    .option('--attest <item>', 'record that a person checked an item (e.g. stakeholders-notified)')
    .option('--by <name>', 'who attests (with --attest)')
    .option('--note <text>', 'what was checked (with --attest)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  shipgate preflight v1.2.3\n  shipgate preflight v1.2.3 --attest stakeholders-notified --by alice --note "posted in #trading-ops"')
    .action(async (version: string, opts: { env: string; attest?: string; by?: string; note?: string }, cmd: Command) => {
      const json = Boolean(globalOptions(cmd).json);
      const { attest, runPreflight } = await import('../../app/preflight.js');
      const result = await withContext(cmd, async (ctx) => {
        if (opts.attest) await attest(ctx, version, opts.attest, opts.by ?? '', opts.note);
        return runPreflight(ctx, version, opts.env);
      });
      process.exitCode = result.passed ? ExitCode.ok : ExitCode.failed;
      if (json) return printJson(result);
      const mark = { pass: pc.green('pass'), fail: pc.red('FAIL'), attested: pc.cyan('attested'), info: pc.dim('info') };
      line(pc.bold(`preflight ${result.version} (${result.commit.slice(0, 10)}) for ${result.env}`));
      line(table([['ITEM', 'STATUS', 'EVIDENCE'], ...result.items.map((i) => [i.title, mark[i.status], i.evidence])]));
      for (const i of result.items.filter((x) => x.status === 'fail' && x.output?.length)) line(pc.dim(`--- ${i.title}\n${i.output!.join('\n')}`));
      if (result.changelog.length) line(`\nchangelog:\n${result.changelog.map((c) => `  ${c}`).join('\n')}`);
      line(result.passed ? pc.green('\npreflight passed') : pc.red('\npreflight failed: fix or attest the items marked FAIL'));
    });
}
