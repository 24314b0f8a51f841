import type { Command } from 'commander';
import pc from 'picocolors';
import { ExitCode } from '../../core/errors.js';
import { line, printJson } from '../output.js';
import { globalOptions, withContext } from '../shared.js';

export function registerStateCommands(program: Command): void {
  const state = program
    .command('state')
    .description('whether the store is the one this state directory was used with; start a new history on purpose')
    .option('--json', 'print JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      const continuity = await withContext(cmd, async (ctx) => ({ stateDir: ctx.stateDir, dialect: ctx.store.dialect, ...ctx.continuity }), { readOnly: true, startsOver: true });
      process.exitCode = continuity.ok ? ExitCode.ok : ExitCode.failed;
      if (globalOptions(cmd).json) return printJson(continuity);
      line(continuity.ok ? `${pc.green('✓')} store (${continuity.dialect}) matches ${continuity.stateDir}: ${continuity.events} audit events` : `${pc.red('✗')} ${continuity.problem}`);
      for (const e of continuity.evidence) line(`  ${e}`);
    });

  state
    .command('init')
    .description('accept the current store (empty or an older copy) as the history from now on; audited, needs --force and --reason')
    .option('--force', 'start over although the state directory shows earlier use')
    .option('--reason <text>', 'why the history starts over (recorded in the audit log)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate state init --force --reason "state.db lost with the disk, no backup"')
    .action(async (opts: { force?: boolean; reason?: string }, cmd: Command) => {
      const { initState } = await import('../../app/state-init.js');
      const result = await withContext(cmd, (ctx) => initState(ctx, opts), { startsOver: true });
      if (globalOptions(cmd).json) return printJson({ ok: true, ...result });
      line(`new history started (${result.state.events} events kept${result.archivedCheckpoint ? `; old checkpoint kept as ${result.archivedCheckpoint}` : ''})`);
    });
}
