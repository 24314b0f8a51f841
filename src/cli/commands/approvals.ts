import type { Command } from 'commander';
import pc from 'picocolors';
import { readFileSync } from 'node:fs';
import { badInput } from '../../core/errors.js';
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
      const { listApprovals } = await import('../../app/approvals.js');
      const rows = await withContext(cmd, (ctx) => listApprovals(ctx, opts.env, Boolean(opts.all)), { runbookEnv: opts.env ?? 'production', readOnly: true });
      if (globalOptions(cmd).json) return printJson({ approvals: rows });
      if (!rows.length) return line('no open approval requests');
      line(table([['ID', 'ENV', 'FOR', 'SUBJECT', 'REQUESTER', 'STATE', 'APPROVED BY', 'EXPIRES', 'REASON'], ...rows.map((a) => [String(a.id), a.env, a.action, a.subject, a.requester, a.state === 'approved' ? pc.green(a.state) : a.state, `${a.approvers.map((x) => x.by).join(', ') || '-'} (${a.approvers.length}/${a.required})`, a.expiresAt, a.reason])]));
    });

  program
    .command('approve')
    .description('approve a request with proof of who you are (an SSH signature); the requester cannot approve their own, and each approver counts once')
    .argument('<request-id>', 'from `shipgate approvals`')
    .option('--sign-with <key>', 'sign the request with this private SSH key (its public key must be in approvals.allowedSigners)')
    .option('--signature <file>', 'a signature made elsewhere over `--print-request` (ssh-keygen -Y sign -n shipgate-approval)')
    .option('--print-request', 'print the exact text to sign, and do nothing else')
    .option('--by <name>', 'who approves: only with approvals.identity: trust-local (a name proves nothing)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  shipgate approve 7 --sign-with ~/.ssh/id_ed25519\n  shipgate approve 7 --print-request > req.txt && ssh-keygen -Y sign -f ~/.ssh/id_ed25519 -n shipgate-approval req.txt\n  shipgate approve 7 --signature req.txt.sig\n  shipgate approve 7 --by alice          # only under approvals.identity: trust-local')
    .action(async (id: string, opts: { by?: string; signWith?: string; signature?: string; printRequest?: boolean }, cmd: Command) => {
      const requestId = parsePositiveInt(id, '<request-id>');
      if (opts.signWith && opts.signature) throw badInput('give --sign-with or --signature, not both', { where: '--signature', hint: 'One signature per approval.' });
      const { approvalText, approve } = await import('../../app/approvals.js');
      if (opts.printRequest) {
        const text = await withContext(cmd, (ctx) => approvalText(ctx, requestId), { runbookEnv: 'production', readOnly: true });
        return void process.stdout.write(text);
      }
      const signature = opts.signature !== undefined ? readSignature(opts.signature) : undefined;
      const approval = await withContext(cmd, (ctx) => approve(ctx, requestId, { by: opts.by, signWith: opts.signWith, signature }), { runbookEnv: 'production' });
      if (globalOptions(cmd).json) return printJson({ ok: true, approval });
      const mine = approval.approvers.at(-1)!;
      line(`${mine.by} (${mine.identity?.method ?? 'name'}) approved #${approval.id} (${approval.action} ${approval.subject} in ${approval.env}): ${approval.approvers.length}/${approval.required}${approval.state === 'approved' ? ' — approved' : ''}`);
    });

  program
    .command('sign-request')
    .description('the requester proves who asked by signing their approval request; under approvals.identity: signature nobody can approve an unsigned one')
    .argument('<request-id>', 'from `shipgate approvals` or the refusal that opened it')
    .option('--sign-with <key>', 'sign with this private SSH key (its public key must be in approvals.allowedSigners)')
    .option('--signature <file>', 'a signature made elsewhere over `--print-request` (ssh-keygen -Y sign -n shipgate-approval)')
    .option('--print-request', 'print the exact text to sign, and do nothing else')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  shipgate sign-request 7 --sign-with ~/.ssh/id_ed25519\n  shipgate sign-request 7 --print-request > req.txt && ssh-keygen -Y sign -f ~/.ssh/id_ed25519 -n shipgate-approval req.txt\n  shipgate sign-request 7 --signature req.txt.sig')
    .action(async (id: string, opts: { signWith?: string; signature?: string; printRequest?: boolean }, cmd: Command) => {
      const requestId = parsePositiveInt(id, '<request-id>');
      if (opts.signWith && opts.signature) throw badInput('give --sign-with or --signature, not both', { where: '--signature', hint: 'One signature per request.' });
      const { approvalText, signRequest } = await import('../../app/approvals.js');
      if (opts.printRequest) {
        const text = await withContext(cmd, (ctx) => approvalText(ctx, requestId, 'requester'), { runbookEnv: 'production', readOnly: true });
        return void process.stdout.write(text);
      }
      const signature = opts.signature !== undefined ? readSignature(opts.signature) : undefined;
      const approval = await withContext(cmd, (ctx) => signRequest(ctx, requestId, { signWith: opts.signWith, signature }), { runbookEnv: 'production' });
      if (globalOptions(cmd).json) return printJson({ ok: true, approval });
      line(`${approval.requesterIdentity!.principal} signed request #${approval.id} (${approval.action} ${approval.subject} in ${approval.env}); approvals by other keys now count`);
    });
}

function readSignature(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw badInput(`cannot read the signature ${file}: ${(err as Error).message}`, { where: '--signature', hint: 'Give the .sig file ssh-keygen -Y sign wrote.' });
  }
}
