import type { Command } from 'commander';
import pc from 'picocolors';
import { line, printJson, table } from '../output.js';
import { globalOptions, withContext } from '../shared.js';

/** Loaded when a lock command runs, not for --help. */
const manualLock = () => import('../../app/manual-lock.js');

export function registerLockCommands(program: Command): void {
  const lock = program.command('lock').description('environment locks: one per environment, with owner, reason and lease');

  lock
    .command('status')
    .description('show who holds each environment\'s lock')
    .option('--json', 'print JSON')
    .action(async (_opts, cmd: Command) => {
      const rows = await withContext(cmd, async (ctx) => (await manualLock()).lockStatus(ctx), { readOnly: true });
      if (globalOptions(cmd).json) return printJson({ locks: rows });
      line(table([['ENV', 'STATE', 'HOLDER', 'REASON', 'SINCE', 'LEASE UNTIL'], ...rows.map((r) => [r.env, r.locked ? (r.stale ? pc.yellow('stale') : pc.red('locked')) : pc.green('free'), r.lock?.actor ?? '-', r.lock?.reason ?? '-', r.lock?.acquiredAt ?? '-', r.lock?.leaseUntil ?? '-'])]));
    });

  lock
    .command('acquire')
    .description('hold an environment so no deploy or rollback runs there')
    .argument('<env>', 'environment name')
    .requiredOption('--reason <text>', 'why')
    .option('--lease <duration>', 'how long the hold lasts', '1h')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate lock acquire production --reason "incident 42" --lease 2h')
    .action(async (env: string, opts: { reason?: string; lease: string }, cmd: Command) => {
      const held = await withContext(cmd, async (ctx) => (await manualLock()).acquireManualLock(ctx, env, opts.reason, opts.lease));
      if (globalOptions(cmd).json) printJson({ ok: true, lock: held });
      else line(`${env} locked by ${held.actor} until ${held.leaseUntil}`);
    });

  lock
    .command('release')
    .description('release your hold; --force breaks anyone\'s (recorded)')
    .argument('<env>', 'environment name')
    .option('--force', 'break a lock held by someone else or by a dead process')
    .option('--reason <text>', 'why (required with --force)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate lock release production --force --reason "deploy process was killed"')
    .action(async (env: string, opts: { force?: boolean; reason?: string }, cmd: Command) => {
      const res = await withContext(cmd, async (ctx) => (await manualLock()).releaseManualLock(ctx, env, opts));
      if (globalOptions(cmd).json) printJson({ ok: true, ...res });
      else line(res.released ? `${env} released (was held by ${res.holder?.actor}: ${res.holder?.reason})` : `${env} was not locked`);
    });
}
