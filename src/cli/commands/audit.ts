import type { Command } from 'commander';
import pc from 'picocolors';
import { ExitCode } from '../../core/errors.js';
import { line, printJson, table } from '../output.js';
import { globalOptions, parsePositiveInt, withContext } from '../shared.js';

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('the append-only, hash-chained log of every mutating operation')
    .option('--env <env>', 'only events of this environment')
    .option('--limit <n>', 'only the last n events')
    .option('--verify', 'check the hash chain; exits 1 naming the first altered or missing event')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  shipgate audit --env production --limit 20\n  shipgate audit --verify')
    .action(async (opts: { env?: string; limit?: string; verify?: boolean }, cmd: Command) => {
      const json = Boolean(globalOptions(cmd).json);
      const limit = opts.limit ? parsePositiveInt(opts.limit, '--limit') : undefined;
      await withContext(cmd, async (ctx) => {
        if (opts.verify) {
          const v = await ctx.store.verifyAudit();
          process.exitCode = v.ok ? ExitCode.ok : ExitCode.failed;
          if (json) printJson(v);
          else line(v.ok ? `${pc.green('✓')} audit log intact: ${v.checked} events, hash chain verified` : `${pc.red('✗')} audit log broken at event ${v.firstBadSeq}: ${v.problem} (${v.checked} events before it verified)`);
          return;
        }
        const events = await ctx.store.listAudit({ env: opts.env, limit });
        if (json) return printJson({ events });
        line(table([['SEQ', 'TIME', 'ACTOR', 'ACTION', 'ENV', 'VERSION', 'OUTCOME', 'REASON'], ...events.map((e) => [String(e.seq), e.at, e.actor, e.action, e.env ?? '-', e.version ?? '-', e.outcome, e.reason ?? ''])]));
      }, { runbookEnv: opts.env ?? 'production' });
    });
}
