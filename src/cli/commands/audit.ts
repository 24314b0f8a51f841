import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import type { AuditVerification } from '../../adapters/store/store.js';
import { ExitCode } from '../../core/errors.js';
import { line, printJson, table } from '../output.js';
import { globalOptions, parsePositiveInt, withContext } from '../shared.js';

export function registerAuditCommand(program: Command): void {
  const audit = program
    .command('audit')
    .description('the append-only, hash-chained and keyed log of every mutating operation')
    .option('--env <env>', 'only events of this environment')
    .option('--limit <n>', 'only the last n events')
    .option('--verify', 'check the chain, every MAC and the checkpointed head; exits 1 naming what was cut, altered or forged')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  shipgate audit --env production --limit 20\n  shipgate audit --verify\n  shipgate audit export --to /mnt/worm/shipgate-audit.jsonl')
    .action(async (opts: { env?: string; limit?: string; verify?: boolean }, cmd: Command) => {
      const json = Boolean(globalOptions(cmd).json);
      const limit = opts.limit ? parsePositiveInt(opts.limit, '--limit') : undefined;
      await withContext(cmd, async (ctx) => {
        if (opts.verify) {
          const v = await ctx.store.verifyAudit();
          process.exitCode = v.ok ? ExitCode.ok : ExitCode.failed;
          if (json) printJson(v);
          else line(describeVerification(v));
          return;
        }
        const events = await ctx.store.listAudit({ env: opts.env, limit });
        if (json) return printJson({ events });
        line(table([['SEQ', 'TIME', 'ACTOR', 'ACTION', 'ENV', 'VERSION', 'OUTCOME', 'REASON'], ...events.map((e) => [String(e.seq), e.at, e.actor, e.action, e.env ?? '-', e.version ?? '-', e.outcome, e.reason ?? ''])]));
      }, { runbookEnv: opts.env ?? 'production', readOnly: true });
    });

  audit
    .command('export')
    .description('write every event as JSON lines (with hashes and MACs) to a file or stdout, for an append-only sink')
    .requiredOption('--to <file>', 'a file to append to, or - for stdout')
    .option('--since <seq>', 'only events after this sequence number (what the sink already has)')
    .addHelpText('after', '\nExamples:\n  shipgate audit export --to - | logger -t shipgate-audit\n  shipgate audit export --to /mnt/worm/audit.jsonl --since 1200')
    .action(async (opts: { to: string; since?: string }, cmd: Command) => {
      const sinceSeq = opts.since !== undefined ? (opts.since === '0' ? 0 : parsePositiveInt(opts.since, '--since')) : undefined;
      await withContext(cmd, async (ctx) => {
        const events = await ctx.store.listAudit(sinceSeq !== undefined ? { sinceSeq } : {});
        const text = events.map((e) => `${JSON.stringify(e)}\n`).join('');
        if (opts.to === '-') return void process.stdout.write(text);
        // Append, never truncate: the sink keeps what it had even if the table was cut since.
        await new Promise<void>((resolve, reject) => {
          const out = createWriteStream(opts.to, { flags: 'a', mode: 0o600 });
          out.on('error', reject);
          out.end(text, () => resolve());
        });
        if (!globalOptions(cmd).json) line(`exported ${events.length} events to ${opts.to}`);
        else printJson({ exported: events.length, to: opts.to });
      }, { runbookEnv: 'production', readOnly: true });
    });
}

function describeVerification(v: AuditVerification): string {
  if (!v.ok) return `${pc.red('✗')} audit log ${v.kind ?? 'broken'}${v.firstBadSeq !== undefined ? ` at event ${v.firstBadSeq}` : ''}: ${v.problem} (${v.checked} events before it verified)`;
  const parts = [`${pc.green('✓')} audit log intact: ${v.checked} events, hash chain verified`];
  if (v.keyed !== undefined) parts.push(`${v.keyed} with a valid MAC`);
  if (v.checkpoint) parts.push(`head matches the checkpoint (event ${v.checkpoint.seq})`);
  let text = parts.join(', ');
  if (v.unkeyed) text += `\n  ${pc.yellow('!')} ${v.unkeyed} older events are unkeyed (written before MACs): their chain is checked, but a rewrite of them with recomputed hashes cannot be ruled out`;
  return text;
}
