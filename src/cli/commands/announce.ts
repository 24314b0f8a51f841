import type { Command } from 'commander';
import { badInput } from '../../core/errors.js';
import { assertVersionSyntax } from '../../core/version.js';
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
      assertVersionSyntax(version);
      const [{ record }, { notify }] = await Promise.all([import('../../app/audit.js'), import('../../app/notify.js')]);
      await withContext(cmd, async (ctx) => {
        ctx.environment(opts.env);
        if (!ctx.config.notifications.length) throw badInput('no notifications are configured', { where: 'shipgate.yml: notifications', hint: 'Add a slack or webhook notifier, or attest instead: shipgate preflight VERSION --attest stakeholders-notified --by NAME.' });
        await record(ctx, { action: 'release.announce', outcome: 'sending', env: opts.env, version, reason: opts.message });
        notify(ctx, { event: 'release.announced', env: opts.env, version, reason: opts.message });
      });
      // withContext waited for the deliveries; each is in the audit log as notify.sent or notify.failed.
      if (globalOptions(cmd).json) printJson({ ok: true, version, env: opts.env });
      else line(`announced ${version} for ${opts.env}; delivery results are in \`shipgate audit --limit 5\``);
    });
}
