import type { Command } from 'commander';
import pc from 'picocolors';
import { ExitCode } from '../../core/errors.js';
import { line, printJson } from '../output.js';
import { globalOptions, withContext } from '../shared.js';

export function registerStopCommand(program: Command): void {
  program
    .command('stop')
    .description('stop every service shipgate started in an environment (locked and audited like a deploy; status then shows it stopped)')
    .argument('<env>', 'environment name from shipgate.yml')
    .requiredOption('--reason <text>', 'why: recorded in the audit log')
    .option('--json', 'print the outcome as JSON')
    .addHelpText('after', '\nExamples:\n  shipgate stop staging --reason "free the ports for a load test"\n  shipgate rollback staging --reason "start again"   # starts the last good version')
    .action(async (env: string, opts: { reason?: string }, cmd: Command) => {
      const { stopEnvironment } = await import('../../app/stop.js');
      const outcome = await withContext(cmd, (ctx) => stopEnvironment(ctx, env, opts.reason));
      process.exitCode = outcome.ok ? ExitCode.ok : ExitCode.failed;
      if (globalOptions(cmd).json) return printJson(outcome);
      if (!outcome.ok) return line(`${pc.red('✗')} stopping ${env} failed: ${outcome.error ?? ''}`);
      line(`${pc.green('✓')} ${env} stopped${outcome.stoppedVersion ? ` (was running ${outcome.stoppedVersion})` : ''} (#${outcome.deploymentId})`);
      if (outcome.strays.length) line(`  also stopped, not on record: ${outcome.strays.map((s) => `pid ${s.pid} (${s.command})`).join(', ')}`);
    });
}
