import type { Command } from 'commander';
import pc from 'picocolors';
import { approve, listApprovals } from '../../app/approvals.js';
import { line, printJson, table } from '../output.js';
import { globalOptions, parsePositiveInt, withContext } from '../shared.js';

export function registerApprovalCommands(program: Command): void {
  program
    .command('approvals')
    .description('open approval requests (an emergency promotion, a breaker reset, turning the kill switch off)')
    .option('--env <env>', 'only this environment')
    .option('--all', 'also used and expired ones')
    .option('--json', 'print JSON')
    .action(async (opts: { env?: string; all?: boolean }, cmd: Command) => {
      const rows = await withContext(cmd, (ctx) => listApprovals(ctx, opts.env, Boolean(opts.all)), { runbookEnv: opts.env ?? 'production', readOnly: true });
      if (globalOptions(cmd).json) return printJson({ approvals: rows });
      if (!rows.length) return line('no open approval requests');
      line(table([['ID', 'ENV', 'FOR', 'SUBJECT', 'REQUESTER', 'STATE', 'APPROVED BY', 'EXPIRES', 'REASON'], ...rows.map((a) => [String(a.id), a.env, a.action, a.subject, a.requester, a.state === 'approved' ? pc.green(a.state) : a.state, `${a.approvers.map((x) => x.by).join(', ') || '-'} (${a.approvers.length}/${a.required})`, a.expiresAt, a.reason])]));
    });

  program
    .command('approve')
    .description('approve a request; the requester cannot approve their own, and each approver counts once')
    .argument('<request-id>', 'from `shipgate approvals`')
    .requiredOption('--by <name>', 'who approves')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate approve 7 --by alice')
    .action(async (id: string, opts: { by: string }, cmd: Command) => {
      const approval = await withContext(cmd, (ctx) => approve(ctx, parsePositiveInt(id, '<request-id>'), opts.by), { runbookEnv: 'production' });
      if (globalOptions(cmd).json) return printJson({ ok: true, approval });
      line(`${opts.by} approved #${approval.id} (${approval.action} ${approval.subject} in ${approval.env}): ${approval.approvers.length}/${approval.required}${approval.state === 'approved' ? ' — approved' : ''}`);
    });
}
