import type { Command } from 'commander';
import pc from 'picocolors';
import type { ShipgateConfig } from '../../config/schema.js';
import { findConfigFile } from '../../config/locate.js';
import { badInput, ExitCode } from '../../core/errors.js';
import { line, printJson } from '../output.js';
import { globalOptions, loadProjectConfig } from '../shared.js';

/** The config when there is one: -c FILE must exist; otherwise none found is fine (default policy). */
async function optionalConfig(explicit: string | undefined, cwd: string): Promise<ShipgateConfig | undefined> {
  if (!explicit && !findConfigFile(cwd)) return undefined;
  return (await loadProjectConfig(explicit, cwd)).config;
}

export function registerWindowCommand(program: Command): void {
  const window = program
    .command('window')
    .description('the deployment window: NYSE calendar (America/New_York), Monday mornings and change freezes');

  window
    .command('check')
    .description('is the deployment window open now (or at --at)? exit 0 when open, 3 when closed')
    .option('--env <env>', 'use this environment\'s window policy (default: the seed policy)')
    .option('--at <time>', 'ISO-8601 time to check instead of now, e.g. 2026-11-24T10:00:00-05:00 (no offset: New York time)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      [
        '',
        'Closed (deploys refused): during the NYSE regular session (09:30-16:00 ET, 13:00 on early-close',
        'days), on trading Mondays before 12:00 ET (window.mondayMorningUntil; null disables) and during',
        'change freezes (calendar.freezes). Open: weekends, NYSE holidays, calendar.closures and outside',
        'the session. Without a shipgate.yml, or for an environment without `window:`, the default policy applies.',
        '',
        'Exit codes: 0 the window is open; 3 it is closed (refused by policy; see nextOpen); 2 bad input.',
        '',
        'Examples:',
        '  shipgate window check --env production',
        '  shipgate window check --at 2026-11-27T12:30:00-05:00 --json',
      ].join('\n'),
    )
    .action(async (opts: { env?: string; at?: string }, cmd: Command) => {
      const [{ deployWindow }, { parseInstant }] = await Promise.all([import('../../app/window.js'), import('../../core/calendar/window.js')]);
      let at = new Date();
      if (opts.at !== undefined) {
        const parsed = parseInstant(opts.at);
        if (!parsed) {
          throw badInput(`--at must be an ISO-8601 time, got ${JSON.stringify(opts.at)}`, {
            where: '--at',
            hint: 'For example --at 2026-11-24T10:00:00-05:00 or --at 2026-11-24T15:00:00Z; a time without an offset is New York time.',
          });
        }
        at = parsed;
      }
      const config = await optionalConfig(globalOptions(cmd).config, process.cwd());
      const d = deployWindow(config, opts.env, at);
      process.exitCode = d.open ? ExitCode.ok : ExitCode.refused;
      if (globalOptions(cmd).json) {
        printJson({
          open: d.open,
          reason: d.reason,
          nextOpen: d.nextOpen,
          at: d.at,
          timezone: d.timezone,
          ...(opts.env !== undefined ? { env: opts.env } : {}),
          rule: d.rule,
          enforced: d.enforced,
          policy: d.policySource,
          ...(d.session ? { session: d.session } : {}),
          ...(d.freeze ? { freeze: d.freeze } : {}),
        });
        return;
      }
      line(`${d.open ? pc.green('OPEN') : pc.red('CLOSED')}  ${d.reason}`);
      line(`  at        ${d.at} (${d.timezone})`);
      if (d.nextOpen) line(`  next open ${d.nextOpen}`);
      line(`  policy    ${d.policySource}`);
    });
}
