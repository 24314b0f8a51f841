import type { Command } from 'commander';
import type { IncidentData } from '../../app/incidents.js';
import { line, printJson, table } from '../output.js';
import { globalOptions, parsePositiveInt, withContext } from '../shared.js';

export function registerIncidentCommands(program: Command): void {
  const incident = program.command('incident').description('incidents opened by rollbacks: trigger, evidence, versions, database actions, timeline');
  incident
    .command('list')
    .option('--env <env>', 'only this environment')
    .option('--json', 'print JSON')
    .action(async (opts: { env?: string }, cmd: Command) => {
      const rows = await withContext(cmd, (ctx) => ctx.store.listIncidents({ ...(opts.env ? { env: opts.env } : {}), limit: 100 }), { runbookEnv: opts.env ?? 'production', readOnly: true });
      if (globalOptions(cmd).json) return printJson({ incidents: rows });
      if (!rows.length) return line('no incidents');
      line(table([['ID', 'OPENED', 'ENV', 'STATE', 'TITLE'], ...rows.map((i) => [String(i.id), i.openedAt, i.env, i.state, (i.data as unknown as IncidentData).title])]));
    });
  incident
    .command('show')
    .argument('<id>')
    .option('--json', 'print JSON')
    .action(async (id: string, _opts, cmd: Command) => {
      const { incidentMarkdown, showIncident } = await import('../../app/incidents.js');
      const view = await withContext(cmd, (ctx) => showIncident(ctx, parsePositiveInt(id, '<id>')), { runbookEnv: 'production', readOnly: true });
      if (globalOptions(cmd).json) return printJson(view);
      line(incidentMarkdown(view));
    });
  incident
    .command('export')
    .description('write docs/INCIDENTS/YYYY-MM-DD-<slug>.md with the seed\'s sections')
    .argument('<id>')
    .option('--dir <dir>', 'directory, relative to shipgate.yml', 'docs/INCIDENTS')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  shipgate incident export 3')
    .action(async (id: string, opts: { dir: string }, cmd: Command) => {
      const { exportIncident } = await import('../../app/incidents.js');
      const file = await withContext(cmd, (ctx) => exportIncident(ctx, parsePositiveInt(id, '<id>'), opts.dir), { runbookEnv: 'production' });
      if (globalOptions(cmd).json) return printJson({ ok: true, file });
      line(`wrote ${file}`);
    });
}
