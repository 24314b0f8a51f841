import type { Command } from 'commander';
import pc from 'picocolors';
import { line, printJson, table } from '../output.js';
import { globalOptions, parsePositiveInt, withContext } from '../shared.js';

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('API tokens for `serve --http`: each names a person and a role (viewer < deployer < approver < admin)');

  token
    .command('create')
    .description('create a token; it is printed once and only its salted hash is stored')
    .requiredOption('--name <name>', 'whose token it is: approvals and the audit log record this name')
    .requiredOption('--role <role>', 'viewer, deployer, approver or admin')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate token create --name alice --role deployer')
    .action(async (opts: { name: string; role: string }, cmd: Command) => {
      const { createToken, checkTokenRequest } = await import('../../app/tokens.js');
      checkTokenRequest(opts.name, opts.role);
      const made = await withContext(cmd, (ctx) => createToken(ctx, opts));
      if (globalOptions(cmd).json) return printJson({ ok: true, token: made.token, ...made.view });
      line(`token #${made.view.id} for ${made.view.name} (${made.view.role}):`);
      line(made.token);
      line(pc.yellow('It is shown only now: shipgate keeps a salted hash, not the token.'));
    });

  token
    .command('list')
    .description('tokens: id, owner, role, created, revoked (never the secret)')
    .option('--all', 'also revoked ones')
    .option('--json', 'print JSON')
    .action(async (opts: { all?: boolean }, cmd: Command) => {
      const { listTokens } = await import('../../app/tokens.js');
      const rows = await withContext(cmd, (ctx) => listTokens(ctx, Boolean(opts.all)), { readOnly: true });
      if (globalOptions(cmd).json) return printJson({ tokens: rows });
      if (!rows.length) return line('no API tokens: create one with `shipgate token create --name NAME --role viewer`');
      line(table([['ID', 'NAME', 'ROLE', 'CREATED', 'BY', 'REVOKED'], ...rows.map((t) => [String(t.id), t.name, t.role, t.createdAt, t.createdBy, t.revokedAt ?? '-'])]));
    });

  token
    .command('revoke')
    .description('revoke a token at once: its requests and browser sessions are refused from then on')
    .argument('<token-id>', 'from `shipgate token list`')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { reason?: string }, cmd: Command) => {
      const tokenId = parsePositiveInt(id, '<token-id>');
      const { revokeToken } = await import('../../app/tokens.js');
      const view = await withContext(cmd, (ctx) => revokeToken(ctx, tokenId, opts.reason));
      if (globalOptions(cmd).json) return printJson({ ok: true, ...view });
      line(`token #${view.id} (${view.name}, ${view.role}) revoked at ${view.revokedAt}`);
    });
}
