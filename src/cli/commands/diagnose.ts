import type { Command } from 'commander';
import pc from 'picocolors';
import { ExitCode } from '../../core/errors.js';
import { line, printJson } from '../output.js';
import { globalOptions, withContext } from '../shared.js';

export function registerDiagnoseCommand(program: Command): void {
  program
    .command('diagnose')
    .description('the seeds\' common issues for an environment: services that will not start, port conflicts, unset variables, failed migrations, database, breaker, disk, recent commits; each with the next command')
    .argument('<env>', 'environment name')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate diagnose production')
    .action(async (env: string, _opts, cmd: Command) => {
      const { diagnose } = await import('../../app/diagnose.js');
      const findings = await withContext(cmd, (ctx) => {
        ctx.environment(env);
        return diagnose(ctx, env);
      });
      const errors = findings.filter((f) => f.severity === 'error').length;
      process.exitCode = errors ? ExitCode.failed : ExitCode.ok;
      if (globalOptions(cmd).json) return printJson({ env, findings });
      for (const f of findings) {
        const mark = f.severity === 'error' ? pc.red('✗') : f.severity === 'warning' ? pc.yellow('!') : pc.dim('·');
        line(`${mark} ${f.title}`);
        for (const e of f.evidence.slice(0, 8)) line(pc.dim(`    ${e}`));
        line(`    next: ${pc.cyan(f.next)}`);
      }
      line(errors ? pc.red(`${errors} problem${errors > 1 ? 's' : ''} found`) : pc.green('no problems found'));
    });
}
