import type { Command } from 'commander';
import pc from 'picocolors';
import { formatDuration } from '../../core/duration.js';
import { ExitCode } from '../../core/errors.js';
import { line, printJson, table } from '../output.js';
import { globalOptions, parsePositiveInt, withContext } from '../shared.js';

export function registerDatabaseCommands(program: Command): void {
  program
    .command('backup')
    .description('dump an environment\'s PostgreSQL database (pg_dump -Fc), verify it reads back, record it')
    .argument('<env>', 'environment name from shipgate.yml')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nThe database URL is read from the variable environments.<env>.database.urlEnv names.\n\nExample:\n  shipgate backup production')
    .action(async (env: string, _opts: unknown, cmd: Command) => {
      const { takeBackup } = await import('../../app/database.js');
      const backup = await withContext(cmd, (ctx) => takeBackup(ctx, env));
      if (globalOptions(cmd).json) return printJson({ ok: true, backup });
      line(`${pc.green('✓')} backup #${backup.id} of ${env}: ${backup.file} (${formatBytes(backup.sizeBytes)}, ${backup.verifiedEntries} entries verified, sha256 ${backup.sha256.slice(0, 12)}…)`);
    });

  program
    .command('backups')
    .description('list recorded database backups, newest first')
    .option('--env <env>', 'only this environment')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate backups --env production')
    .action(async (opts: { env?: string; limit: string }, cmd: Command) => {
      const limit = parsePositiveInt(opts.limit, '--limit');
      const { listBackups } = await import('../../app/database.js');
      const backups = await withContext(cmd, (ctx) => listBackups(ctx, { env: opts.env, limit }), { readOnly: true });
      if (globalOptions(cmd).json) return printJson({ backups });
      if (!backups.length) return line('no backups recorded');
      line(table([['ID', 'ENV', 'TAKEN', 'SIZE', 'ENTRIES', 'DEPLOYMENT', 'FILE'], ...backups.map((b) => [String(b.id), b.env, b.createdAt, formatBytes(b.sizeBytes), String(b.verifiedEntries), b.deploymentId === null ? '-' : `#${b.deploymentId}`, b.present ? b.file : pc.red(`${b.file} (missing)`)])]));
    });

  program
    .command('restore')
    .description('restore a recorded backup into an environment\'s database; refused (exit 3) when data written since would be lost')
    .argument('<env>', 'environment name from shipgate.yml')
    .requiredOption('--backup <id>', 'backup to restore (see `shipgate backups`)')
    .option('--accept-data-loss', 'restore even though rows written since the backup (or an old backup) are lost')
    .option('--reason <text>', 'why, for the audit log')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nHolds the environment\'s lock while it runs; the whole restore is one transaction.\n\nExamples:\n  shipgate restore production --backup 12\n  shipgate restore production --backup 12 --accept-data-loss --reason "bad migration 0042"')
    .action(async (env: string, opts: { backup: string; acceptDataLoss?: boolean; reason?: string }, cmd: Command) => {
      const backupId = parsePositiveInt(opts.backup, '--backup');
      const { restoreUnderLock } = await import('../../app/database-restore.js');
      const result = await withContext(cmd, (ctx) => restoreUnderLock(ctx, env, backupId, { acceptDataLoss: opts.acceptDataLoss, reason: opts.reason }));
      const ok = result.integrity?.ok ?? true;
      process.exitCode = ok ? ExitCode.ok : ExitCode.failed;
      if (globalOptions(cmd).json) return printJson({ ok, ...result });
      line(`${pc.green('✓')} restored backup #${result.backup.id} (${result.backup.createdAt}) into ${env} in ${formatDuration(result.durationMs)}${result.acceptedDataLoss && result.dataLoss.wouldLoseData ? pc.yellow(' (data loss accepted)') : ''}`);
      if (result.removed.length) line(`  removed objects created after the backup: ${result.removed.join(', ')}`);
      if (result.notRemoved.length) line(pc.yellow(`  could not remove: ${result.notRemoved.map((n) => `${n.object} (${n.error})`).join(', ')}`));
      if (result.integrity) {
        const i = result.integrity;
        line(i.ok ? `${pc.green('✓')} integrity check passed` : `${pc.red('✗')} integrity check failed (exit ${i.exitCode}):\n${i.output.split('\n').slice(-20).join('\n')}`);
      }
    });
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
