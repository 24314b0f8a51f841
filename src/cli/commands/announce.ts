import type { Command } from 'commander';
import { line, printJson } from '../output.js';
import { globalOptions, withContext } from '../shared.js';

export function registerAnnounceCommand(program: Command): void {
  program
    .command('announce')
    .description('tell stakeholders a release is coming (the seed\'s "Stakeholders notified"); preflight counts a delivered announcement')
    .argument('<version>', 'release')
    .option('--env <env>', 'target environment', 'production')
    .requiredOption('--message <text>', 'e.g. "Deploying v1.3.0 to production at 6pm ET (after market close)"')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate announce v1.3.0 --message "Deploying v1.3.0 to production at 6pm ET (after market close)"')
    .action(async (version: string, opts: { env: string; message: string }, cmd: Command) => {
      const { announceRelease } = await import('../../app/announce.js');
      await withContext(cmd, (ctx) => announceRelease(ctx, { version, env: opts.env, message: opts.message }));
      // withContext waited for the deliveries; each is in the audit log as notify.sent or notify.failed.
      if (globalOptions(cmd).json) printJson({ ok: true, version, env: opts.env });
      else line(`announced ${version} for ${opts.env}; delivery results are in \`shipgate audit --limit 5\``);
    });
}
