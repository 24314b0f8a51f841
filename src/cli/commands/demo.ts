import type { Command } from 'commander';
import pc from 'picocolors';
import { ExitCode } from '../../core/errors.js';
import { runDemo } from '../../demo/story.js';
import { line, printJson, table } from '../output.js';
import { consoleProgress } from '../progress.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the whole story on a sample trading stack: deploy, a bad release, rollback; needs no config and no servers')
    .option('--json', 'print a summary object')
    .option('--keep', 'keep the demo\'s work directory (its shipgate.yml, store and logs)')
    .addHelpText('after', '\nExample:\n  shipgate demo')
    .action(async (opts: { json?: boolean; keep?: boolean }) => {
      const json = Boolean(opts.json);
      const summary = await runDemo({
        progress: json ? undefined : consoleProgress(),
        say: json ? undefined : (text) => line(pc.bold(`\n▸ ${text}`)),
        keep: opts.keep,
      });
      process.exitCode = summary.ok ? ExitCode.ok : ExitCode.failed;
      if (json) return printJson(summary);
      line(pc.bold('\n▸ timeline (from the audit log)'));
      line(table([['TIME', 'ACTION', 'ENV', 'VERSION', 'OUTCOME', 'REASON'], ...summary.timeline.map((t) => [t.at.slice(11, 23), t.action, t.env ?? '-', t.version ?? '-', t.outcome, t.reason ?? ''])]));
      line(`\naudit chain ${summary.auditVerified ? 'verified' : 'BROKEN'}; every demo process ${summary.stopped ? 'stopped' : 'NOT stopped'}${opts.keep ? `; kept ${summary.workDir}` : ''}`);
      line(summary.ok ? pc.green('demo ok: v1.1.0 was caught by its error rate and production is back on v1.0.0') : pc.red('demo failed'));
    });
}
